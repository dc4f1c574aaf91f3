"""Sustained append throughput of the Recorder next to a raw numpy.tofile write of the same bytes.

Run: python bench/storage.py [--megabytes 1000]. Target: at least 50% of the raw ceiling with default settings.
Both write into the same folder, in the same run, and both times end when the bytes are on disk (fsync),
so the page cache does not flatter either. Each case runs four times in ABBA order, and the medians count
(the disk's own speed varies from run to run on this machine).
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from neuroshell.storage.layout import StreamSpec
from neuroshell.storage.recorder import Recorder

CASES = (("306 ch x 1 kHz (OPM-MEG)", 306, 1000.0), ("384 ch x 30 kHz (Neuropixels)", 384, 30000.0))


def blocks(n_channels: int, rate_hz: float, seconds: float, block_s: float = 0.05):
    """Blocks as a device reader hands them over: ``block_s`` of samples at a time."""
    rows = max(1, int(rate_hz * block_s))
    rng = np.random.default_rng(0)
    data = rng.normal(size=(rows, n_channels)).astype("float32")
    for k in range(int(seconds / block_s)):
        yield data, (k * rows + np.arange(rows)) / rate_hz


def recorder_run(path: Path, n_channels: int, rate_hz: float, seconds: float) -> tuple[float, int, int]:
    spec = StreamSpec("s", [f"ch{c}" for c in range(n_channels)], rate_hz)
    start = time.perf_counter()
    recorder = Recorder(path, [spec], clock=time.monotonic, overwrite=True)
    for data, times in blocks(n_channels, rate_hz, seconds):
        while recorder.queue.qsize() > 0.9 * recorder.queue.maxsize:  # measure the writer, do not drop
            time.sleep(0.001)
        recorder.put("s", data, times)
    stats = recorder.stop()
    fsync(path)
    elapsed = time.perf_counter() - start
    return elapsed, stats.streams["s"].samples_written, stats.streams["s"].samples_dropped


def raw_run(path: Path, n_channels: int, rate_hz: float, seconds: float) -> tuple[float, int]:
    start = time.perf_counter()
    samples = 0
    with open(path, "wb") as data_file, open(path.with_suffix(".time"), "wb") as time_file:
        for data, times in blocks(n_channels, rate_hz, seconds):
            data.tofile(data_file)
            times.tofile(time_file)
            samples += data.shape[0]
    fsync(path)
    fsync(path.with_suffix(".time"))
    return time.perf_counter() - start, samples


def fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=float, default=1000.0, help="bytes of signal per case, in MB")
    parser.add_argument("--dir", default=None, help="folder to write in (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        print(f"{'case':32} {'writer':14} {'samples/s':>12} {'MB/s':>8} {'dropped':>8}")
        for label, channels, rate in CASES:
            bytes_per_sample = channels * 4 + 8
            seconds = args.megabytes * 1e6 / (bytes_per_sample * rate)  # of signal, in 50 ms device blocks
            raw_times, rec_times = [], []
            for repeat in range(4):  # ABBA order: neither writer always runs on a disk the other just filled
                order = ("raw", "recorder") if repeat in (0, 3) else ("recorder", "raw")
                for writer in order:
                    if writer == "raw":
                        seconds_taken, samples = raw_run(Path(folder) / "raw.bin", channels, rate, seconds)
                        raw_times.append(seconds_taken)
                        os.remove(Path(folder) / "raw.bin")
                    else:
                        seconds_taken, written, dropped = recorder_run(Path(folder) / "rec.h5", channels, rate, seconds)
                        rec_times.append(seconds_taken)
                        os.remove(Path(folder) / "rec.h5")
            raw_s, rec_s = float(np.median(raw_times)), float(np.median(rec_times))
            for name, seconds, count, lost in (
                ("numpy.tofile", raw_s, samples, 0),
                ("Recorder", rec_s, written, dropped),
            ):
                rate_s = count / seconds
                print(f"{label:32} {name:14} {rate_s:>12,.0f} {rate_s * bytes_per_sample / 1e6:>8.0f} {lost:>8}")
            ratio = raw_s / rec_s
            verdict = "met" if ratio >= 0.5 else "NOT met"
            print(f"{'':32} Recorder at {ratio:.0%} of the raw ceiling (target >= 50%): {verdict}")
            print(f"{'':32} real-time margin: {written / rate / rec_s:.0f}x faster than the stream")


if __name__ == "__main__":
    main()
