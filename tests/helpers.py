"""Small helpers shared by tests."""

from contextlib import contextmanager

from neuroshell.sessions.ui import render_plain


class RecordingUI:
    """A UI that keeps what verbs showed, as plain text lines, for assertions."""

    def __init__(self) -> None:
        self.results: list = []
        self.lines: list[str] = []
        self.errors: list[str] = []
        self.progress_updates: list[tuple[str, float]] = []

    def show(self, result) -> None:
        if result is not None:
            self.results.append(result)
        self.lines += render_plain(result)

    def error(self, text: str) -> None:
        self.errors.append(text)

    @contextmanager
    def progress(self, description: str, total):
        ui = self

        class Handle:
            done = 0.0

            def advance(self, amount: float = 1) -> None:
                self.done += amount
                ui.progress_updates.append((description, self.done))

            def update(self, completed: float, description_: str | None = None) -> None:
                self.done = completed
                ui.progress_updates.append((description, completed))

        yield Handle()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)
