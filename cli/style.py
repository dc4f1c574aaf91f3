"""Colours of the prompt, toolbar and highlighted command words."""

from prompt_toolkit.styles import Style, merge_styles, style_from_pygments_dict

from neuroshell.cli.lexer import TOKEN_STYLES

UI_STYLE = {
    "prompt": "bold #5fafff",
    "bottom-toolbar": "bg:#262626 #bcbcbc noreverse",
    "toolbar.label": "bg:#262626 #808080",
    "toolbar.ok": "bg:#262626 #87d787",
    "toolbar.warn": "bg:#262626 #ffaf5f bold",
    "toolbar.bad": "bg:#262626 #ff5f5f bold",
}


def shell_style() -> Style:
    """The prompt's colours: prompt, toolbar levels, highlighted tokens."""
    return merge_styles([style_from_pygments_dict(TOKEN_STYLES), Style.from_dict(UI_STYLE)])
