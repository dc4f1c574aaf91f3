"""A stream's samples placed on the regular grid of its nominal rate, as formats without timestamps (FIF,
EDF) need them: samples stay contiguous between gaps (drift is not rounded into holes), and each gap
becomes a span of padding as long as the time it lasted."""

from dataclasses import dataclass

import numpy as np

GAP_STEPS = 1.5  # a step longer than this many sample periods starts a new segment


@dataclass
class Timeline:
    """``segments`` (k, 3) int64 rows: grid index of a segment's first sample, its index in the stream, its
    length. ``padding`` (m, 2) int64 rows: grid index and length of each gap's padding."""

    rate_hz: float
    first_time_s: float
    segments: np.ndarray
    padding: np.ndarray
    grid_of_sample: np.ndarray  # (n_samples,) grid index of every stored sample
    times_s: np.ndarray  # (n_samples,) the stream's timestamps, session clock

    @property
    def n_grid(self) -> int:
        last = self.segments[-1]
        return int(last[0] + last[2]) if len(self.segments) else 0

    def grid_position(self, times_s: np.ndarray) -> np.ndarray:
        """Fractional grid positions of times (s, session clock): interpolated between the samples around
        each time, so a marker keeps its place between two samples; outside the stream, at the nominal rate."""
        times_s = np.asarray(times_s, dtype=np.float64)
        if not len(self.times_s):
            return np.full(times_s.shape, np.nan)
        inside = np.interp(times_s, self.times_s, self.grid_of_sample.astype(np.float64))
        before = (times_s - self.times_s[0]) * self.rate_hz
        after = self.grid_of_sample[-1] + (times_s - self.times_s[-1]) * self.rate_hz
        return np.where(times_s < self.times_s[0], before, np.where(times_s > self.times_s[-1], after, inside))

    def fill(self, out: np.ndarray, grid_start: int, read) -> None:
        """Fill ``out`` (n_channels, n) with grid samples ``grid_start:grid_start + n``: ``read(first, last)``
        returns stored samples (last - first, n_channels); padding stays zero."""
        out[:] = 0
        grid_stop = grid_start + out.shape[1]
        for grid_first, stored_first, length in self.segments:
            lo, hi = max(grid_start, grid_first), min(grid_stop, grid_first + length)
            if lo < hi:
                first = stored_first + (lo - grid_first)
                out[:, lo - grid_start : hi - grid_start] = read(first, first + hi - lo).T


def build_timeline(times_s: np.ndarray, rate_hz: float) -> Timeline:
    """The grid of a stream with timestamps ``times_s`` (n,) s at nominal rate ``rate_hz``."""
    times_s = np.asarray(times_s, dtype=np.float64)
    n = len(times_s)
    steps = np.diff(times_s)
    breaks = np.flatnonzero(steps > GAP_STEPS / rate_hz) + 1  # first stored index of each later segment
    pads = np.maximum(np.rint(steps[breaks - 1] * rate_hz).astype(np.int64) - 1, 0)
    starts = np.concatenate([[0], breaks]).astype(np.int64)
    lengths = np.diff(np.concatenate([starts, [n]]))
    grid_starts = starts + np.concatenate([[0], np.cumsum(pads)])
    segments = np.stack([grid_starts, starts, lengths], axis=1) if n else np.zeros((0, 3), np.int64)
    padding = np.stack([grid_starts[1:] - pads, pads], axis=1) if len(pads) else np.zeros((0, 2), np.int64)
    grid_of_sample = np.arange(n, dtype=np.int64) + np.repeat(grid_starts - starts, lengths)
    first = float(times_s[0]) if n else 0.0
    return Timeline(float(rate_hz), first, segments, padding, grid_of_sample, times_s)
