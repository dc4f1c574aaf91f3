"""Rich rendering of verb results: tables, messages, highlighted commands, error panels, progress."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console, Group
from rich.table import Table as RichTable
from rich.text import Text
from rich.tree import Tree as RichTree

from neuroshell.sessions.output import ClearScreen, Commands, Message, Paged, Table, Tree

LEVEL_STYLES = {"info": "", "success": "green", "warning": "yellow"}
PIPE_WIDTH = 4096  # rich wraps at the console's width; a line longer than this in a pipe is not a line to read


class RichUI:
    """Results on stdout, errors on stderr; plain text (no colour codes) when not on a terminal."""

    def __init__(self, color: bool = True) -> None:
        no_color = not color
        # On a terminal its size is asked at each print, so output follows a resize; COLUMNS set at start-up
        # would fix rich's width for good.
        sized_by_terminal = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        self.console = Console(no_color=no_color, highlight=False, soft_wrap=False, _environ=sized_by_terminal)
        if not self.console.is_terminal:
            self.console.width = PIPE_WIDTH  # pipes and logs: no terminal width to fit, so lines stay whole
        self.errors = Console(stderr=True, no_color=no_color, highlight=False)
        self.command_words: list[str] = []  # verbs the command lexer highlights

    def show(self, result: Any) -> None:
        """Print a result (messages, tables, trees) with rich."""
        if result is None:
            return
        if isinstance(result, list | tuple):
            for item in result:
                self.show(item)
            return
        if isinstance(result, ClearScreen):
            if self.console.is_terminal:
                self.console.clear()
            return
        if isinstance(result, Paged):
            self.paged(result.items)
            return
        self.console.print(self.renderable(result))

    def paged(self, items: list) -> None:
        """Show ``items`` through the pager ($PAGER, else less) when they would not fit on the screen."""
        renderables = [self.renderable(item) for item in items]
        lines = sum(len(self.console.render_lines(r, pad=False)) for r in renderables)
        if not self.console.is_terminal or lines < self.console.height - 2:
            for renderable in renderables:
                self.console.print(renderable)
            return
        with self.console.pager(styles=True):
            for renderable in renderables:
                self.console.print(renderable)

    def renderable(self, result: Any) -> Any:
        if isinstance(result, Table) and not result.rows and result.empty:
            return Text(result.empty)
        if isinstance(result, Table):
            table = RichTable(show_header=any(result.columns))
            for column in result.columns:
                table.add_column(column, overflow="fold")
            for row in result.rows:
                table.add_row(*(str(cell) for cell in row))
            # the title is a line of its own: as a table's title it would wrap at the table's width
            return Group(Text(result.title, style="table.title"), table) if result.title else table
        if isinstance(result, Message):
            prefix = "warning: " if result.level == "warning" else ""
            return Text(prefix + result.text, style=LEVEL_STYLES.get(result.level, ""))
        if isinstance(result, Commands):
            return self.highlighted(result)
        if isinstance(result, Tree):
            return _rich_tree(result)
        return Text(str(result))

    def highlighted(self, commands: Commands) -> Text:
        from neuroshell.cli.lexer import highlight_to_text

        text = Text()
        for offset, line in enumerate(commands.lines):
            if commands.numbered_from is not None:
                text.append(f"{commands.numbered_from + offset:>5}  ", style="dim")
            text.append_text(highlight_to_text(line, self.command_words))
            text.append("\n")
        text.rstrip()
        return text

    def error(self, text: str) -> None:
        """Print an error on stderr as one line ``error: ...`` (red on a terminal), at the prompt as in scripts."""
        style = "bold red" if self.errors.is_terminal else ""
        self.errors.print(Text(f"error: {text}", style=style), soft_wrap=True)

    @contextmanager
    def live(self) -> Iterator[Any]:
        """A live view redrawn in place (``monitor``); pipes get only the last frame."""
        if not self.console.is_terminal:
            from neuroshell.sessions.ui import LastView

            view = LastView()
            yield view
            self.show(view.result)
            return
        from rich.console import Group
        from rich.live import Live

        with Live(console=self.console, refresh_per_second=4, transient=False) as live:
            yield _LiveHandle(live, lambda result: Group(*(self.renderable(r) for r in _as_list(result))))

    @contextmanager
    def progress(self, description: str, total: float | None) -> Iterator[Any]:
        """A rich progress bar (done, total, time left) for a long verb."""
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

        columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn())
        with Progress(*columns, console=self.console, transient=False) as progress:
            task = progress.add_task(description, total=total)
            yield _TaskHandle(progress, task)


class _LiveHandle:
    def __init__(self, live: Any, render: Any) -> None:
        self.live, self.render = live, render

    def update(self, result: Any) -> None:
        self.live.update(self.render(result))


def _as_list(result: Any) -> list:
    return list(result) if isinstance(result, list | tuple) else [result]


class _TaskHandle:
    def __init__(self, progress: Any, task: Any) -> None:
        self.progress, self.task = progress, task

    def advance(self, amount: float = 1) -> None:
        self.progress.advance(self.task, amount)

    def update(self, completed: float, description: str | None = None) -> None:
        if description is None:
            self.progress.update(self.task, completed=completed)
        else:
            self.progress.update(self.task, completed=completed, description=description)


def _rich_tree(tree: Tree, into: RichTree | None = None) -> RichTree:
    node = RichTree(tree.label) if into is None else into.add(tree.label)
    for child in tree.children:
        _rich_tree(child, node)
    return node
