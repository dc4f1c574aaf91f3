"""Browsing a file: a tree of groups and datasets (with shapes, dtypes, durations) and per-object info."""

from dataclasses import dataclass, field

import h5py
import numpy as np

from neuroshell.storage.errors import StorageError
from neuroshell.storage.layout import wall_clock


@dataclass
class Entry:
    """One group or dataset; ``children`` only for groups."""

    name: str
    path: str
    kind: str  # "group" | "dataset"
    shape: tuple[int, ...] = ()
    dtype: str = ""
    duration_s: float | None = None
    children: list["Entry"] = field(default_factory=list)


def walk(file, path: str = "/") -> Entry:
    """The tree below ``path`` of an open file (``H5File`` or h5py); stream groups carry their duration."""
    handle = getattr(file, "handle", file)
    if path not in handle:
        raise StorageError(f"{handle.filename} has no '{path}'")
    return _entry(handle[path])


def _entry(item) -> Entry:
    name = item.name.rsplit("/", 1)[-1] or "/"
    if isinstance(item, h5py.Dataset):
        return Entry(name, item.name, "dataset", tuple(item.shape), str(item.dtype))
    entry = Entry(name, item.name, "group", duration_s=duration_s(item))
    entry.children = [_entry(child) for child in item.values()]
    return entry


def duration_s(group: h5py.Group) -> float | None:
    """Duration in seconds of a group holding a ``time`` dataset, else None."""
    times = group.get("time") if isinstance(group, h5py.Group) else None
    if not isinstance(times, h5py.Dataset) or times.ndim != 1 or times.shape[0] == 0:
        return None
    n = min(times.shape[0], group["data"].shape[0]) if "data" in group else times.shape[0]
    return float(times[n - 1] - times[0]) if n else None


def describe(file, path: str) -> dict[str, object]:
    """Attributes and storage facts of one object of an open file (``H5File`` or h5py): shape, dtype,
    chunking, compression, time span."""
    handle = getattr(file, "handle", file)
    if path not in handle:
        raise StorageError(f"{handle.filename} has no '{path}'")
    item = handle[path]
    facts: dict[str, object] = {"path": item.name}
    if isinstance(item, h5py.Dataset):
        facts.update(
            kind="dataset",
            shape=tuple(item.shape),
            dtype=str(item.dtype),
            chunks=item.chunks,
            compression=item.compression or "none",
            size_bytes=int(item.size * item.dtype.itemsize),
        )
        if item.name.endswith("/time") and item.shape[0]:
            facts["time_span_s"] = (float(item[0]), float(item[item.shape[0] - 1]))
    else:
        facts.update(kind="group", members=len(item))
        span = duration_s(item)
        if span is not None:
            facts["duration_s"] = span
            facts["time_span_s"] = (float(item["time"][0]), float(item["time"][0]) + span)
    zero = handle.attrs.get("clock_zero_unix_s")
    if zero is not None and "time_span_s" in facts:
        first, last = facts["time_span_s"]
        facts["starts (wall clock)"] = wall_clock(first, float(zero))
        facts["ends (wall clock)"] = wall_clock(last, float(zero))
    if zero is not None and item.name == "/":
        facts["clock zero (wall clock)"] = wall_clock(0.0, float(zero))
    for key, value in item.attrs.items():
        facts[f"@{key}"] = _plain(value)
    return facts


def _plain(value) -> object:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        items = [_plain(v) for v in value.tolist()[:12]]
        return [*items, "..."] if value.size > 12 else items
    if isinstance(value, np.generic):
        return value.item()
    return value
