"""Session-clock times for the numbered samples of a regular stream: a dejittering clock that never runs
backwards.

Sample ``k`` of a segment is acquired at ``t0 + k * period``; it reaches neuroshell (or is stamped by its
source) at that time plus a delay that is never negative: transport, buffering, scheduling. So the true
times lie on the *lower envelope* of the observations ``(k, observed_k)``. ``StreamClock`` estimates that
line with the linear program of Moon, Skelly and Towsley (1999, "Estimation and removal of clock skew from
network delay measurements"): the line under every observation that is highest at their mean, which is an
edge of their lower convex hull. A mean fit (as liblsl's dejittering does) would place samples late by the
mean delay; the envelope follows the earliest arrivals, which jitter cannot make early.

The times handed out follow that line by slewing, never by stepping: each block's spacing is the estimated
period stretched or shrunk by at most ``MAX_SLEW``, so timestamps are strictly increasing and their spacing
stays within ``period * (1 +/- MAX_SLEW)``. An error larger than ``JUMP_S`` that persists (the device lost
samples without saying so, its clock was reset) starts a new segment, which the caller records as a gap.
Only a stream whose samples are counted on arrival (``numbered=False``: no device counter, e.g. CSV) can
lose samples unannounced; a device counter says exactly which sample is which, so a late numbered sample
is only late (a stalled reader draining its backlog), never a jump.
"""

import itertools
from collections import deque
from dataclasses import dataclass

import numpy as np

BIN_S = 0.25  # observations are summarised by the earliest one per bin of arrival time
WINDOW_S = 60.0  # the envelope is fitted to this much recent history
MIN_DRIFT_SPAN_S = 10.0  # the rate is estimated once the history spans this long; before that, nominal
MAX_DRIFT = 0.005  # a device's rate may differ from nominal by this fraction (5000 ppm)
MAX_SLEW = 0.004  # spacing stays within the period * (1 +/- 0.4%)
SLEW_HORIZON_S = 2.0  # an error of e seconds is corrected at e / SLEW_HORIZON_S (capped by MAX_SLEW)
JUMP_S = 0.5  # an error this large, persisting for JUMP_EVIDENCE_S, starts a new segment
JUMP_EVIDENCE_S = 2.0
STEADY_RATE = 0.05  # ... while samples arrive at their rate within 5% (not a backlog being drained)


@dataclass
class Placement:
    """The times of one block, and the gap before it when it starts a new segment."""

    times: np.ndarray  # (n,) float64 seconds on the session clock, strictly increasing
    gap: tuple[float, float] | None = None  # (last time of the previous segment, first time of this block)


class StreamClock:
    """Times for samples numbered by a device counter (or counted on arrival), dejittered.

    ``place(first_index, observed_s)`` takes the block's sample numbers ``first_index ..`` and, for each
    sample or only for its last, the time it was observed (arrival, or the source's own timestamp); it
    returns their times. Indices count samples since the segment began, including missing ones.
    """

    def __init__(self, rate_hz: float, numbered: bool = True) -> None:
        if rate_hz <= 0:
            raise ValueError("a StreamClock needs a regular sampling rate")
        self.numbered = numbered
        self.nominal_period_s = 1.0 / rate_hz
        self.last_time_s: float | None = None  # the last time handed out, in any segment
        self.segments = 0
        self._new_segment_pending = True

    def reset(self) -> None:
        """The device restarted its numbering: the next block starts a new segment."""
        self._new_segment_pending = True

    def place(self, first_index: int, n: int, observed_s: float | np.ndarray) -> Placement:
        """Times of samples ``first_index .. first_index + n - 1``. ``observed_s`` is the observation time of
        the last sample (a float) or of every sample (an array of n)."""
        if n <= 0:
            return Placement(np.zeros(0))
        indices, observed = _observations(first_index, n, observed_s)
        gap = None
        if self._new_segment_pending:
            gap = self._start_segment(first_index, indices, observed)
        self._observe(indices, observed)
        if self._jumped():
            gap = self._start_segment(first_index, indices, observed)
            self._observe(indices, observed)
        times = self._slew(first_index, n)
        self.last_time_s = float(times[-1])
        return Placement(times, None if gap is None else (gap[0], float(times[0])))

    def time_of(self, index: int) -> float | None:
        """The time of sample ``index`` on the current segment's mapping (exact inside the last block)."""
        if self._new_segment_pending:
            return None
        return self._block_time + (index - self._block_index) * self._block_step

    # Segments.
    def _start_segment(self, first_index: int, indices: np.ndarray, observed: np.ndarray) -> tuple[float, float] | None:
        """Begin a segment at the block ``first_index ..`` observed as given; returns the gap before it, if any."""
        previous = self.last_time_s
        self._origin_index = first_index
        self._origin_time = float(np.min(observed - (indices - first_index) * self.nominal_period_s))
        self._bins: list[tuple[float, float, float]] = []  # (bin start, x, y) of each closed bin
        self._open_bin: tuple[float, float, float] | None = None
        self._recent: deque[tuple[float, float, float]] = deque()  # (arrival, residual to the line, x)
        self._intercept, self._slope = 0.0, 0.0
        self._new_segment_pending = False
        self.segments += 1
        first = self._origin_time if previous is None else max(self._origin_time, previous + self.nominal_period_s)
        self._block_index, self._block_time = first_index - 1, first - self.nominal_period_s
        self._block_step = self.nominal_period_s
        return None if previous is None else (previous, first)

    # The envelope.
    def _observe(self, indices: np.ndarray, observed: np.ndarray) -> None:
        x = (indices - self._origin_index).astype(np.float64)
        y = observed - self._origin_time - x * self.nominal_period_s
        lowest = int(np.argmin(y))
        arrival = float(observed[-1])
        point = (arrival, float(x[lowest]), float(y[lowest]))
        if self._open_bin is None or arrival >= self._open_bin[0] + BIN_S:
            if self._open_bin is not None:
                self._bins.append(self._open_bin)
            self._open_bin = point
            cutoff = arrival - WINDOW_S
            while self._bins and self._bins[0][0] < cutoff:
                self._bins.pop(0)
            self._fit()
        elif point[2] < self._open_bin[2]:
            self._open_bin = (self._open_bin[0], point[1], point[2])
            self._fit()
        if self.numbered:
            return  # a numbered stream never jumps: no evidence to keep
        residual = point[2] - (self._intercept + self._slope * point[1])
        self._recent.append((arrival, residual, point[1]))
        while self._recent[0][0] < arrival - JUMP_EVIDENCE_S:
            self._recent.popleft()

    def _fit(self) -> None:
        points = [*self._bins, self._open_bin]
        xs = np.array([p[1] for p in points])
        ys = np.array([p[2] for p in points])
        span_s = points[-1][0] - points[0][0]
        slope = 0.0
        if span_s >= MIN_DRIFT_SPAN_S and xs[-1] > xs[0]:
            slope = _envelope_slope(xs, ys)
            limit = MAX_DRIFT * self.nominal_period_s
            slope = min(max(slope, -limit), limit)
        self._slope = slope
        self._intercept = float(np.min(ys - slope * xs))  # the line stays under every observation

    def _jumped(self) -> bool:
        """Every observation of the last JUMP_EVIDENCE_S is far above the line while samples arrive at their
        own rate: they are later than their count says (samples went missing unannounced)."""
        # every residual must be large: the newest one settles the usual case without a scan
        if self.numbered or len(self._recent) < 4 or self._recent[-1][1] <= JUMP_S:
            return False
        recent = list(self._recent)
        if recent[-1][0] - recent[0][0] < JUMP_EVIDENCE_S * 0.9 or min(r[1] for r in recent) <= JUMP_S:
            return False
        halves = (recent[: len(recent) // 2 + 1], recent[len(recent) // 2 :])
        return all(self._arriving_at_rate(half) for half in halves)

    def _arriving_at_rate(self, observations: list[tuple[float, float, float]]) -> bool:
        (first_arrival, _, first_x), (last_arrival, _, last_x) = observations[0], observations[-1]
        span = last_arrival - first_arrival
        return span > 0 and abs((last_x - first_x) * self.nominal_period_s / span - 1.0) < STEADY_RATE

    # Output.
    def _slew(self, first_index: int, n: int) -> np.ndarray:
        period = self.nominal_period_s + self._slope
        previous_index, previous_time = first_index - 1, self.time_of(first_index - 1)
        x = previous_index - self._origin_index
        error = self._origin_time + x * self.nominal_period_s + self._intercept + self._slope * x - previous_time
        correction = min(max(error / SLEW_HORIZON_S, -MAX_SLEW), MAX_SLEW)
        step = period * (1.0 + correction)
        self._block_index, self._block_time, self._block_step = first_index, previous_time + step, step
        return previous_time + step * np.arange(1, n + 1)


def _observations(first_index: int, n: int, observed_s) -> tuple[np.ndarray, np.ndarray]:
    observed = np.asarray(observed_s, dtype=np.float64)
    if observed.ndim == 0:
        return np.array([first_index + n - 1]), observed.reshape(1)
    if observed.shape != (n,):
        raise ValueError(f"{n} samples need {n} observation times, not {observed.shape[0]}")
    return first_index + np.arange(n), observed


def _envelope_slope(xs: np.ndarray, ys: np.ndarray) -> float:
    """Slope of the lower-hull edge of the points (sorted by x) that spans their mean x: the line under
    every point that is highest at the mean, i.e. the one closest to the points on average."""
    hull: list[int] = []
    for i in range(len(xs)):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            # b lies on or above the segment a -> i: not part of the lower hull
            if (ys[b] - ys[a]) * (xs[i] - xs[a]) >= (ys[i] - ys[a]) * (xs[b] - xs[a]):
                hull.pop()
            else:
                break
        hull.append(i)
    mean_x = float(xs.mean())
    for a, b in itertools.pairwise(hull):
        if xs[a] <= mean_x <= xs[b] and xs[b] > xs[a]:
            return float((ys[b] - ys[a]) / (xs[b] - xs[a]))
    return 0.0
