"""Work in a thread the OS runs after the rest of the process: a simulation beside a live recording or decoder
takes the CPU the live threads leave, instead of sharing it with them as an equal."""

import contextlib
import os
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
NICE = 10  # a tenth of a normal thread's share when both want one core (Linux CFS weights)


def run_yielding(work: Callable[[], T], stop: threading.Event, nice: int = NICE) -> T:
    """Call ``work()`` in a new thread ``nice`` steps nicer than this one (Linux keeps niceness per thread;
    elsewhere the thread runs as it is) and wait for it here. A Ctrl-C while waiting sets ``stop``, which
    ``work`` watches, and waits for it to end; its result is returned, or its error raised, here. The niceness
    ends with the thread (a process may not lower it again)."""
    outcome: dict = {}

    def body() -> None:
        with contextlib.suppress(OSError, AttributeError):  # not Linux, or not allowed: the normal priority
            me = threading.get_native_id()  # a new thread starts at its creator's niceness
            os.setpriority(os.PRIO_PROCESS, me, min(19, os.getpriority(os.PRIO_PROCESS, me) + nice))
        try:
            outcome["result"] = work()
        except BaseException as error:  # handed to the waiting thread, which raises it
            outcome["error"] = error
        finally:
            done.set()

    # An Event, not Thread.join: a join interrupted by Ctrl-C can take a running thread for finished.
    done = threading.Event()
    threading.Thread(target=body, name="yielding work", daemon=True).start()
    while not done.is_set():
        try:
            done.wait(0.05)
        except KeyboardInterrupt:
            stop.set()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def niceness() -> int:
    """This thread's niceness (0 where the OS cannot say)."""
    try:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    except (OSError, AttributeError):
        return 0
