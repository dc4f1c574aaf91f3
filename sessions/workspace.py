"""The session's workspace: the files it has open, and how a verb reads or writes a file whether it is open
or not. Verbs go through it and never hold a raw HDF5 handle themselves."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class Workspace:
    """Open neuroshell files by their short session name (``storage.H5File`` each)."""

    def __init__(self) -> None:
        self.files: dict[str, Any] = {}

    def short_name(self, path: Path) -> str:
        """The name a file goes by in this session: its file name, or its path if that name is taken."""
        taken = self.files.get(path.name)
        return path.name if taken is None or taken.path.resolve() == path.resolve() else str(path)

    def find(self, text: str):
        """The open file called ``text`` (its session name or its path), or None."""
        if text in self.files:
            return self.files[text]
        path = Path(text).expanduser().resolve()
        return next((f for f in self.files.values() if f.path.resolve() == path), None)

    def ensure_free(self, path: Path) -> None:
        """Refuse to write over a file this session has open, or one any neuroshell is recording: even
        with --overwrite, a file in use is not replaced."""
        from neuroshell.sessions.errors import NeuroshellError
        from neuroshell.storage.locks import ensure_not_recorded

        if self.find(str(path)) is not None:
            raise NeuroshellError(f"{path} is open in this session: close it first, or choose another name")
        ensure_not_recorded(Path(path))

    def path_of(self, location) -> Path:
        """The file of a ``FILE:/path`` location: an open file's path by its session name, or the path given."""
        return self.files[location.file].path if location.file in self.files else Path(location.file)

    def open(self, path: Path, mode: str = "r", overwrite: bool = False) -> tuple[str, Any]:
        """Open ``path`` for the session (``r``, ``a`` or ``w``); returns its session name and the file."""
        from neuroshell.devices.clock import session_clock
        from neuroshell.sessions.errors import NeuroshellError
        from neuroshell.storage.files import open_file

        if self.find(str(path)) is not None:
            raise NeuroshellError(f"{path} is already open: close it first to reopen it")
        handle = open_file(path, mode, clock=session_clock(), overwrite=overwrite)
        name = self.short_name(path)
        self.files[name] = handle
        return name, handle

    def close_files(self, text: str | None = None) -> list[str]:
        """Close the open file ``text`` names (its session name or path), or every one with None; returns
        the session names closed."""
        from neuroshell.sessions.errors import NeuroshellError

        names = list(self.files)
        if text is not None:
            handle = self.find(text)
            if handle is None:
                raise NeuroshellError(f"{text} is not open (open files: {', '.join(self.files) or 'none'})")
            names = [name for name, f in self.files.items() if f is handle]
        for name in names:
            self.files.pop(name).close()
        return names

    @contextmanager
    def readable(self, text: str) -> Iterator[Any]:
        """An open file by name or path; one that is not open is opened read-only for the command only."""
        handle = self.find(text)
        if handle is not None:
            yield handle
            return
        from neuroshell.storage.files import open_file

        handle = open_file(Path(text).expanduser(), "r")
        try:
            yield handle
        finally:
            handle.close()

    @contextmanager
    def writable(self, path: Path) -> Iterator[Any]:
        """``path`` open for writing (created as a neuroshell file if missing). A file the session has open
        is closed for the write and reopened after, in its mode."""
        from neuroshell.devices.clock import session_clock
        from neuroshell.storage.files import open_file, open_for_writing

        path = Path(path)
        reopen = [(name, f.mode) for name, f in self.files.items() if f.path.resolve() == path.resolve()]
        for name, _ in reopen:
            self.files.pop(name).close()
        try:
            with open_for_writing(path, session_clock()) as handle:
                yield handle
        finally:
            for name, mode in reopen:
                self.files[name] = open_file(path, mode)

    def locations_in(self, text: str) -> list[str]:
        """``FILE:/path`` of every group and dataset in the neuroshell file ``text`` on disk, open or not
        (the file just recorded is the one plotted next); none if it is not one."""
        from neuroshell.common.errors import UserError

        try:
            with self.readable(text) as handle:
                return [f"{text}:{path}" for path in handle.paths()]
        except (UserError, OSError):
            return []

    def locations(self) -> list[str]:
        """``NAME:/path`` of every group and dataset in the open files, for completion."""
        return [f"{name}:{path}" for name, handle in self.files.items() for path in handle.paths()]

    def close(self) -> None:
        """Close every open file."""
        for handle in list(self.files.values()):
            handle.close()
        self.files.clear()
