"""How verbs talk to the user while they run; the shell provides a rich implementation."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TextIO

from neuroshell.sessions.output import ClearScreen, Commands, Message, Paged, Table, Tree


class Progress(Protocol):
    """What a long verb reports its progress through."""

    def advance(self, amount: float = 1) -> None: ...

    def update(self, completed: float, description: str | None = None) -> None: ...


class UI(Protocol):
    """How verbs show results, errors, progress and live views; the shell gives a rich one."""

    def show(self, result: Any) -> None: ...

    def error(self, text: str) -> None: ...

    def progress(self, description: str, total: float | None) -> Any:
        """A context manager yielding a ``Progress``."""
        ...

    def live(self) -> Any:
        """A context manager yielding an object whose ``update(result)`` redraws a live view."""
        ...


class _SilentProgress:
    def advance(self, amount: float = 1) -> None:
        pass

    def update(self, completed: float, description: str | None = None) -> None:
        pass


class PlainUI:
    """Text output for library use and pipes: tables as tab-separated lines."""

    def __init__(self, stream: TextIO | None = None, errors: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.errors = errors or sys.stderr

    def show(self, result: Any) -> None:
        for line in render_plain(result):
            print(line, file=self.stream)

    def error(self, text: str) -> None:
        print(f"error: {text}", file=self.errors)

    @contextmanager
    def progress(self, description: str, total: float | None) -> Iterator[Progress]:
        yield _SilentProgress()

    @contextmanager
    def live(self) -> Iterator["LastView"]:
        view = LastView()
        yield view
        self.show(view.result)  # a pipe gets the final state once, not a stream of redraws


class LastView:
    """A live view that keeps only the last thing shown (pipes and library use)."""

    def __init__(self) -> None:
        self.result: Any = None

    def update(self, result: Any) -> None:
        self.result = result


def render_plain(result: Any) -> list[str]:
    """A result as plain text lines: tables tab-separated, trees indented."""
    if result is None:
        return []
    if isinstance(result, list | tuple):
        return [line for item in result for line in render_plain(item)]
    if isinstance(result, Table) and not result.rows and result.empty:
        return [result.empty]
    if isinstance(result, Table):
        lines = [result.title] if result.title else []
        lines.append("\t".join(result.columns))
        lines += ["\t".join(str(cell) for cell in row) for row in result.rows]
        return lines
    if isinstance(result, Message):
        return [result.text if result.level != "warning" else f"warning: {result.text}"]
    if isinstance(result, Commands):
        start = result.numbered_from
        if start is None:
            return list(result.lines)
        return [f"{start + i:>5}  {line}" for i, line in enumerate(result.lines)]
    if isinstance(result, Tree):
        return _tree_lines(result, "")
    if isinstance(result, ClearScreen):
        return []
    if isinstance(result, Paged):
        return render_plain(result.items)
    return [str(result)]


def _tree_lines(tree: Tree, indent: str) -> list[str]:
    lines = [indent + tree.label]
    for child in tree.children:
        lines += _tree_lines(child, indent + "  ")
    return lines
