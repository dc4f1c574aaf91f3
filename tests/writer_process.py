"""A recording process for crash tests: writes a known ramp and reports what has been flushed.

Sample k of stream ``ramp`` holds k + c / 10 in channel c, at time k / rate. Prints ``ready`` once the
file exists, then ``flushed N`` whenever N samples are safely on disk. Runs until killed.
"""

import sys
import time

import numpy as np

from neuroshell.storage.layout import StreamSpec
from neuroshell.storage.recorder import Recorder

CHANNELS = 4
RATE_HZ = 1000.0
BLOCK = 50


def block(start: int) -> tuple[np.ndarray, np.ndarray]:
    index = np.arange(start, start + BLOCK)
    data = index[:, None] + np.arange(CHANNELS)[None, :] / 10
    return data.astype("float32"), index / RATE_HZ


def main(path: str, mode: str) -> None:
    spec = StreamSpec("ramp", [f"ch{c}" for c in range(CHANNELS)], RATE_HZ, ["T"] * CHANNELS, source="test")
    recorder = Recorder(path, [spec], time.monotonic, flush_interval_s=0.2, overwrite=True)
    print("ready", flush=True)
    if mode == "before-first-flush":
        time.sleep(60)  # killed before any sample arrives
    written, reported = 0, -1
    while True:
        recorder.put("ramp", *block(written))
        written += BLOCK
        if written % 500 == 0:
            recorder.mark(written / RATE_HZ, f"m{written}", "test")
        flushed = recorder.stats().streams["ramp"].samples_flushed
        if flushed != reported:
            print(f"flushed {flushed}", flush=True)
            reported = flushed
        time.sleep(BLOCK / RATE_HZ / 5)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "run")
