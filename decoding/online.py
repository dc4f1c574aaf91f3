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


class DecodeError(UserError):
    """A model that does not fit the device (channels, rate, window) or a decoder that cannot start."""


@dataclass
class Prediction:
    """One decision: the marker it answers (session time, label), the class and its probability, all
    probabilities, and the latency from the arrival of the window's last sample to the decision (s)."""

    marker_s: float
    marker_label: str
    label: str
    probability: float
    probabilities: np.ndarray
    latency_s: float


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
    device's reader thread."""

    def __init__(self, trained, recipe: dict, channels: list[int], rate_hz: float, clock, report: Callable) -> None:
        self.trained, self.channels, self.rate_hz, self.clock, self.report = trained, channels, rate_hz, clock, report
        self.patterns = recipe["markers"].split(",")
        self.window_s = tuple(recipe["window_s"])
        self.baseline_s = tuple(recipe["baseline_s"]) if recipe.get("baseline_s") else None
        # The last seconds of the model's channels, in their units: a ring buffer, written in place as blocks
        # arrive (this runs in the device's read loop).
        self.keep_s = self.window_s[1] - min(0.0, self.window_s[0]) + KEEP_EXTRA_S
        kept = StreamSpec("decoder", [str(c) for c in channels], rate_hz, dtype="float64")
        self.recent = RecentSamples(kept, seconds=self.keep_s)
        self.last_time = -np.inf
        self.gaps: list[tuple[float, float]] = []
        self.pending: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    def samples(self, device, data: np.ndarray, times: np.ndarray) -> None:
        arrived = self.clock()
        self.recent.add(device.spec.to_unit(data[:, self.channels], self.channels), times)
        with self.lock:
            self.last_time = float(times[-1])
            ready = [p for p in self.pending if p[0] + self.window_s[1] <= self.last_time + 0.5 / self.rate_hz]
            self.pending = [p for p in self.pending if p not in ready]
        for when, label in ready:
            self._decide(when, label, arrived)

    def marker(self, device, time_s: float, label: str) -> None:
        if any(fnmatch.fnmatchcase(label, pattern) for pattern in self.patterns):
            with self.lock:
                self.pending.append((time_s, label))

    def gap(self, device, start_s: float, stop_s: float) -> None:
        with self.lock:
            self.gaps = [g for g in self.gaps if g[1] > start_s - 60.0] + [(start_s, stop_s)]

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
        data, times = self.recent.last(self.keep_s)
        epochs, _, _, dropped = cut_epochs(
            data, times, self.rate_hz, np.array([when]), [label], [label], self.window_s, gaps,
            self.baseline_s,
        )  # fmt: skip
        if not len(epochs):
            self.report(Skipped(when, label, next(reason for reason, n in dropped.items() if n)))
            return
        probabilities = self.trained.classify(epochs)[0]
        best = int(probabilities.argmax())
        latency = self.clock() - arrived
        self.report(
            Prediction(when, label, self.trained.classes[best], float(probabilities[best]), probabilities, latency)
        )


def fit_check(trained, dataset, device) -> list[int]:
    """The device's channel indices the model takes, or a DecodeError naming what differs."""
    spec = device.spec
    if abs(spec.sampling_rate_hz - dataset.sampling_rate_hz) > 1e-6 * max(1.0, dataset.sampling_rate_hz):
        raise DecodeError(
            f"model {trained.name} was trained at {dataset.sampling_rate_hz:g} Hz; {device.name} runs at "
            f"{spec.sampling_rate_hz:g} Hz"
        )
    missing = [name for name in dataset.channel_names if name not in spec.channel_names]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise DecodeError(f"model {trained.name} takes channels {device.name} does not have: {shown}")
    return [spec.channel_names.index(name) for name in dataset.channel_names]
