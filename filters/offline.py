"""Redo on a recording the filtering that ran live: each recorded chain from the time it came into force,
with its state starting from zero there and after every gap, as ``OnlineFilter`` ran it."""

import itertools

import numpy as np

from neuroshell.filters.chain import ChainSpec, ChainState


def redo_chains(
    data: np.ndarray, times: np.ndarray, rate_hz: float, gaps: np.ndarray, changes: list[tuple[float, str]]
) -> np.ndarray:
    """``data`` (n, n_channels) in the channels' units, ``times`` (n,) in s, ``gaps`` (k, 2) start/stop in s,
    ``changes`` (time in s, chain JSON) as the file keeps them. Returns the filtered data (n, n_channels)
    float64; samples before the first change stay raw."""
    out = np.asarray(data, dtype=np.float64).copy()
    if not changes or not len(times):
        return out
    change_at = np.searchsorted(times, [time for time, _ in changes])
    restart_at = np.searchsorted(times, np.asarray(gaps).reshape(-1, 2)[:, 1])
    bounds = sorted({0, len(times), *change_at.tolist(), *restart_at.tolist()})
    for first, last in itertools.pairwise(bounds):
        in_force = int(np.searchsorted(change_at, first, side="right")) - 1
        if in_force < 0 or first == last:
            continue
        chain = ChainSpec.from_json(changes[in_force][1])
        if chain.stages:
            out[first:last] = ChainState(chain, rate_hz, data.shape[1]).process(out[first:last])
    return out
