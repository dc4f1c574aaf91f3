"""Key bindings beyond prompt-toolkit's emacs defaults (which bring Ctrl-R reverse search)."""

from prompt_toolkit.key_binding import KeyBindings


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

    return bindings
