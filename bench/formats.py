"""Exports and imports of a long recording with bounded memory: an hour of 306 channels at 1 kHz (4.4 GB of
float32 samples) to FIF and NWB, and the FIF back in, each in a fresh process whose peak resident memory
(VmHWM) is reported against the 500 MB target. Reference: the in-memory route a script takes with MNE
(``mne.io.RawArray`` of the samples, float64), whose size is computed, not run.

Run: python bench/formats.py [--minutes 60] [--channels 306]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bytecode import byte_compile_neuroshell

RATE_HZ = 1000.0
BLOCK_S = 10


def write_recording(path: Path, minutes: float, channels: int) -> None:
    """A recording in the Recorder's layout: a 10 s block of noise repeated, a marker every 2 s."""
    from neuroshell.formats.target import ImportTarget
    from neuroshell.storage.spec import StreamSpec

    block = int(BLOCK_S * RATE_HZ)
    noise = (np.random.default_rng(0).normal(size=(block, channels)) * 300).astype(np.float32)
    blocks = int(minutes * 60 / BLOCK_S)
    spec = StreamSpec("meg", [f"MEG{c:03d}" for c in range(channels)], RATE_HZ, ["fT"] * channels, source="bench")
    target = ImportTarget(path, time.time(), path, overwrite=True)
    target.add_stream(spec, ((noise, (i * block + np.arange(block)) / RATE_HZ) for i in range(blocks)))
    marks = np.arange(1.0, minutes * 60, 2.0)
    target.add_markers(marks, [f"stim/{i % 3}" for i in range(len(marks))], ["bench"] * len(marks))
    target.close()


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(command: str) -> None:
    """Run one neuroshell command in this fresh process; print its wall time and peak resident memory."""
    from loguru import logger

    from neuroshell.sessions import Session
    from neuroshell.sessions.ui import PlainUI

    logger.remove()
    with open(os.devnull, "w") as quiet:
        session = Session(ui=PlainUI(quiet, sys.stderr), home=Path(tempfile.mkdtemp()))
        started = time.perf_counter()
        assert session.execute(command), command
        wall = time.perf_counter() - started
        session.close()
    print(f"{wall:.1f} {peak_mb():.0f}")


def measure(command: str) -> tuple[float, float]:
    done = subprocess.run([sys.executable, __file__, "--child", command], capture_output=True, text=True, check=True)
    wall, peak = done.stdout.split()
    return float(wall), float(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--channels", type=int, default=306)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    byte_compile_neuroshell()
    with tempfile.TemporaryDirectory(prefix="neuroshell-formats-", dir=os.environ.get("BENCH_DIR")) as folder:
        folder = Path(folder)
        started = time.perf_counter()
        write_recording(folder / "rec.h5", args.minutes, args.channels)
        gigabytes = (folder / "rec.h5").stat().st_size / 1e9
        print(f"recording: {args.minutes:g} min of {args.channels} ch x 1 kHz, {gigabytes:.1f} GB "
              f"(written in {time.perf_counter() - started:.0f} s)")  # fmt: skip
        in_memory = args.minutes * 60 * RATE_HZ * args.channels * 8 / 1e6
        print(f"reference: mne.io.RawArray of these samples holds {in_memory:,.0f} MB (float64), before writing")
        for label, command in (
            ("export FIF", f"export {folder / 'rec.h5'}:/streams/meg --to {folder / 'rec.fif'}"),
            ("export NWB", f"export {folder / 'rec.h5'} --to {folder / 'rec.nwb'}"),
            ("import FIF", f"import {folder / 'rec.fif'} --to {folder / 'back.h5'}"),
        ):
            wall, peak = measure(command)
            verdict = "met" if peak < 500 else "MISSED"
            print(f"{label}: {wall:6.1f} s, peak resident {peak:4.0f} MB  (target < 500 MB: {verdict})")


if __name__ == "__main__":
    main()
