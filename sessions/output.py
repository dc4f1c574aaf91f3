"""Plain results that verbs return; the shell decides how they look (rich on a terminal, text in a pipe)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple


@dataclass
class Table:
    """A table to show: column names, rows of values, an optional title."""

    columns: Sequence[str]
    rows: list[Sequence[Any]] = field(default_factory=list)
    title: str = ""
    empty: str = ""  # the one line shown instead of a table with no rows (e.g. "no devices connected")


@dataclass
class Message:
    """One line of text to show, with its level (info, success, warning)."""

    text: str
    level: str = "info"  # info | success | warning


def interrupted(cancelled: str, kept: str) -> Message:
    """The one form every Ctrl-C takes: what was cancelled, and what was kept."""
    return Message(f"interrupted: {cancelled} cancelled; {kept}", "warning")


def elide(text: str, limit: int = 240) -> str:
    """``text`` cut in its middle when longer than ``limit`` characters, saying how long it was, so that a
    pasted 3000-character argument does not fill the screen."""
    if len(text) <= limit:
        return text
    keep = (limit - 30) // 2
    return f"{text[:keep]} … ({len(text)} characters) … {text[-keep:]}"


@dataclass
class Commands:
    """Command lines, shown highlighted with the command-language lexer."""

    lines: list[str]
    numbered_from: int | None = None


@dataclass
class Tree:
    """A nested listing: (label, children) pairs."""

    label: str
    children: list["Tree"] = field(default_factory=list)


@dataclass
class ClearScreen:
    """Clear the terminal (``clear``); nothing in a pipe or a log."""


@dataclass
class Paged:
    """Results to read page by page when they are longer than the screen (help); whole in a pipe."""

    items: list


class Made(NamedTuple):
    """One thing this session made: its ``kind`` (recording, file, dataset, model, plot, simulation, sweep),
    the ``file``, and the object ``inside`` it (``/datasets/NAME``; empty for the whole file)."""

    kind: str
    file: str
    inside: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.inside}" if self.inside else self.file
