"""What the live view draws of one device: its signal reduced to min/max envelopes as it arrives, and its
markers. A device listener (as the recorder and the monitor are), cheap enough for 306 ch x 1 kHz: each block
is reduced once into bins of ``BIN_S``; the page asks for the bins it has not drawn yet."""

import threading
from collections import deque
from typing import NamedTuple

import numpy as np

BIN_S = 0.01  # one envelope point per 10 ms: 3000 over the widest window, about one per pixel column
KEPT_S = 30.0  # the widest window the page offers


class Envelope(NamedTuple):
    """Bins of a device's signal: ``time_s`` (n_bins,) the start of each bin on the session clock, ``low``
    and ``high`` (n_bins, n_channels) float32, the least and greatest sample of each channel in the bin, in
    the stream's unit after its scale."""

    time_s: np.ndarray
    low: np.ndarray
    high: np.ndarray


class DeviceFeed:
    """Listens to one device's signal for the view (raw, or filtered while a chain runs); never changes what it
    is given."""

    def __init__(self, name: str, n_channels: int, scale: np.ndarray | float = 1.0) -> None:
        self.name = name
        self.n_channels = n_channels
        self.scale = np.asarray(scale, dtype=np.float32)
        self.bins: deque = deque(maxlen=round(KEPT_S / BIN_S))  # (start_s, low, high) per completed bin
        self.markers: deque = deque(maxlen=1000)  # (time_s, label) sent by the device
        self.gaps: deque = deque(maxlen=1000)  # (start_s, stop_s)
        self.completed = 0  # bins completed so far: the page draws from where it left off
        self.markers_seen = 0
        self.samples_seen = 0
        self.last_arrival_s = 0.0
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        self._open_bin: int | None = None  # the bin (time // BIN_S) still filling
        self._lock = threading.Lock()

    # Device listener: called from the device's reader thread.
    def samples(self, device, data: np.ndarray, times: np.ndarray) -> None:
        if not len(times):
            return
        with self._lock:
            self.samples_seen += len(times)
            self.last_arrival_s = float(times[-1])
            self._pending.append((data, times))
            last = _bin_of(times[-1:])[0]
            if self._open_bin is None or last > self._open_bin:
                self._reduce()
                self._open_bin = last

    def unit_samples(self, device, data: np.ndarray, times: np.ndarray) -> None:
        """A filtered block, already in the channels' units (the bins are scaled as raw samples are)."""
        self.samples(device, data / self.scale, times)

    def marker(self, device, time_s: float, label: str) -> None:
        with self._lock:
            self.markers.append((float(time_s), label))
            self.markers_seen += 1

    def gap(self, device, start_s: float, stop_s: float) -> None:
        with self._lock:
            self.gaps.append((float(start_s), float(stop_s)))

    def markers_since(self, seen: int) -> tuple[list[tuple[float, str]], int]:
        """The device's markers (time s, label) after the first ``seen`` (those still kept), and the new count."""
        with self._lock:
            fresh = min(self.markers_seen - seen, len(self.markers))
            return list(self.markers)[len(self.markers) - fresh :] if fresh > 0 else [], self.markers_seen

    def clock_offset(self, device, local_time_s: float, offset_s: float) -> None:
        pass

    def _reduce(self) -> None:
        data = np.concatenate([d for d, _ in self._pending]) if len(self._pending) > 1 else self._pending[0][0]
        times = np.concatenate([t for _, t in self._pending]) if len(self._pending) > 1 else self._pending[0][1]
        number = _bin_of(times)
        done = int(np.searchsorted(number, number[-1]))  # the last bin may still grow
        if done:
            starts = np.flatnonzero(np.diff(number[:done], prepend=-1))
            values = data[:done].astype(np.float32, copy=False)
            low, high = np.minimum.reduceat(values, starts), np.maximum.reduceat(values, starts)
            for k, first in enumerate(starts):
                self.bins.append((number[first] * BIN_S, low[k] * self.scale, high[k] * self.scale))
            self.completed += len(starts)
        self._pending = [(data[done:], times[done:])]

    # The page's side: called from the server's thread.
    def since(self, completed: int) -> tuple[Envelope, int]:
        """The bins completed after the first ``completed`` ones (at most the kept ones), and the new count."""
        with self._lock:
            fresh = min(self.completed - completed, len(self.bins))
            rows = list(self.bins)[len(self.bins) - fresh :] if fresh > 0 else []
            now = self.completed
        if not rows:
            empty = np.zeros((0, self.n_channels), dtype=np.float32)
            return Envelope(np.zeros(0), empty, empty), now
        return Envelope(
            np.array([r[0] for r in rows]), np.stack([r[1] for r in rows]), np.stack([r[2] for r in rows])
        ), now


def _bin_of(times: np.ndarray) -> np.ndarray:
    """The bin of each time: a sample on a bin's edge (up to float rounding) opens that bin."""
    return np.floor(times / BIN_S + 1e-6).astype(np.int64)
