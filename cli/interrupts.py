"""Where a Ctrl-C goes: at the prompt it drops the line being typed; while a command runs it cancels it.

At the prompt the terminal is in raw mode and Ctrl-C arrives as a key (see keybindings). Once a line is
entered, the prompt hands the terminal back (cooked mode: Ctrl-C becomes SIGINT) a few milliseconds before
it has finished tearing down. A SIGINT in that gap belongs to the command just entered. prompt-toolkit's
own handler would pass it to a prompt that has already finished (a traceback, or the Ctrl-C is lost), so
the shell routes SIGINT itself: the command is cancelled as it starts.
"""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class InterruptRouter:
    """The shell's SIGINT handler while it runs (main thread only); ``installed()`` puts it in place."""

    def __init__(self, session, prompt) -> None:
        self.session = session
        self.prompt = prompt
        self.prompting = False

    def __call__(self, signum, frame) -> None:
        if self.session.cleaning_up:  # the command has ended: its clean-up must finish
            self.session.interrupt_pending = True
            return
        if not self.prompting:
            raise KeyboardInterrupt
        app = self.prompt.app
        loop = app.loop
        if loop is not None and _waiting_for_input(app):
            loop.call_soon_threadsafe(self._leave_prompt)  # a SIGINT sent from elsewhere while the prompt waits
        else:
            self.session.interrupt_pending = True

    def _leave_prompt(self) -> None:
        app = self.prompt.app
        if _waiting_for_input(app):
            app.exit(exception=KeyboardInterrupt, style="class:aborting")
        else:
            self.session.interrupt_pending = True

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Route SIGINT through this router until the block ends; elsewhere than the main thread, a no-op."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        # A shell started from a background job inherits SIGINT ignored; this sets it whatever it was.
        previous = signal.signal(signal.SIGINT, self)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    @contextmanager
    def at_prompt(self) -> Iterator[None]:
        """Marks the time spent in ``prompt()``, teardown included."""
        self.prompting = True
        try:
            yield
        finally:
            self.prompting = False


def _waiting_for_input(app) -> bool:
    return app.future is not None and not app.future.done()
