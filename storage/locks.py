"""A recording's claim on its file, between neuroshell processes: ``FILE.lock`` beside it, flock'ed.

HDF5 cannot give this protection itself: a file in SWMR mode is unlocked (so readers can follow it), and
HDF5 truncates a file it opens with mode "w" before it tries to lock it, so a second writer would wipe a
recording in progress. neuroshell therefore holds an advisory lock on a file beside the recording while it
writes, and checks it before it creates, overwrites or opens for writing any file. The lock dies with its
process, so a killed recording never leaves its file claimed; the empty lock file is removed by a clean stop.
"""

import contextlib
import fcntl
import os
import socket
from pathlib import Path

from neuroshell.storage.errors import StorageError


def lock_path(path: Path) -> Path:
    return Path(path).with_name(Path(path).name + ".lock")


class RecordingLock:
    """Held for as long as a recording writes ``path``; ``release`` gives it up (and removes the file)."""

    def __init__(self, path: Path) -> None:
        self.path = lock_path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd: int | None = _take(self.path, Path(path))
        os.ftruncate(self.fd, 0)
        os.write(self.fd, f"{os.getpid()} {socket.gethostname()}\n".encode())

    def release(self) -> None:
        if self.fd is None:
            return
        # Removed while still held: a process waiting on the old file finds it gone and looks again.
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        os.close(self.fd)
        self.fd = None


def ensure_not_recorded(path: Path) -> None:
    """Raise StorageError when a neuroshell process is recording ``path`` (this one included)."""
    held = lock_path(path)
    if not held.exists():
        return
    fd = _take(held, Path(path))
    os.close(fd)


def recorded_by_this_process(path: Path) -> bool:
    """Whether this process holds the recording lock of ``path``: HDF5 shares one file state between the
    handles of a process, so a second handle here (even read-only) would disturb the recording's writes."""
    held = lock_path(path)
    try:
        fd = os.open(held, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        owner = os.read(fd, 200).decode(errors="replace").split()
        return bool(owner) and owner[0] == str(os.getpid())
    finally:
        os.close(fd)


def _take(held: Path, data_path: Path) -> int:
    while True:
        fd = os.open(held, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 200).decode(errors="replace").split()
            os.close(fd)
            who = f" (pid {owner[0]} on {owner[1]})" if len(owner) >= 2 else ""
            raise StorageError(
                f"{data_path} is being recorded by neuroshell{who}: choose another file, or stop that recording"
            ) from None
        try:
            if os.fstat(fd).st_ino == os.stat(held).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)  # released and removed while we waited: take the new one
