"""Online filtering cost: 306 channels at 1 kHz through a 4th-order band-pass (1-40 Hz) plus a 50 Hz notch
with its harmonics, block by block as a helmet delivers them. Target: < 5% of a core. Reference: the same
filtering of the whole minute at once with scipy (the floor a block-wise filter cannot beat).

Run: python bench/filters.py [--channels 306] [--block 20]
"""

import argparse
import time

import numpy as np
from scipy import signal

from neuroshell.filters.chain import ChainSpec, ChainState, Stage, sections

RATE_HZ, SECONDS = 1000.0, 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=306)
    parser.add_argument("--block", type=int, default=20, help="samples per block as they arrive")
    args = parser.parse_args()
    data = np.random.default_rng(0).normal(size=(int(RATE_HZ * SECONDS), args.channels))
    chain = ChainSpec((Stage("bandpass", 1.0, 40.0), Stage("notch", 50.0)))
    state = ChainState(chain, RATE_HZ, args.channels)
    state.process(data[:100])  # scipy loaded and warm
    state.reset()
    started, cpu = time.perf_counter(), time.process_time()
    for first in range(0, len(data), args.block):
        state.process(data[first : first + args.block])
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    started = time.perf_counter()
    signal.sosfilt(sections(chain, RATE_HZ), data, axis=0)
    whole = time.perf_counter() - started
    share = cpu / SECONDS
    print(f"{args.channels} ch x {RATE_HZ:g} Hz, {len(sections(chain, RATE_HZ))} second-order sections "
          f"({chain.describe()}), blocks of {args.block} samples")  # fmt: skip
    print(f"online, block by block: {wall:.2f} s wall for {SECONDS} s of data: {share:.1%} of a core "
          f"(target < 5%: {'met' if share < 0.05 else 'MISSED'})")  # fmt: skip
    print(f"reference, the whole minute at once with scipy: {whole:.2f} s ({whole / SECONDS:.1%} of a core)")


if __name__ == "__main__":
    main()
