"""Where a decoder's decisions go: an LSL outlet any LSL program reads (``neuroshell-decoder``, type
Markers), a marker in the running recording, a line for the user; and the running tally for ``decode
status`` (counts per class, skipped windows and why, latency percentiles)."""

import threading
from collections import Counter
from collections.abc import Callable

import numpy as np

from neuroshell.decoding.online import EVERY, Prediction, Skipped

OUTLET_NAME = "neuroshell-decoder"


class DecoderOutputs:
    """The ``report`` of an OnlineDecoder. ``mark(label, source)`` puts a marker into the recording (or does
    nothing when none runs); ``say(text)`` shows one line to the user; ``truth(marker label)``: the class a
    marker names, or None (predictions for markers that name a class count towards the online accuracy)."""

    def __init__(
        self, mark: Callable[[str, str], None], say: Callable[[str], None], clock, truth: Callable[[str], str | None]
    ) -> None:
        from pylsl import StreamInfo, StreamOutlet, cf_string

        info = StreamInfo(OUTLET_NAME, "Markers", 1, 0.0, cf_string, f"{OUTLET_NAME}-{id(self):x}")
        self.outlet = StreamOutlet(info)
        self.mark, self.say, self.clock = mark, say, clock
        self.truth = truth
        self.classes: Counter = Counter()
        self.skipped: Counter = Counter()
        self.latencies_s: list[float] = []
        self.end_to_end_s: list[float] = []
        self.predictions: list[Prediction] = []
        self.lock = threading.Lock()

    def __call__(self, item) -> None:
        if isinstance(item, Skipped):
            with self.lock:
                self.skipped[item.reason] += 1
            self.say(f"decoder skipped {item.marker_label}: its window crosses a {item.reason}")
            return
        pushed = self.clock()
        self.outlet.push_sample([item.label], pushed)
        item.decided(self.clock())
        latency_ms = item.latency_s * 1e3
        self.mark(f"decoder/{item.label}", f"decoder p={item.probability:.3f} latency={latency_ms:.1f}ms")
        with self.lock:
            self.classes[item.label] += 1
            self.latencies_s.append(item.latency_s)
            self.end_to_end_s.append(item.end_to_end_s)
            self.predictions.append(item)
        if item.marker_label != EVERY:
            self.say(f"decoder: {item.label} (p={item.probability:.2f}) for {item.marker_label}, {latency_ms:.1f} ms")
        elif len(self.predictions) == 1 or self.predictions[-2].label != item.label:
            # A sliding window decides many times a second: the screen shows only when the class changes.
            self.say(f"decoder: now {item.label} (p={item.probability:.2f}), {latency_ms:.1f} ms")

    def status(self) -> dict:
        """Counts, classes, skipped windows, online accuracy and latency percentiles (ms)."""
        with self.lock:
            latencies = np.array(self.latencies_s) * 1e3
            end_to_end = np.array(self.end_to_end_s) * 1e3
            figures = {
                "predictions": len(self.predictions),
                "classes": dict(self.classes),
                "skipped": dict(self.skipped),
            }
            # Where markers name the class (stim/left answered by stim/left), the share the decoder got right.
            judged = [p for p in self.predictions if self.truth(p.marker_label) is not None]
            right = sum(p.label == self.truth(p.marker_label) for p in judged)
        figures["judged"] = len(judged)
        figures["accuracy"] = right / len(judged) if judged else float("nan")
        for q in (50, 95, 99):
            figures[f"latency_p{q}_ms"] = float(np.percentile(latencies, q)) if len(latencies) else float("nan")
            figures[f"end_to_end_p{q}_ms"] = float(np.percentile(end_to_end, q)) if len(latencies) else float("nan")
        return figures

    def close(self) -> None:
        del self.outlet
