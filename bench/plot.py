"""Plotting an hour of 306 channels at 1 kHz: `plot traces` reads the per-block min/max overview instead of
the samples. Reference: reading the samples of those 16 channels for the hour with h5py, which a plot
without the overview needs before drawing anything; measured on one minute of real samples in the same
layout (chunks hold every channel) and scaled to the hour, since the hour's 4.4 GB are not written here.

Run: python bench/plot.py [--repeats 3]
"""

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bytecode import byte_compile_neuroshell

from neuroshell.sessions import Session
from neuroshell.sessions.ui import PlainUI
from neuroshell.storage.layout import OVERVIEW_BLOCK, StreamSpec, create_file, create_stream

SAMPLES, CHANNELS, MINUTE = 3_600_000, 306, 60_000


def hour_file(path: Path) -> None:
    """The layout the Recorder writes; the overview holds values, the samples are left unwritten."""
    with create_file(path, time.monotonic) as handle:
        group = create_stream(handle, StreamSpec("meg", [f"MEG{c:03d}" for c in range(CHANNELS)], 1000.0))
        group["data"].resize((SAMPLES, CHANNELS))
        group["time"].resize((SAMPLES,))
        group["time"][:] = np.arange(SAMPLES) / 1000
        blocks = SAMPLES // OVERVIEW_BLOCK
        noise = np.random.default_rng(0).normal(size=(blocks, CHANNELS)).astype("f4")
        for name, sign in (("overview_min", -1), ("overview_max", 1)):
            group[name].resize((blocks, CHANNELS))
            group[name][:] = sign * (2 + np.abs(noise))
        group["overview_time"].resize((blocks,))
        group["overview_time"][:] = np.arange(blocks) * OVERVIEW_BLOCK / 1000


def minute_file(path: Path) -> None:
    """One minute of real samples in the same layout, for the reference."""
    with create_file(path, time.monotonic) as handle:
        group = create_stream(handle, StreamSpec("meg", [f"MEG{c:03d}" for c in range(CHANNELS)], 1000.0))
        group["data"].resize((MINUTE, CHANNELS))
        group["data"][:] = np.random.default_rng(1).normal(size=(MINUTE, CHANNELS)).astype("f4")
        group["time"].resize((MINUTE,))
        group["time"][:] = np.arange(MINUTE) / 1000


def main() -> None:
    from loguru import logger

    logger.remove()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    byte_compile_neuroshell()
    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="neuroshell-plot-"))
        path = Path(folder) / "hour.h5"
        hour_file(path)
        quiet = stack.enter_context(open(os.devnull, "w"))
        session = Session(ui=PlainUI(quiet, quiet), home=Path(folder) / "home")
        session.settings.set("plot.dir", folder)
        session.settings.set("plot.show", "off")
        minute = Path(folder) / "minute.h5"
        minute_file(minute)
        plots, reads = [], []
        for _ in range(args.repeats):
            started = time.perf_counter()
            assert session.execute(f"plot traces {path}:/streams/meg --channels 0:16")
            plots.append(time.perf_counter() - started)
            descriptor = os.open(minute, os.O_RDONLY)
            os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)  # read from the disk, not the cache
            os.close(descriptor)
            started = time.perf_counter()
            with h5py.File(minute) as f:
                f["streams/meg/data"][:, :16]
            reads.append((time.perf_counter() - started) * SAMPLES / MINUTE)
        session.close()
    plot, read = statistics.median(plots), statistics.median(reads)
    print(f"plot traces, 1 h x 306 ch (16 drawn): {plot:.2f} s (median of {args.repeats}); target about 1 s")
    print(f"reference, h5py reading those samples: {read:.1f} s (1 min measured, x60) -> {read / plot:.0f}x faster")


if __name__ == "__main__":
    main()
