"""The interactive shell in a real pseudo-terminal, typed at as a person would."""

import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

from neuroshell.devices.base import wait_until

EXECUTABLE = Path(sys.executable).with_name("neuroshell")


def _controlling_terminal() -> None:
    """In the child: a new session whose controlling terminal is the pty, so Ctrl-C becomes SIGINT."""
    import fcntl
    import termios

    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # as a terminal gives it, even if this runs in the background


class Terminal:
    def __init__(self, *args: str, **environment: str) -> None:
        self.master, slave = pty.openpty()
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40", **environment}
        self.process = subprocess.Popen(
            [str(EXECUTABLE), *args], stdin=slave, stdout=slave, stderr=slave, env=env, preexec_fn=_controlling_terminal
        )
        os.close(slave)
        self.screen = ""

    def read_until(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.screen and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(self.master, 65536).decode("utf-8", "replace")
                except OSError:
                    break
                self.screen += chunk
                # Answer cursor-position requests as a real terminal does (prompt-toolkit waits for them).
                for _ in range(chunk.count("\x1b[6n")):
                    os.write(self.master, b"\x1b[1;1R")
        assert text in self.screen, f"never saw {text!r}; screen tail: {self.screen[-800:]!r}"
        return self.screen

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> int:
        try:
            return self.process.wait(timeout=20)
        finally:
            os.close(self.master)


def test_ctrl_c_cancels_the_running_command_not_the_shell():
    terminal = Terminal()
    terminal.read_until("neuroshell>")
    terminal.type("wait 30s\r")
    terminal.read_until("\x1b[?2004l")  # the prompt has handed the terminal back: the command runs
    # Ctrl-C becomes SIGINT once the prompt has restored the terminal's signal keys (its cooked mode).
    assert wait_until(lambda: termios.tcgetattr(terminal.master)[3] & termios.ISIG, 5, 0.005)
    started = time.monotonic()
    terminal.type("\x03")  # Ctrl-C while the command runs
    terminal.read_until("interrupted: wait cancelled; nothing kept")
    assert time.monotonic() - started < 5
    terminal.type("echo still-alive\r")
    terminal.read_until("still-alive")
    terminal.type("quit\r")
    assert terminal.close() == 0


def test_ctrl_d_leaves_cleanly_and_the_toolbar_shows_devices():
    terminal = Terminal()
    terminal.read_until("neuroshell>")
    terminal.type("connect sim --channels 4 --rate 100Hz\r")
    terminal.read_until("connected sim0")
    terminal.read_until("sim0 streaming")  # the bottom toolbar, refreshed while the prompt waits
    terminal.type("\x04")
    assert terminal.close() == 0


def test_the_shell_starts_with_one_line_and_an_error_is_one_line():
    from importlib.metadata import version

    terminal = Terminal()
    terminal.read_until("neuroshell>")
    assert f"neuroshell {version('neuroshell')} · help lists commands · Ctrl-D quits · log: " in terminal.screen
    terminal.type("wait 10Hz\r")
    screen = terminal.read_until("e.g. 250ms")
    line = next(part for part in screen.split("\n") if "wrong unit" in part)
    # What the user sees: escape sequences and cursor moves (a backspace as the prompt redraws) take no room.
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x09\x0b-\x1f]", "", line).strip()
    assert plain == "error: wait DURATION: wrong unit in '10Hz': expected a time (s), e.g. 250ms"
    assert "╭" not in screen and "╰" not in screen  # no boxed panel
    terminal.type("quit\r")
    assert terminal.close() == 0


def test_help_longer_than_the_screen_goes_through_the_pager_and_short_help_does_not(tmp_path):
    paged = tmp_path / "paged.txt"
    terminal = Terminal(PAGER=f"tee {paged}", LINES="12")
    terminal.read_until("neuroshell>")
    terminal.type("help storage\r")  # twelve lines of table: longer than this 12-line screen
    terminal.read_until("Write a clean copy of an interrupted recording")
    # tee creates the file before it writes it: wait for the text itself
    assert wait_until(lambda: paged.exists() and "recover" in paged.read_text(), 5, 0.05)
    paged.unlink()
    terminal.type("help formats\r")  # five lines: shown as it is
    terminal.read_until("export")
    terminal.type("quit\r")
    assert terminal.close() == 0
    assert not paged.exists()


def test_clear_clears_the_screen_and_the_shell_goes_on():
    terminal = Terminal()
    terminal.read_until("neuroshell>")
    terminal.type("clear\r")
    terminal.read_until("\x1b[2J")  # the terminal's erase-display sequence
    terminal.type("echo after-clear\r")
    terminal.read_until("after-clear")
    terminal.type("quit\r")
    assert terminal.close() == 0
