"""One interface for every source: connect, a reader thread that delivers blocks of samples with
session-clock timestamps to listeners, markers and gaps, reconnection, and close.

A subclass implements ``_connect`` (open the transport, or raise DeviceError / DeviceLost),
``_read`` (read what is there and call ``_deliver_*``; raise DeviceLost when the device is gone) and
``_disconnect``. The base class runs the reader thread, so the shell never blocks on a device.
"""

import contextlib
import contextvars
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

import numpy as np
from loguru import logger

from neuroshell.common.errors import UserError
from neuroshell.storage.spec import StreamSpec

RECONNECT_INTERVAL_S = 0.25
RECENT_SECONDS = 5.0
IRREGULAR_STEP_S = 1e-6


class DeviceError(UserError):
    """A device problem the user can act on (no such port, nothing found, wrong channel count)."""


class DeviceLost(Exception):
    """The transport went away (port closed, outlet gone); the reader will try to reconnect."""


class DeviceListener(Protocol):
    def samples(self, device: "Device", data: np.ndarray, times: np.ndarray) -> None: ...

    def marker(self, device: "Device", time_s: float, label: str) -> None: ...

    def gap(self, device: "Device", start_s: float, stop_s: float) -> None: ...

    def clock_offset(self, device: "Device", local_time_s: float, offset_s: float) -> None: ...


class RecentSamples:
    """The last few seconds of a stream, for live monitoring: a ring buffer (n_keep, n_channels) of raw
    samples; ``last`` returns them in the channels' units."""

    def __init__(self, spec: StreamSpec, seconds: float = RECENT_SECONDS) -> None:
        self.spec = spec
        self.capacity = max(256, int((spec.sampling_rate_hz or 100.0) * seconds))
        self.data = np.zeros((self.capacity, spec.n_channels), dtype=np.float64)
        self.times = np.full(self.capacity, np.nan)
        self.write_index = 0
        self.total = 0
        self.lock = threading.Lock()

    def add(self, data: np.ndarray, times: np.ndarray) -> None:
        data, times = data[-self.capacity :], times[-self.capacity :]
        n = len(times)
        with self.lock:
            index = (self.write_index + np.arange(n)) % self.capacity
            self.data[index] = data
            self.times[index] = times
            self.write_index = (self.write_index + n) % self.capacity
            self.total += n

    def last(self, seconds: float) -> tuple[np.ndarray, np.ndarray]:
        """Samples of the last ``seconds`` (by their timestamps), oldest first, in the channels' units."""
        with self.lock:
            newest_first = (self.write_index - 1 - np.arange(min(self.total, self.capacity))) % self.capacity
            times = self.times[newest_first]
            # Only the rows asked for are copied: a decoder asks for its window many times a second.
            n = int(np.count_nonzero(times >= times[0] - seconds)) if len(times) else 0
            chosen = newest_first[:n][::-1]
            data = self.data[chosen]
        return self.spec.to_unit(data), times[:n][::-1].copy()


class Device:
    """A source of samples; see the module docstring for what subclasses implement."""

    source = "unknown"

    def __init__(self, name: str, clock: Callable[[], float]) -> None:
        self.name = name
        self.clock = clock
        self.spec: StreamSpec | None = None
        self.state = "connecting"  # connecting | streaming | lost | closed
        self.samples_received = 0
        self.samples_lost = 0  # samples known to be missing (sequence gaps, device loss)
        self.corrupt_frames = 0
        self.reconnects = 0
        self.markers_received = 0
        self.timestamp_repairs = 0  # blocks whose times a driver got out of order (a bug; repaired, logged)
        self.last_error = ""
        self.recent_markers: deque[tuple[float, str]] = deque(maxlen=50)
        self.listeners: list[DeviceListener] = []
        self.on_close: list[Callable[[], None]] = []  # e.g. stop the simulated helmet this device reads
        self.recent: RecentSamples | None = None
        self._last_time: float | None = None
        self._lost_since: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listener_lock = threading.Lock()

    # Life cycle.
    def start(self) -> "Device":
        """Connect (raising DeviceError with a clear message) and start the reader thread."""
        try:
            self._connect()
        except DeviceLost as error:
            raise DeviceError(f"{self.name}: {error}") from None
        if self.spec is None:
            raise RuntimeError("a device must know its StreamSpec once connected")
        self.recent = RecentSamples(self.spec)
        self.state = "streaming"
        # The reader runs in a copy of the caller's context: whatever it logs stays tagged as the caller's.
        context = contextvars.copy_context()
        self._thread = threading.Thread(target=context.run, args=(self._run,), name=f"device:{self.name}", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        try:
            self._disconnect()
        except Exception as error:
            logger.warning("{}: closing failed: {}", self.name, error)
        for stop in self.on_close:
            stop()
        self.state = "closed"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._read()
            except DeviceLost as error:
                self._lose(str(error))
                self._reconnect()
            except Exception as error:  # a device fault must never take the shell down
                logger.opt(exception=error).error("{}: reader failed", self.name)
                self._lose(f"{type(error).__name__}: {error}")
                self._reconnect()

    @property
    def lost_since(self) -> float | None:
        """While the device is lost: the time of its last sample (session clock, s); None while it streams."""
        return self._lost_since

    def _lose(self, reason: str) -> None:
        self.state = "lost"
        self.last_error = reason
        self._lost_since = self._last_time if self._last_time is not None else self.clock()
        logger.warning("{}: device lost ({})", self.name, reason)
        with contextlib.suppress(Exception):
            self._disconnect()

    def _reconnect(self) -> None:
        while not self._stop.wait(RECONNECT_INTERVAL_S):
            try:
                self._connect()
            except (DeviceLost, DeviceError, OSError) as error:
                self.last_error = str(error)
                continue
            self.reconnects += 1
            self.state = "streaming"
            logger.info("{}: reconnected", self.name)
            return

    # Listeners.
    def add_listener(self, listener: DeviceListener) -> None:
        with self._listener_lock:
            self.listeners = [*self.listeners, listener]

    def remove_listener(self, listener: DeviceListener) -> None:
        with self._listener_lock:
            self.listeners = [item for item in self.listeners if item is not listener]

    def replace_listener(self, old: DeviceListener, new: DeviceListener | None) -> None:
        """``new`` takes ``old``'s place from the next block on (removed when ``new`` is None): no block
        reaches both or neither."""
        with self._listener_lock:
            self.listeners = [new if item is old else item for item in self.listeners if new or item is not old]

    def _notify(self, method: str, *args) -> None:
        for listener in self.listeners:
            try:
                getattr(listener, method)(self, *args)
            except Exception as error:
                logger.opt(exception=error).error("{}: listener {} failed", self.name, method)

    # Called by subclasses from the reader thread.
    def _deliver_samples(
        self, data: np.ndarray, times: np.ndarray, gap_before: tuple[float, float] | None = None
    ) -> None:
        """Hand a block to the listeners. ``times`` must be strictly increasing and after every earlier
        sample; ``gap_before`` is the span without data before this block (a new clock segment)."""
        if len(times) == 0:
            return
        times = self._strictly_increasing(times)
        if self._lost_since is not None:
            # The device came back: the time it was away holds no data.
            gap_before = (self._lost_since, float(times[0]))
            self._lost_since = None
        if gap_before is not None:
            self._deliver_gap(*gap_before)
        self.samples_received += len(times)
        self._last_time = float(times[-1])
        self.recent.add(data, times)
        self._notify("samples", data, times)

    def _strictly_increasing(self, times: np.ndarray) -> np.ndarray:
        """The last line of defence of the one-clock promise: a block out of order (a driver's bug) is moved
        just after the previous sample, logged and counted, so no reader ever sees time run backwards."""
        last = self._last_time
        steps = np.diff(times)
        if (last is None or times[0] > last) and (len(steps) == 0 or steps.min() > 0):
            return times
        self.timestamp_repairs += 1
        if self.timestamp_repairs == 1:
            logger.error("{}: timestamps out of order (repaired); please report this", self.name)
        return self._irregular_times(times)

    def _irregular_times(self, observed_s: np.ndarray) -> np.ndarray:
        """Times for samples of an irregular stream as observed, each at least a microsecond after the one
        before (several may arrive together), so that times stay strictly increasing."""
        floor = -np.inf if self._last_time is None else self._last_time + IRREGULAR_STEP_S
        steps = IRREGULAR_STEP_S * np.arange(len(observed_s))
        return np.maximum.accumulate(np.maximum(observed_s - steps, floor)) + steps

    def _deliver_marker(self, time_s: float, label: str) -> None:
        self.markers_received += 1
        self.recent_markers.append((time_s, label))
        self._notify("marker", time_s, label)

    def _deliver_gap(self, start_s: float, stop_s: float, missing_samples: int | None = None) -> None:
        if missing_samples is None and self.spec and self.spec.sampling_rate_hz:
            missing_samples = max(0, round((stop_s - start_s) * self.spec.sampling_rate_hz) - 1)
        self.samples_lost += missing_samples or 0
        self._notify("gap", start_s, stop_s)

    def _deliver_clock_offset(self, local_time_s: float, offset_s: float) -> None:
        self._notify("clock_offset", local_time_s, offset_s)

    # Subclass hooks.
    def _connect(self) -> None:
        raise NotImplementedError

    def _read(self) -> None:
        raise NotImplementedError

    def _disconnect(self) -> None:
        raise NotImplementedError

    def describe(self) -> dict[str, object]:
        spec = self.spec
        return {
            "name": self.name,
            "source": self.source,
            "channels": spec.n_channels if spec else 0,
            "rate_hz": spec.sampling_rate_hz if spec else 0.0,
            "received": self.samples_received,
            "lost": self.samples_lost,
            "corrupt": self.corrupt_frames,
            "reconnects": self.reconnects,
            "state": self.state,
        }


def wait_until(condition: Callable[[], bool], timeout_s: float, interval_s: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval_s)
    return condition()
