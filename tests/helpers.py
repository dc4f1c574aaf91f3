"""Small helpers shared by tests."""

import os
import subprocess
import sys
from contextlib import contextmanager, suppress
from pathlib import Path

from neuroshell.sessions.ui import render_plain


class RecordingUI:
    """A UI that keeps what verbs showed, as plain text lines, for assertions."""

    def __init__(self) -> None:
        self.results: list = []
        self.lines: list[str] = []
        self.errors: list[str] = []
        self.progress_updates: list[tuple[str, float]] = []
        self.live_updates: list = []

    def show(self, result) -> None:
        from neuroshell.sessions.output import Paged

        if isinstance(result, Paged):
            result = result.items
        if isinstance(result, list | tuple):
            for item in result:
                self.show(item)
            return
        if result is not None:
            self.results.append(result)
        self.lines += render_plain(result)

    def error(self, text: str) -> None:
        self.errors.append(text)

    @contextmanager
    def progress(self, description: str, total):
        ui = self

        class Handle:
            done = 0.0

            def advance(self, amount: float = 1) -> None:
                self.done += amount
                ui.progress_updates.append((description, self.done))

            def update(self, completed: float, description_: str | None = None) -> None:
                self.done = completed
                ui.progress_updates.append((description, completed))

        yield Handle()

    @contextmanager
    def live(self):
        ui = self

        class View:
            def update(self, result) -> None:
                ui.live_updates.append(result)

        yield View()
        if self.live_updates:
            self.show(self.live_updates[-1])

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


ROOT = Path(__file__).resolve().parents[1]


def start_writer(path: Path, mode: str = "run") -> subprocess.Popen:
    """Start tests/writer_process.py recording a known ramp into ``path``; returns once the file exists."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "writer_process.py"), str(path), mode],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout.readline().strip() == "ready"
    return process


def read_flushed_until(process: subprocess.Popen, at_least: int) -> int:
    """Read the writer's reports until at least ``at_least`` samples are flushed; return that count."""
    flushed = 0
    while flushed < at_least:
        line = process.stdout.readline()
        assert line, "writer process ended early"
        flushed = int(line.split()[1])
    return flushed


class FakePort:
    """A pseudo-terminal standing in for a serial device: bytes written here arrive at the port that
    pyserial opens. ``link`` gives the port a stable path (like /dev/serial/by-id), so it can be pulled
    and plugged back in under the same name."""

    def __init__(self, link: Path | None = None) -> None:
        self.link = link
        self.master: int | None = None
        self.slave: int | None = None
        self.plug()

    @property
    def path(self) -> str:
        return str(self.link) if self.link else os.ttyname(self.slave)

    def plug(self) -> None:
        import tty

        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        if self.link:
            tmp = self.link.with_suffix(".new")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(os.ttyname(self.slave))
            tmp.replace(self.link)

    def pull(self) -> None:
        for fd in (self.master, self.slave):
            os.close(fd)
        self.master = self.slave = None

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.master, view) :]

    def read_available(self) -> bytes:
        import select

        out = b""
        while select.select([self.master], [], [], 0.05)[0]:
            out += os.read(self.master, 4096)
        return out


class Feeder:
    """Writes ``make(k)`` for k = 0, 1, 2, ... into a FakePort every ``interval_s``, in a thread."""

    def __init__(self, port: FakePort, make, interval_s: float) -> None:
        import threading

        self.port, self.make, self.interval_s = port, make, interval_s
        self.count = 0
        self.paused = threading.Event()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:

        while not self.stopped.wait(self.interval_s):
            data = self.make(self.count)
            self.count += 1
            if not self.paused.is_set():
                with suppress(OSError, TypeError):
                    self.port.write(data)

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()


def flat_and_saturated_board(port: FakePort) -> Feeder:
    """A CSV board at 250 Hz on ``port``: ch000 a sine, ch001 flat at 5.0, ch002 a sine clipped at +-0.5."""
    import math

    def line(k: int) -> bytes:
        clipped = max(-0.5, min(0.5, math.sin(k / 5)))
        return f"{math.sin(k / 3):.4f},5.0,{clipped:.4f}\n".encode()

    return Feeder(port, line, 0.004)


def helmet_recording(
    path: Path,
    seconds: float,
    channels: int = 32,
    rate_hz: float = 500.0,
    seed: int = 0,
    gap: tuple[float, float] | None = None,
    difficulty: str = "easy",
    interval_s: tuple[float, float] = (0.8, 1.5),
) -> Path:
    """A recording of the simulated helmet written straight to HDF5 (no transport): sample k at k / rate;
    the markers at their stimulus onsets. ``gap`` leaves out that span and writes it as a gap. The helmet is
    ``easy`` unless asked: tests of plumbing want classes a model cannot miss."""
    import time as _time

    import numpy as np

    from neuroshell.devices.simhelmet import HelmetSignal
    from neuroshell.storage.layout import StreamSpec
    from neuroshell.storage.recorder import Recorder

    signal = HelmetSignal(channels, rate_hz, seed, stimulus_interval_s=interval_s, difficulty=difficulty)
    spec = StreamSpec("meg", signal.spec_channels, rate_hz, ["fT"] * channels, source="sim")
    recorder = Recorder(path, [spec], clock=_time.monotonic, overwrite=True)
    block = int(rate_hz // 10)
    for _ in range(int(seconds * 10)):
        first = signal.sample_index
        data, markers = signal.next_block(block)
        times = (first + np.arange(block)) / rate_hz
        keep = np.ones(block, bool) if gap is None else ~((times >= gap[0]) & (times <= gap[1]))
        if keep.any():
            recorder.put("meg", data[keep], times[keep])
        for index, label in markers:
            recorder.mark(index / rate_hz, label, "sim")
    if gap is not None:
        recorder.gap("meg", gap[0], gap[1])
    recorder.stop()
    return path
