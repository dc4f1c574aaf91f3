"""A decoder on a live device: after each marker that matches, as soon as the last sample of the model's
window has arrived, the window is cut (``training.datasets.cut_epochs``, as ``dataset epochs`` cuts it),
classified (``TrainedModel.classify``, as ``evaluate`` classifies) and handed to ``on_prediction``."""

import fnmatch
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from neuroshell.common.errors import UserError
from neuroshell.devices.base import RecentSamples
from neuroshell.storage.spec import StreamSpec

KEEP_EXTRA_S = 2.0  # samples kept beyond the window, for markers that arrive late
EVERY = "every"  # the marker label of a sliding window


class DecodeError(UserError):
    """A model that does not fit the device (channels, rate, window) or a decoder that cannot start."""


@dataclass
class Prediction:
    """One decision: the marker it answers (session time, label), the class and its probability, all
    probabilities; when the block holding the window's last sample reached the decoder (``arrived_s``) and
    that sample's timestamp (``last_sample_s``), session times in s. ``latency_s`` (arrival to the decision)
    and ``end_to_end_s`` (timestamp to the decision) are set again when the decision is pushed out."""

    marker_s: float
    marker_label: str
    label: str
    probability: float
    probabilities: np.ndarray
    arrived_s: float
    last_sample_s: float
    latency_s: float = 0.0
    end_to_end_s: float = 0.0

    def decided(self, now_s: float) -> None:
        self.latency_s, self.end_to_end_s = now_s - self.arrived_s, now_s - self.last_sample_s


@dataclass
class Skipped:
    """A marker whose window could not be decoded, and why (``gap``, ``edge``)."""

    marker_s: float
    marker_label: str
    reason: str


class OnlineDecoder:
    """A device listener (attach it to the device, or to its ``OnlineFilter`` to decode the filtered signal).

    ``recipe``: the dataset's recipe (``markers``, ``window_s``, ``baseline_s``); ``channels``: indices of
    the device's channels the model takes; ``report(item)`` gets each Prediction or Skipped, from the
    device's reader thread. With ``every_s``, the latest window is classified each ``every_s`` seconds of
    stream time instead (a sliding window; its marker is the one the window would belong to, ``EVERY``)."""

    def __init__(
        self, trained, recipe: dict, channels: list[int], rate_hz: float, clock, report: Callable,
        every_s: float | None = None,
    ) -> None:  # fmt: skip
        self.trained, self.channels, self.rate_hz, self.clock, self.report = trained, channels, rate_hz, clock, report
        # A dataset's markers may relabel (T1=fists): the decoder answers the labels before the "=".
        self.patterns = [item.partition("=")[0] for item in recipe["markers"].split(",")]
        self.window_s = tuple(recipe["window_s"])
        self.baseline_s = tuple(recipe["baseline_s"]) if recipe.get("baseline_s") else None
        self.every_s = every_s
        self.next_window_end_s: float | None = None
        # The last seconds of the model's channels, in their units: a ring buffer, written in place as blocks
        # arrive (this runs in the device's read loop).
        self.keep_s = self.window_s[1] - min(0.0, self.window_s[0]) + KEEP_EXTRA_S
        kept = StreamSpec("decoder", [str(c) for c in channels], rate_hz, dtype="float64")
        self.recent = RecentSamples(kept, seconds=self.keep_s)
        self.last_time = -np.inf
        self.gaps: list[tuple[float, float]] = []
        self.pending: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        # BLAS's own worker threads spin against the device's reader and the recorder: with two of them on
        # this 2-core machine a ts-lr decision took 20 ms in the loop instead of 7 ms (bench/closedloop.py).
        from threadpoolctl import threadpool_limits

        self.blas_limit = threadpool_limits(limits=1, user_api="blas")

    def close(self) -> None:
        """Give BLAS its threads back (the decoder is detached from its device first)."""
        self.blas_limit.restore_original_limits()

    def samples(self, device, data: np.ndarray, times: np.ndarray) -> None:
        """A raw block from the device, in its source's format."""
        self.unit_samples(device, device.spec.to_unit(data[:, self.channels], self.channels), times, all_channels=False)

    def unit_samples(self, device, data: np.ndarray, times: np.ndarray, all_channels: bool = True) -> None:
        """A block in the channels' units (float64), as an OnlineFilter hands it on."""
        arrived = self.clock()
        self.recent.add(data[:, self.channels] if all_channels else data, times)
        with self.lock:
            self.last_time = float(times[-1])
            if self.every_s is not None:
                self._schedule_windows(float(times[0]))
            ready = [p for p in self.pending if p[0] + self.window_s[1] <= self.last_time + 0.5 / self.rate_hz]
            self.pending = [p for p in self.pending if p not in ready]
        for when, label in ready:
            self._decide(when, label, arrived)

    def _schedule_windows(self, first_s: float) -> None:
        if self.next_window_end_s is None:
            self.next_window_end_s = first_s + (self.window_s[1] - self.window_s[0])
        while self.next_window_end_s <= self.last_time + 0.5 / self.rate_hz:
            self.pending.append((self.next_window_end_s - self.window_s[1], EVERY))
            self.next_window_end_s += self.every_s

    def marker(self, device, time_s: float, label: str) -> None:
        if self.every_s is None and any(fnmatch.fnmatchcase(label, pattern) for pattern in self.patterns):
            with self.lock:
                self.pending.append((time_s, label))

    def gap(self, device, start_s: float, stop_s: float) -> None:
        with self.lock:
            self.gaps = [g for g in self.gaps if g[1] > start_s - 60.0] + [(start_s, stop_s)]
            if self.every_s is not None:
                self.next_window_end_s = None  # windows start again once a whole one has arrived

    def clock_offset(self, device, local_time_s: float, offset_s: float) -> None:
        pass

    def _decide(self, when: float, label: str, arrived: float) -> None:
        from neuroshell.training.datasets import cut_epochs

        with self.lock:
            gaps = np.array(self.gaps).reshape(-1, 2)
        start, stop = when + self.window_s[0], when + self.window_s[1]
        if len(gaps) and np.any((gaps[:, 0] <= stop) & (gaps[:, 1] >= start)):
            self.report(Skipped(when, label, "gap"))  # the device was away during the window
            return
        data, times = self.recent.last(min(self.keep_s, self.last_time - start + 2.0 / self.rate_hz))
        epochs, _, _, dropped = cut_epochs(
            data, times, self.rate_hz, np.array([when]), [label], [label], self.window_s, gaps,
            self.baseline_s,
        )  # fmt: skip
        if not len(epochs):
            self.report(Skipped(when, label, next(reason for reason, n in dropped.items() if n)))
            return
        probabilities = self.trained.classify(epochs)[0]
        best = int(probabilities.argmax())
        last_sample = when + self.window_s[0] + (epochs.shape[2] - 1) / self.rate_hz
        prediction = Prediction(
            when, label, self.trained.classes[best], float(probabilities[best]), probabilities, arrived, last_sample
        )
        prediction.decided(self.clock())
        self.report(prediction)


def fit_check(trained, data: dict, device) -> list[int]:
    """The device's channel indices the model takes, or a DecodeError naming what differs. ``data``: what the
    model learnt from (``channel_names``, ``sampling_rate_hz``)."""
    spec = device.spec
    speed = getattr(device, "speed", 1.0)
    rate, names = data["sampling_rate_hz"], data["channel_names"]
    if speed != 1.0:
        raise DecodeError(f"{device.name} replays at {speed:g}x real time: a decoder needs real time (--speed 1)")
    if abs(spec.sampling_rate_hz - rate) > 1e-6 * max(1.0, rate):
        raise DecodeError(
            f"model {trained.name} was trained at {rate:g} Hz; {device.name} runs at {spec.sampling_rate_hz:g} Hz"
        )
    missing = [name for name in names if name not in spec.channel_names]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise DecodeError(f"model {trained.name} takes channels {device.name} does not have: {shown}")
    return [spec.channel_names.index(name) for name in names]
