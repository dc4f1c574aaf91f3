"""Grey suggestions as the user types, from lines that ran without error only (a typo that failed is never
offered again), in this session and in earlier ones."""

from pathlib import Path

from prompt_toolkit.auto_suggest import AutoSuggest, Suggestion

KEPT_LINES = 5000


class SucceededSuggest(AutoSuggest):
    """Suggests the newest succeeded line that starts with what is typed; ``remember`` adds one."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.lines = self.path.read_text(encoding="utf-8").splitlines()[-KEPT_LINES:]
        except (OSError, UnicodeDecodeError):
            self.lines = []

    def get_suggestion(self, buffer, document) -> Suggestion | None:
        typed = document.text.rsplit("\n", 1)[-1]
        if not typed.strip():
            return None
        for line in reversed(self.lines):
            if line.startswith(typed) and line != typed:
                return Suggestion(line[len(typed) :])
        return None

    def remember(self, line: str) -> None:
        line = line.strip()
        if not line or "\n" in line:
            return
        self.lines.append(line)
        try:
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
        except OSError:  # a read-only home: suggestions still work for this session
            pass
