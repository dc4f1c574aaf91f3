"""What C libraries print goes to the session's log, not over the prompt."""

import faulthandler
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def native_output_logged(log_path: Path) -> Iterator[None]:
    """Point file descriptor 2 at the session's log for the duration: liblsl's ``ERR|`` lines, HDF5's and
    OpenMP's messages (written to the descriptor, past Python) land there, and child processes inherit it.
    ``sys.stderr`` keeps the terminal, so the shell's own errors, warnings and ``--debug`` tracebacks still
    show."""
    sys.stderr.flush()
    terminal_fd = os.dup(2)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    # `kill -USR1 PID` writes every thread's stack to the log: where a shell that seems stuck is waiting
    faulthandler.register(signal.SIGUSR1, file=sys.__stderr__, all_threads=True)
    previous = sys.stderr
    sys.stderr = os.fdopen(terminal_fd, "w", buffering=1, encoding=previous.encoding, errors="backslashreplace")
    try:
        yield
    finally:
        faulthandler.unregister(signal.SIGUSR1)
        sys.stderr.flush()
        os.dup2(terminal_fd, 2)
        sys.stderr.close()
        sys.stderr = previous
