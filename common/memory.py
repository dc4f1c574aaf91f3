"""Giving freed memory back to the system, for a process that stays open all day.

A plot's figure is a web of reference cycles, so its arrays live until the cyclic collector next runs,
which may be a whole command later (soak: RSS up 14 MB after one plot, down at the next). CPython frees
everything else promptly, but glibc keeps freed blocks in each thread's heap for reuse. In a session
where device readers, the recorder and a plot allocate from different threads at once, the resident size
then ratchets up with every large command though nothing is leaked (30 min soak: +61 MB, flat between
plots). ``malloc_trim`` returns those free pages, as Dask's workers do; elsewhere this does nothing.
"""

import gc
import sys

_trim = None


def return_freed_memory() -> None:
    """Collect reference cycles, then return free heap pages of every thread to the system (glibc's
    malloc_trim); tens of milliseconds."""
    global _trim
    if _trim is None:
        _trim = _malloc_trim()
    gc.collect()
    _trim()


def _malloc_trim():
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            trim = ctypes.CDLL("libc.so.6").malloc_trim
            return lambda: trim(0)
        except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
            pass
    return lambda: None
