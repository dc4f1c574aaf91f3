"""The ``/markers`` table of a neuroshell file: labels and sources of any length in UTF-8.

SWMR readers (a plot of a recording in progress) cannot follow HDF5's variable-length strings ("actual len
exceeds EOA"), so ``label`` and ``source`` are fixed-length columns of ``TEXT_BYTES`` bytes. A text that
does not fit keeps its longest whole-character prefix there, and its full UTF-8 bytes go to ``long_text``
(uint8), located by a row of ``long_labels`` or ``long_sources`` (marker row, start byte, stop byte): every
dataset only grows, as SWMR needs, and a plain h5py reader of the columns still reads every short text.
"""

from typing import NamedTuple

import h5py
import numpy as np

from neuroshell.storage.rows import append_rows

TEXT_BYTES = 128
TEXT_DTYPE = h5py.string_dtype("utf-8", TEXT_BYTES)
SPAN_DTYPE = np.dtype([("row", "<i8"), ("start", "<i8"), ("stop", "<i8")])
COLUMNS = ("label", "source")
LONG = {"label": "long_labels", "source": "long_sources"}


def create_markers(handle: h5py.File) -> h5py.Group:
    """The file's ``/markers`` group with every dataset it may grow (SWMR allows no new dataset later)."""
    markers = handle.require_group("markers")
    shapes = {"time": "f8", "label": TEXT_DTYPE, "source": TEXT_DTYPE, "long_text": "u1"}
    shapes |= {name: SPAN_DTYPE for name in LONG.values()}
    for name, dtype in shapes.items():
        if name not in markers:
            chunk = 4096 if name == "long_text" else 1024
            markers.create_dataset(name, shape=(0,), maxshape=(None,), dtype=dtype, chunks=(chunk,))
    markers["time"].attrs["units"] = "s"
    return markers


def fitting_prefix(text: str, limit: int = TEXT_BYTES) -> bytes:
    """The UTF-8 bytes of the longest prefix of ``text`` that fits ``limit`` bytes, cut between characters."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return encoded
    return encoded[:limit].decode("utf-8", errors="ignore").encode("utf-8")


def append_markers(markers: h5py.Group, times, labels, sources) -> int:
    """Append markers (times s on the file's clock); full texts go in before the rows that point at them,
    so a reader never follows a span past what is written. Returns the number appended."""
    first_row = min(markers[name].shape[0] for name in ("time", *COLUMNS))
    for column, texts in zip(COLUMNS, (labels, sources), strict=True):
        _append_long(markers, column, first_row, texts)
    append_rows(markers["time"], np.asarray(times, dtype=np.float64))
    for column, texts in zip(COLUMNS, (labels, sources), strict=True):
        append_rows(markers[column], np.array([fitting_prefix(str(t)) for t in texts], dtype=TEXT_DTYPE))
    return len(times)


def _append_long(markers: h5py.Group, column: str, first_row: int, texts) -> None:
    if LONG[column] not in markers:  # a file written before long texts: its columns are all there is
        return
    spans, chunks, position = [], [], markers["long_text"].shape[0]
    for offset, text in enumerate(texts):
        encoded = str(text).encode("utf-8")
        if len(encoded) > TEXT_BYTES:
            spans.append((first_row + offset, position, position + len(encoded)))
            chunks.append(np.frombuffer(encoded, dtype=np.uint8))
            position += len(encoded)
    if spans:
        append_rows(markers["long_text"], np.concatenate(chunks))
        append_rows(markers[LONG[column]], np.array(spans, dtype=SPAN_DTYPE))


class Markers(NamedTuple):
    """Markers in time order: ``times`` (n,) float64 s on the file's clock, their ``labels`` and ``sources``."""

    times: np.ndarray
    labels: list[str]
    sources: list[str]


def read_markers(markers: h5py.Group | None) -> Markers:
    """Every marker in time order, labels and sources in full. A recording in progress may hold them slightly
    out of order, or a row half-written: only complete rows are read."""
    if markers is None:
        return Markers(np.zeros(0), [], [])
    n = min(markers[name].shape[0] for name in ("time", *COLUMNS))
    times = markers["time"][:n]
    order = np.argsort(times, kind="stable")
    texts = [_column(markers, column, n) for column in COLUMNS]
    return Markers(times[order], [texts[0][i] for i in order], [texts[1][i] for i in order])


def _column(markers: h5py.Group, column: str, n: int) -> list[str]:
    texts = [value.decode("utf-8", errors="replace") for value in markers[column][:n]]
    if LONG[column] in markers:
        stored = markers["long_text"]
        for row, start, stop in markers[LONG[column]][:]:
            if row < n and stop <= stored.shape[0]:
                texts[row] = bytes(stored[start:stop]).decode("utf-8", errors="replace")
    return texts


def sort_markers(markers: h5py.Group) -> None:
    """Put the rows in time order in place (device threads and the prompt queue markers, so a later one may
    be written first): done once when a recording ends cleanly."""
    times = markers["time"][:]
    order = np.argsort(times, kind="stable")
    if np.all(order == np.arange(len(order))):
        return
    for column in ("time", *COLUMNS):
        markers[column][:] = markers[column][:][order]
    new_row = np.empty_like(order)
    new_row[order] = np.arange(len(order))
    for name in LONG.values():
        if name in markers and markers[name].shape[0]:
            spans = markers[name][:]
            spans["row"] = new_row[spans["row"]]
            markers[name][:] = spans


def copy_markers(source: h5py.Group | None, markers: h5py.Group) -> None:
    """The complete markers of ``source`` with a finite time into ``markers`` (new), in time order."""
    times, labels, sources = read_markers(source)
    kept = np.flatnonzero(np.isfinite(times))
    append_markers(markers, times[kept], [labels[i] for i in kept], [sources[i] for i in kept])
