"""Small helpers shared by tests."""

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from neuroshell.sessions.ui import render_plain


class RecordingUI:
    """A UI that keeps what verbs showed, as plain text lines, for assertions."""

    def __init__(self) -> None:
        self.results: list = []
        self.lines: list[str] = []
        self.errors: list[str] = []
        self.progress_updates: list[tuple[str, float]] = []
        self.live_updates: list = []

    def show(self, result) -> None:
        if isinstance(result, list | tuple):
            for item in result:
                self.show(item)
            return
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

    @contextmanager
    def live(self):
        ui = self

        class View:
            def update(self, result) -> None:
                ui.live_updates.append(result)

        yield View()
        if self.live_updates:
            self.show(self.live_updates[-1])

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


ROOT = Path(__file__).resolve().parents[1]


def start_writer(path: Path, mode: str = "run") -> subprocess.Popen:
    """Start tests/writer_process.py recording a known ramp into ``path``; returns once the file exists."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "writer_process.py"), str(path), mode],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout.readline().strip() == "ready"
    return process


def read_flushed_until(process: subprocess.Popen, at_least: int) -> int:
    """Read the writer's reports until at least ``at_least`` samples are flushed; return that count."""
    flushed = 0
    while flushed < at_least:
        line = process.stdout.readline()
        assert line, "writer process ended early"
        flushed = int(line.split()[1])
    return flushed
