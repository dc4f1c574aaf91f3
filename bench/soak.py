"""Soak: a long recording of the simulated helmet over the serial path, as a lab runs one all day.

A helmet process plays 306 channels at 1 kHz into a pseudo-terminal; this process is a neuroshell session
that connects it with `connect serial`, records it, runs `monitor` the whole time, puts a marker every
0.5 s from a second thread, and plots the last five minutes of the growing file every five minutes.
Reported against the targets: samples lost (0), resident memory at the start and the end (growth < 50 MB),
timestamps strictly increasing with steps within 1/rate +/- 0.5%, and the share of a core it used.

Run: LSLAPICFG=tests/lsl_api.cfg python bench/soak.py [--minutes 30] [--channels 306] [--rate 1000]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import h5py
import numpy as np

os.environ.setdefault("LSLAPICFG", str(Path(__file__).resolve().parents[1] / "tests" / "lsl_api.cfg"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bytecode import byte_compile_neuroshell

from neuroshell.sessions import Session
from neuroshell.sessions.ui import PlainUI

PLOT_EVERY_S = 300.0
REPORT_EVERY_S = 60.0
MARK_EVERY_S = 0.5
TIME_BLOCK = 1 << 22  # timestamps checked in blocks of this many


def serve_helmet(channels: int, rate: float) -> None:
    """The helmet process: prints its pty's path, then plays until its standard input closes."""
    from neuroshell.devices.clock import session_clock
    from neuroshell.devices.simhelmet import HelmetSignal, SimHelmetServer

    server = SimHelmetServer(HelmetSignal(channels, rate, seed=1), "serial", session_clock()).start()
    print(server.port_path, flush=True)
    sys.stdin.read()
    print(server.samples_sent, flush=True)
    server.stop()


def heap_mb() -> str:
    """glibc's view: bytes in use and bytes free but kept by malloc (mallinfo2), for telling leaks from
    fragmentation."""
    import ctypes

    class MallInfo2(ctypes.Structure):
        _fields_ = [
            (name, ctypes.c_size_t)
            for name in (
                "arena",
                "ordblks",
                "smblks",
                "hblks",
                "hblkhd",
                "usmblks",
                "fsmblks",
                "uordblks",
                "fordblks",
                "keepcost",
            )
        ]

    try:
        info = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return ""
    info.restype = MallInfo2
    m = info()
    return f"heap in use {(m.uordblks + m.hblkhd) / 2**20:.0f} MB, free kept {m.fordblks / 2**20:.0f} MB"


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def check_file(path: Path, rate: float) -> dict[str, float]:
    """Samples, gaps and timestamp steps of the recorded stream, read in blocks."""
    with h5py.File(path) as f:
        times = f["streams/helmet/time"]
        n, gaps, markers = times.shape[0], f["streams/helmet/gaps"].shape[0], f["markers/time"].shape[0]
        smallest, largest, previous = np.inf, 0.0, -np.inf
        for start in range(0, n, TIME_BLOCK):
            block = times[start : start + TIME_BLOCK]
            steps = np.diff(block, prepend=previous)[1 if start == 0 else 0 :]
            smallest, largest = min(smallest, steps.min()), max(largest, steps.max())
            previous = block[-1]
        span = float(times[n - 1] - times[0])
    return {
        "samples": n,
        "gaps": gaps,
        "markers": markers,
        "min_step": smallest * rate,
        "max_step": largest * rate,
        "span_s": span,
    }


def mark_every(session: Session, stop: threading.Event, counter: list[int]) -> None:
    while not stop.wait(MARK_EVERY_S):
        if session.execute(f"mark tick/{counter[0]}"):
            counter[0] += 1


def soak(minutes: float, channels: int, rate: float, out: Path, plot_every_s: float = PLOT_EVERY_S) -> None:
    helmet = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(channels), str(rate)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    port = helmet.stdout.readline().strip()
    with open(os.devnull, "w") as quiet:
        session = Session(ui=PlainUI(quiet, quiet), home=out / "home")
        session.settings.set("plot.dir", str(out / "plots"))
        session.settings.set("plot.show", "off")
        assert session.execute(f"connect serial {port} --rate {rate:g}Hz --channels {channels} --name helmet")
        path = out / "soak.h5"
        assert session.execute(f"record start {path}")
        # Past start-up (a first monitor and plot load their modules): the reference point for memory.
        assert session.execute("monitor --for 5s")
        assert session.execute(f"plot traces {path}:/streams/helmet --channels 0:32 --from 0s")
        memory_start, cpu_start, wall_start = resident_mb(), os.times(), time.monotonic()
        stop, marks = threading.Event(), [0]
        marker_thread = threading.Thread(target=mark_every, args=(session, stop, marks), daemon=True)
        if os.environ.get("SOAK_NO_MARKERS") != "1":
            marker_thread.start()
        deadline, plots, next_plot = wall_start + minutes * 60, 0, wall_start + PLOT_EVERY_S
        while (left := deadline - time.monotonic()) > 0:
            assert session.execute(f"monitor --for {min(REPORT_EVERY_S, left):.3f}s")
            if time.monotonic() >= next_plot - 1.0 or time.monotonic() >= deadline:
                before_plot = resident_mb()
                plots += session.execute(f"plot traces {path}:/streams/helmet --channels 0:32 --from 0s")
                next_plot += plot_every_s
                print(f"  plot {plots}: {before_plot:.0f} MB -> {resident_mb():.0f} MB ({heap_mb()})", flush=True)
            print(f"{(time.monotonic() - wall_start) / 60:5.1f} min: {resident_mb():.0f} MB resident", flush=True)
        stop.set()
        if marker_thread.is_alive():
            marker_thread.join()
        cpu_end, wall_end, memory_end = os.times(), time.monotonic(), resident_mb()
        device = session.devices["helmet"]
        received, lost, repairs = device.samples_received, device.samples_lost, device.timestamp_repairs
        assert session.execute("record stop")
        session.close()
    helmet.stdin.close()
    sent = int(helmet.stdout.readline())
    helmet.wait()
    found = check_file(path, rate)
    cpu = (cpu_end.user + cpu_end.system - cpu_start.user - cpu_start.system) / (wall_end - wall_start)
    report(
        minutes, channels, rate, sent, received, lost, repairs, found, marks[0], plots, memory_start, memory_end, cpu
    )


def report(minutes, channels, rate, sent, received, lost, repairs, found, marks, plots, memory_start, memory_end, cpu):
    growth = memory_end - memory_start
    spacing_ok = found["min_step"] > 0.995 and found["max_step"] < 1.005
    rows = [
        ("duration", f"{minutes:g} min of {channels} ch x {rate:g} Hz over a pty", ""),
        ("samples sent / received / recorded", f"{sent} / {received} / {found['samples']}", ""),
        (
            "samples lost",
            f"{lost} (gaps in the file: {found['gaps']})",
            "target 0: " + ("met" if not lost else "MISSED"),
        ),
        (
            "timestamps",
            f"steps {found['min_step']:.4f} to {found['max_step']:.4f} x 1/rate, {repairs} repairs",
            "strictly increasing, within 0.5%: " + ("met" if spacing_ok and not repairs else "MISSED"),
        ),
        ("recorded span vs samples", f"{found['span_s']:.3f} s for {found['samples']} samples", ""),
        ("markers", f"{marks} typed every 0.5 s, {found['markers']} in the file (with the helmet's)", ""),
        ("plots of the growing file", f"{plots}", ""),
        (
            "resident memory",
            f"{memory_start:.0f} MB -> {memory_end:.0f} MB ({growth:+.0f} MB)",
            "target < 50 MB growth: " + ("met" if growth < 50 else "MISSED"),
        ),
        ("CPU", f"{cpu:.1%} of one core (recording, monitor, markers, plots)", ""),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value, verdict in rows:
        print(f"{name:<{width}}  {value}  {verdict}")


def main() -> None:
    from loguru import logger

    logger.remove()  # the session logs to its own file
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve_helmet(int(sys.argv[2]), float(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--channels", type=int, default=306)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--plot-every", type=float, default=PLOT_EVERY_S, help="seconds between plots")
    args = parser.parse_args()
    byte_compile_neuroshell()
    with tempfile.TemporaryDirectory(prefix="neuroshell-soak-") as folder:
        soak(args.minutes, args.channels, args.rate, Path(folder), args.plot_every)


if __name__ == "__main__":
    main()
