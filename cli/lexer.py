"""A pygments lexer for the command language: verbs, options, quantities, strings, paths, comments."""

import re

from pygments.lexer import RegexLexer, bygroups
from pygments.token import Comment, Error, Keyword, Name, Number, Operator, String, Text, Whitespace

UNIT = r"(?:[GMkmunpµ]?(?:Hz|Ohm|s|V|A|S|F)|min|h)"
NUMBER = rf"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?{UNIT}?(?=\s|$|[,:])"


def command_lexer(verbs: list[str]) -> RegexLexer:
    """A lexer that knows the given first words (verbs, groups and aliases)."""
    known = "|".join(re.escape(v) for v in sorted(verbs, key=len, reverse=True)) or r"(?!x)x"

    class CommandLexer(RegexLexer):
        """Highlights a command line as it is typed."""

        name = "neuroshell"
        aliases = ["neuroshell", "nsh"]
        filenames = ["*.nsh"]
        tokens = {
            "root": [
                (r"\s+", Whitespace),
                (r"#.*$", Comment.Single),
                (rf"({known})(?=\s|$)", Keyword, "arguments"),
                (r"[^\s#]+", Error, "arguments"),
            ],
            "arguments": [
                (r"\n", Whitespace, "#pop"),
                (r"[ \t]+", Whitespace),
                (r"#.*$", Comment.Single),
                (r'"[^"]*"?', String.Double),
                (r"'[^']*'?", String.Single),
                (r"(--[\w.-]+)(=?)", bygroups(Name.Attribute, Operator)),
                (r"([\w.]+)(=)", bygroups(Name.Variable, Operator)),
                (r"[^\s:]+:/[^\s]*", Name.Namespace),
                (NUMBER, Number),
                (r";", Operator, "#pop"),
                (r"[^\s;#]+", Text),
            ],
        }

    return CommandLexer()


TOKEN_STYLES = {
    Keyword: "bold #5fafff",
    Name.Attribute: "#d7875f",
    Name.Variable: "#d7875f",
    Name.Namespace: "#87d787",
    Number: "#d7d75f",
    String: "#87afaf",
    Comment: "italic #808080",
    Error: "#ff5f5f",
}


def style_for(token: object) -> str:
    """The style of a pygments token type, or of its nearest parent type that has one."""
    while token is not None:
        if token in TOKEN_STYLES:
            return TOKEN_STYLES[token]
        token = token.parent
    return ""


def highlight_to_text(line: str, verbs: list[str]):
    """The line as a rich Text coloured by the command lexer (used by ``history``)."""
    from rich.text import Text as RichText

    text = RichText()
    for token, value in command_lexer(verbs).get_tokens(line):
        text.append(value.rstrip("\n"), style=style_for(token))
    return text
