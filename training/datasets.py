"""Datasets for training: epochs cut around markers from a recorded stream, or binned spike counts from
a simulation run; stratified, seeded splits; a per-channel scaler fitted on the training split only.

Arrays are plain numpy: ``X`` (n_examples, n_channels, n_times) float32, ``y`` (n_examples,) int64 class
indices into ``classes``, ``split`` (n_examples,) with 0 = train, 1 = validation, 2 = test; ``runs``
(n_examples,) the index into ``run_names`` of the source each example came from (pooled datasets have several).
"""

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neuroshell.training.errors import TrainingError

TRAIN, VALIDATION, TEST = 0, 1, 2


@dataclass
class Dataset:
    name: str
    X: np.ndarray
    y: np.ndarray
    classes: list[str]
    split: np.ndarray
    recipe: dict[str, Any]
    sampling_rate_hz: float = 0.0
    channel_names: list[str] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    scaler_mean: np.ndarray | None = None
    scaler_std: np.ndarray | None = None
    runs: np.ndarray | None = None
    run_names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.runs is None:
            self.runs = np.zeros(len(self.y), np.int64)
        if self.scaler_mean is None:
            self.fit_scaler()

    def fit_scaler(self) -> None:
        """Per-channel mean and standard deviation over the training split only (no test leakage); a dataset
        for evaluation only (no training split) keeps the identity (a model brings its own scaler)."""
        train = self.X[self.split == TRAIN]
        if len(train) == 0:
            self.scaler_mean = np.zeros(self.X.shape[1], np.float32)
            self.scaler_std = np.ones(self.X.shape[1], np.float32)
            return
        self.scaler_mean = train.mean(axis=(0, 2)).astype(np.float32)
        std = train.std(axis=(0, 2)).astype(np.float32)
        std[std == 0] = 1.0
        self.scaler_std = std

    def standardized(self, which: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        chosen = np.ones(len(self.y), bool) if which is None else self.split == which
        X = (self.X[chosen] - self.scaler_mean[None, :, None]) / self.scaler_std[None, :, None]
        return X.astype(np.float32), self.y[chosen]

    def counts(self) -> dict[str, list[int]]:
        """Examples per class in each split: {"train": [...], "validation": [...], "test": [...]}."""
        names = ("train", "validation", "test")
        return {
            name: [int(np.sum((self.split == s) & (self.y == c))) for c in range(len(self.classes))]
            for s, name in enumerate(names)
        }


def stratified_split(y: np.ndarray, fractions: tuple[float, float, float], seed: int) -> np.ndarray:
    """Assign each example to train/validation/test, class by class, in the given proportions."""
    rng = np.random.default_rng(seed)
    split = np.zeros(len(y), dtype=np.int8)
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        n_val = round(fractions[1] * len(members))
        n_test = round(fractions[2] * len(members))
        split[members[:n_val]] = VALIDATION
        split[members[n_val : n_val + n_test]] = TEST
    return split


def _crosses_gap(start: float, stop: float, gaps: np.ndarray) -> bool:
    return bool(len(gaps)) and bool(np.any((gaps[:, 0] <= stop) & (gaps[:, 1] >= start)))


def cut_epochs(
    data: np.ndarray,
    times: np.ndarray,
    rate_hz: float,
    marker_times: np.ndarray,
    marker_labels: list[str],
    wanted: list[str],
    window_s: tuple[float, float],
    gaps: np.ndarray,
    baseline_s: tuple[float, float] | None = None,
) -> tuple[np.ndarray, list[str], np.ndarray, dict[str, int]]:
    """Epochs (n, n_channels, n_times) around each marker whose label is in ``wanted``.

    An epoch starts at the first sample at or after ``marker + window_s[0]`` and holds
    ``round((window_s[1] - window_s[0]) * rate_hz)`` samples. Epochs that cross a gap, run off the data,
    or have a hole in their timestamps are dropped and counted. ``baseline_s`` (relative to the marker)
    subtracts each channel's mean over that span.
    """
    if rate_hz <= 0:
        raise TrainingError("epochs need a regularly sampled stream (its sampling_rate is 0)")
    length = round((window_s[1] - window_s[0]) * rate_hz)
    if length < 1:
        raise TrainingError("the epoch window is shorter than one sample")
    epochs, labels, onsets = [], [], []
    dropped = {"gap": 0, "edge": 0}
    for when, label in zip(marker_times, marker_labels, strict=True):
        if label not in wanted:
            continue
        first = int(np.searchsorted(times, when + window_s[0] - 0.5 / rate_hz))
        last = first + length
        starts_before_data = when + window_s[0] < times[0] - 0.5 / rate_hz
        if starts_before_data or last > len(times):
            dropped["edge"] += 1
            continue
        span = times[first:last]
        start_s, stop_s = when + window_s[0], when + window_s[1]
        misplaced = abs(span[0] - start_s) > 0.5 / rate_hz  # the data resumes only after the window's start
        if misplaced or _crosses_gap(start_s, stop_s, gaps) or np.any(np.diff(span) > 1.5 / rate_hz):
            dropped["gap"] += 1
            continue
        epoch = np.asarray(data[first:last], dtype=np.float32).T.copy()
        if baseline_s is not None:
            b0 = round((baseline_s[0] - window_s[0]) * rate_hz)
            b1 = round((baseline_s[1] - window_s[0]) * rate_hz)
            epoch -= epoch[:, max(0, b0) : max(b0 + 1, b1)].mean(axis=1, keepdims=True)
        epochs.append(epoch)
        labels.append(label)
        onsets.append(when)
    if not epochs:
        return np.zeros((0, data.shape[1], length), np.float32), [], np.zeros(0), dropped
    return np.stack(epochs), labels, np.array(onsets), dropped


def epochs_from_file(
    handle,
    stream: str,
    patterns: list[str],
    window_s: tuple[float, float],
    baseline_s: tuple[float, float] | None,
    channels: list[int] | None = None,
    prepare=None,
):
    """Epochs of ``/streams/<stream>`` of an open neuroshell file around every marker whose label matches
    one of the glob ``patterns``. ``prepare(data, times, gaps)``, when given, transforms the whole stream
    (n, n_channels) in its units before the epochs are cut (a filter). Returns (X, labels, dropped counts,
    channel names, sampling rate in Hz)."""
    import fnmatch

    view = handle.stream(stream)
    times, labels, _ = handle.markers()
    wanted = sorted({label for label in labels if any(fnmatch.fnmatchcase(label, p) for p in patterns)})
    if not wanted:
        known = ", ".join(sorted(set(labels)))[:200] or "none"
        raise TrainingError(f"no markers match {','.join(patterns)} in {handle.path} (labels: {known})")
    n = view.n_samples
    if prepare is None:
        data = view.samples(0, n, channels)
    else:
        data = prepare(view.samples(0, n), view.time[:n], view.gaps())
        data = data[:, channels] if channels is not None else data
    X, kept, _, dropped = cut_epochs(
        data, view.time[:n], view.sampling_rate_hz, times, labels, wanted, window_s, view.gaps(), baseline_s
    )
    names = [view.spec.channel_names[c] for c in channels] if channels is not None else list(view.spec.channel_names)
    return X, kept, dropped, names, view.sampling_rate_hz


def bin_epochs(X: np.ndarray, n_bins: int) -> np.ndarray:
    """Average each epoch's samples into ``n_bins`` time bins: (n, ch, t) -> (n, ch, n_bins)."""
    _n, _ch, t = X.shape
    if n_bins >= t:
        return X
    edges = np.linspace(0, t, n_bins + 1).astype(int)
    return np.stack([X[:, :, a:b].mean(axis=2) for a, b in itertools.pairwise(edges)], axis=2)


def spike_windows(
    spike_times_s: np.ndarray,
    node_ids: np.ndarray,
    n_neurons: int,
    ranges: list[tuple[float, float, str]],
    window_s: float,
    n_bins: int,
) -> tuple[np.ndarray, list[str]]:
    """Binned spike counts (n_windows, n_neurons, n_bins) of consecutive windows inside labelled time
    ranges (start_s, stop_s, label)."""
    examples, labels = [], []
    for start, stop, label in ranges:
        t = start
        while t + window_s <= stop + 1e-12:
            chosen = (spike_times_s >= t) & (spike_times_s < t + window_s)
            bins = np.minimum(((spike_times_s[chosen] - t) / window_s * n_bins).astype(int), n_bins - 1)
            counts = np.zeros((n_neurons, n_bins), np.float32)
            np.add.at(counts, (node_ids[chosen].astype(int), bins), 1.0)
            examples.append(counts)
            labels.append(label)
            t += window_s
    if not examples:
        raise TrainingError("no window fits inside the labelled time ranges")
    return np.stack(examples), labels


def make_dataset(
    name: str,
    X: np.ndarray,
    labels: list[str],
    recipe: dict[str, Any],
    seed: int,
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    runs: np.ndarray | None = None,
    test_runs: int = 0,
    **extra,
) -> Dataset:
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise TrainingError(f"a dataset needs at least two classes (found: {', '.join(classes) or 'none'})")
    y = np.array([classes.index(label) for label in labels], dtype=np.int64)
    # A split needs 3 of a class to put one in each part; a dataset only to evaluate on needs one.
    least = 1 if tuple(fractions) == (0.0, 0.0, 1.0) else 3
    too_few = [c for c in classes if labels.count(c) < least]
    if too_few:
        raise TrainingError(f"class {too_few[0]} has fewer than {least} examples: record longer or merge classes")
    runs = np.zeros(len(y), np.int64) if runs is None else np.asarray(runs, np.int64)
    by_runs = test_runs > 0
    split = _split_by_runs(y, runs, fractions, test_runs, seed) if by_runs else stratified_split(y, fractions, seed)
    return Dataset(name, X.astype(np.float32), y, classes, split, {**recipe, "seed": seed}, runs=runs, **extra)


def _split_by_runs(y: np.ndarray, runs: np.ndarray, fractions, test_runs: int, seed: int) -> np.ndarray:
    """The last ``test_runs`` runs whole in the test split; the others split into train and validation in
    the proportions of the first two fractions, stratified."""
    last = np.unique(runs)
    if test_runs >= len(last):
        raise TrainingError(f"--test-runs {test_runs}: the dataset has {len(last)} runs; keep at least one to train")
    held_out = np.isin(runs, last[-test_runs:])
    kept = fractions[0] + fractions[1]
    inner_fractions = (fractions[0] / kept, fractions[1] / kept, 0.0) if kept else (1.0, 0.0, 0.0)
    inner = stratified_split(y[~held_out], inner_fractions, seed)
    split = np.full(len(y), TEST, np.int8)
    split[~held_out] = inner
    return split


def save_dataset(handle, dataset: Dataset) -> str:
    """Write ``/datasets/<name>`` into an open, writable h5py file; returns its path."""
    group_path = f"datasets/{dataset.name}"
    if group_path in handle:
        del handle[group_path]
    group = handle.create_group(group_path)
    group.create_dataset("X", data=dataset.X, chunks=True)
    group.create_dataset("y", data=dataset.y)
    group.create_dataset("split", data=dataset.split)
    group.create_dataset("scaler_mean", data=dataset.scaler_mean)
    group.create_dataset("scaler_std", data=dataset.scaler_std)
    group.create_dataset("runs", data=dataset.runs)
    group.attrs["run_names"] = json.dumps(dataset.run_names)
    group.attrs["classes"] = json.dumps(dataset.classes)
    group.attrs["recipe"] = json.dumps(dataset.recipe)
    group.attrs["dropped"] = json.dumps(dataset.dropped)
    group.attrs["sampling_rate_hz"] = dataset.sampling_rate_hz
    group.attrs["channel_names"] = json.dumps(dataset.channel_names)
    group.attrs["split_codes"] = "0 train, 1 validation, 2 test"
    return "/" + group_path


def load_dataset(file, name: str) -> Dataset:
    """``/datasets/<name>`` of an open neuroshell file (``storage.H5File`` or h5py)."""
    handle = getattr(file, "handle", file)
    path = f"datasets/{name}"
    if path not in handle:
        known = ", ".join(handle.get("datasets", {})) or "none"
        raise TrainingError(f"{handle.filename} has no dataset '{name}' (datasets: {known})")
    group = handle[path]
    return Dataset(
        name,
        group["X"][:],
        group["y"][:],
        json.loads(group.attrs["classes"]),
        group["split"][:],
        json.loads(group.attrs["recipe"]),
        float(group.attrs["sampling_rate_hz"]),
        json.loads(group.attrs["channel_names"]),
        json.loads(group.attrs["dropped"]),
        group["scaler_mean"][:],
        group["scaler_std"][:],
        group["runs"][:] if "runs" in group else None,
        json.loads(group.attrs.get("run_names", "[]")),
    )


def save_evaluation(handle, model_name: str, model_recipe: dict, dataset: Dataset, metrics: dict) -> str:
    """Write ``metrics`` (``metrics.classification_metrics``) of a model on a dataset into
    ``/models/<model>/evaluation/<dataset>`` of a writable neuroshell file; returns that path."""
    where = f"models/{model_name}/evaluation/{dataset.name}"
    if where in handle:
        del handle[where]
    group = handle.create_group(where)
    group.create_dataset("confusion", data=metrics["confusion"])
    for key, value in metrics.items():
        if isinstance(value, str | int | float | list):
            group.attrs[key] = value
    group.attrs["classes"] = json.dumps(dataset.classes)
    handle[f"models/{model_name}"].attrs["recipe"] = json.dumps(model_recipe)
    return "/" + where
