"""The session clock: LSL's ``local_clock()`` (monotonic seconds, shared with every LSL stream here)."""

from collections.abc import Callable


def session_clock() -> Callable[[], float]:
    """Return pylsl's ``local_clock`` (imported on first use, so start-up stays fast)."""
    from pylsl import local_clock

    return local_clock
