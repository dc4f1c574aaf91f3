"""Key bindings beyond prompt-toolkit's emacs defaults (which bring Ctrl-R reverse search)."""

from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.keys import Keys


class PastedLines(list):
    """What the prompt returns when a block of lines is pasted: the lines, each to run in turn."""


def shell_bindings() -> KeyBindings:
    """The shell's own key bindings on top of prompt-toolkit's (Emacs) defaults."""
    bindings = KeyBindings()

    @bindings.add("c-c")
    def _clear_line(event) -> None:
        """Ctrl-C at the prompt drops the line being typed, like bash; the shell keeps running."""
        event.app.current_buffer.reset()

    @bindings.add("c-space")
    def _open_completions(event) -> None:
        buffer = event.app.current_buffer
        if buffer.complete_state:
            buffer.complete_next()
        else:
            buffer.start_completion(select_first=False)

    @bindings.add(Keys.BracketedPaste)
    def _paste(event) -> None:
        """A pasted block of lines runs line by line, as a script would (the terminal marks a paste); one
        pasted line is inserted as if typed."""
        data = event.data.replace("\r\n", "\n").replace("\r", "\n")
        buffer = event.app.current_buffer
        if "\n" not in data.strip("\n"):
            buffer.insert_text(data.strip("\n"))
            return
        before, after = buffer.text[: buffer.cursor_position], buffer.text[buffer.cursor_position :]
        event.app.exit(result=PastedLines((before + data + after).split("\n")))

    return bindings
