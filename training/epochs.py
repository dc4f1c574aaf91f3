"""Epochs of a recorded stream prepared as the field prepares them: filtered over the continuous data
(zero-phase as MNE's ``filter``, or causally as a live chain), resampled (polyphase), cut around markers
relabelled into classes, and epochs over a peak-to-peak amplitude rejected.

Plain data in and out: samples (n, n_channels) in the channels' units, times in s on the session clock.
"""

import fnmatch
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from neuroshell.filters.chain import ChainSpec
from neuroshell.training.datasets import cut_epochs
from neuroshell.training.errors import TrainingError

# A channel unit -> (its SI dimension, factor to SI): a rejection threshold applies to the channels of its
# dimension (volts for EEG, teslas for magnetometers).
UNIT_SI = {
    "V": ("V", 1.0),
    "mV": ("V", 1e-3),
    "uV": ("V", 1e-6),
    "µV": ("V", 1e-6),
    "microvolts": ("V", 1e-6),
    "nV": ("V", 1e-9),
    "T": ("T", 1.0),
    "pT": ("T", 1e-12),
    "fT": ("T", 1e-15),
}


@dataclass(frozen=True)
class EpochPlan:
    """How epochs are made from a stream.

    ``markers``: (glob pattern, class) pairs; an empty class keeps the marker's own label. ``window_s`` and
    ``baseline_s``: spans around the marker in s. ``chain``: filters over the continuous data, ``causal``
    to run them as a live chain does (else zero-phase). ``resample_hz``: the rate epochs are cut at.
    ``reject``: peak-to-peak limits in SI by dimension, e.g. {"V": 100e-6}."""

    markers: tuple[tuple[str, str], ...]
    window_s: tuple[float, float]
    baseline_s: tuple[float, float] | None = None
    chain: ChainSpec | None = None
    causal: bool = False
    resample_hz: float | None = None
    reject: dict[str, float] = field(default_factory=dict)

    def class_of(self, label: str) -> str | None:
        """The class a marker label goes to (the first pattern that matches), or None."""
        return class_of(self.markers, label)


def class_of(markers: tuple[tuple[str, str], ...], label: str) -> str | None:
    """The class ``label`` goes to under (glob pattern, class) pairs (``parse_markers``): the first pattern
    that matches gives it (an empty class keeps the label); None when none matches."""
    for pattern, name in markers:
        if fnmatch.fnmatchcase(label, pattern):
            return name or label
    return None


@dataclass
class SourceEpochs:
    """Epochs of one source: ``X`` (n, n_channels, n_times) float32 in the channels' units, ``classes`` (n,)
    class names, ``onsets_s`` (n,), ``dropped`` counts by reason, ``channel_names``, ``rate_hz``."""

    X: np.ndarray
    classes: list[str]
    onsets_s: np.ndarray
    dropped: dict[str, int]
    channel_names: list[str]
    rate_hz: float


def parse_markers(items: list[str]) -> tuple[tuple[str, str], ...]:
    """``["T1=fists", "stim/*"]`` -> (("T1", "fists"), ("stim/*", "")): patterns and the classes they become."""
    pairs = []
    for item in items:
        pattern, _, name = item.partition("=")
        if not pattern.strip():
            raise TrainingError(f"--markers {item}: write LABEL or LABEL=CLASS, e.g. T1=fists,T2=feet")
        pairs.append((pattern.strip(), name.strip()))
    return tuple(pairs)


def filtered(data: np.ndarray, times: np.ndarray, rate_hz: float, gaps: np.ndarray, plan: EpochPlan) -> np.ndarray:
    """The continuous data (n, n_channels) through the plan's chain (a copy; the input stays as read)."""
    from neuroshell.filters.chain import sections
    from neuroshell.filters.offline import causal, zero_phase

    if plan.chain is None or not plan.chain.stages:
        return np.asarray(data, dtype=np.float64)
    sections(plan.chain, rate_hz)  # an edge at or past Nyquist is refused here, in the chain's own words
    run = causal if plan.causal else zero_phase
    return run(data, times, rate_hz, gaps, plan.chain)


def resampled(
    data: np.ndarray, times: np.ndarray, rate_hz: float, gaps: np.ndarray, new_rate_hz: float
) -> tuple[np.ndarray, np.ndarray]:
    """Each gap-free segment resampled by ``scipy.signal.resample_poly`` (its anti-aliasing FIR included);
    the segment's first sample keeps its time. Returns (data (m, n_channels), times (m,))."""
    from scipy import signal

    from neuroshell.filters.offline import segments

    ratio = Fraction(new_rate_hz / rate_hz).limit_denominator(1000)
    if abs(float(ratio) * rate_hz - new_rate_hz) > 1e-6 * new_rate_hz:
        raise TrainingError(f"--resample {new_rate_hz:g} Hz is no ratio of small integers to {rate_hz:g} Hz")
    pieces, stamps = [], []
    for first, last in segments(times, gaps):
        piece = signal.resample_poly(data[first:last], ratio.numerator, ratio.denominator, axis=0)
        pieces.append(piece)
        stamps.append(times[first] + np.arange(len(piece)) / new_rate_hz)
    if not pieces:
        return np.zeros((0, data.shape[1])), np.zeros(0)
    return np.concatenate(pieces), np.concatenate(stamps)


def peak_to_peak_limits(units: list[str], reject: dict[str, float]) -> np.ndarray:
    """Per-channel peak-to-peak limits (n_channels,) in each channel's own unit; inf where none applies."""
    limits = np.full(len(units), np.inf)
    for c, unit in enumerate(units):
        dimension, factor = UNIT_SI.get(unit, ("", 1.0))
        if dimension in reject:
            limits[c] = reject[dimension] / factor
    return limits


def make_epochs(
    data: np.ndarray,
    times: np.ndarray,
    rate_hz: float,
    gaps: np.ndarray,
    markers: tuple[np.ndarray, list[str]],
    plan: EpochPlan,
    channels: list[int],
    names: list[str],
    units: list[str],
) -> SourceEpochs:
    """Epochs of ``channels`` (column indices of ``data``, named by ``names``, in ``units``) from the whole
    stream ``data`` (n, n_columns) in the channels' units, as ``plan`` says: with a common average in the
    plan, ``data`` holds every channel of the stream (the average takes them all), else it may hold only
    the channels wanted. ``markers``: (times in s, labels)."""
    marker_times, labels = markers
    wanted = sorted({label for label in labels if plan.class_of(label) is not None})
    if not wanted:
        known = ", ".join(sorted(set(labels)))[:200] or "none"
        patterns = ",".join(p for p, _ in plan.markers)
        raise TrainingError(f"no markers match {patterns} (labels: {known})")
    rereferenced = plan.chain is not None and any(s.kind == "reref" for s in plan.chain.stages)
    if not rereferenced:
        data = data[:, channels]
    data = filtered(data, times, rate_hz, gaps, plan)
    if rereferenced:
        data = data[:, channels]
    if plan.resample_hz and plan.resample_hz != rate_hz:
        data, times = resampled(data, times, rate_hz, gaps, plan.resample_hz)
        rate_hz = plan.resample_hz
    X, kept, onsets, dropped = cut_epochs(
        data, times, rate_hz, np.asarray(marker_times), list(labels), wanted, plan.window_s, gaps, plan.baseline_s
    )
    if plan.reject and len(X):
        limits = peak_to_peak_limits([units[c] for c in channels], plan.reject)
        keep = ~np.any(np.ptp(X, axis=2) > limits[None, :], axis=1)
        dropped["reject"] = int((~keep).sum())
        X, kept, onsets = X[keep], [k for k, good in zip(kept, keep, strict=True) if good], onsets[keep]
    classes = [plan.class_of(label) for label in kept]
    return SourceEpochs(X, classes, onsets, dropped, [names[c] for c in channels], rate_hz)
