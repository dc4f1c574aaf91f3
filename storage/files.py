"""Opening neuroshell files: validation, interrupted recordings, lazy time-sliced views, recovery."""

import bisect
import io
import os
import re
from pathlib import Path

import h5py
import numpy as np

from neuroshell.common.errors import did_you_mean
from neuroshell.storage.errors import StorageError
from neuroshell.storage.layout import FORMAT, create_file, stream_spec
from neuroshell.storage.locks import ensure_not_recorded, recorded_by_this_process
from neuroshell.storage.markers import Markers, read_markers
from neuroshell.storage.records import ChainInForce

COPY_BLOCK_BYTES = 16 << 20
READ_BLOCK_BYTES = 4 << 20  # rows read at a time by readers
OPEN_FOR_WRITE = "already open for write"


def open_raw(path: Path, mode: str, pad_truncated: bool = False) -> tuple[h5py.File, bool]:
    """Open with h5py; fall back to a read-only SWMR open for a file still flagged as being written, and, with
    ``pad_truncated`` (for ``recover``), to a zero-padded view of a file whose last write failed.

    Returns the handle and whether it is such an interrupted (or still running) recording.
    """
    if not path.exists():
        raise StorageError(f"no such file: {path}")
    if not h5py.is_hdf5(path):
        raise StorageError(f"{path} is not an HDF5 file")
    if recorded_by_this_process(path):
        raise StorageError(
            f"{path} is being recorded by this session: read it after 'record stop', or from another shell"
        )
    try:
        return h5py.File(path, mode), False
    except OSError as error:
        claimed = _TRUNCATED.search(str(error))
        if claimed and pad_truncated:
            return h5py.File(TruncatedFile(path, int(claimed.group(1))), "r"), True
        if claimed:
            raise StorageError(
                f"{path} ends before HDF5 expects (a recording whose disk filled up, or a partial copy): "
                f"'recover {path}' keeps everything that reached the disk"
            ) from None
        if OPEN_FOR_WRITE not in str(error):
            raise StorageError(f"{path} is damaged or truncated: HDF5 cannot read it ({error})") from None
    if mode != "r":
        raise StorageError(
            f"{path} is still being recorded, or its recording was interrupted: "
            f"open it read-only, or run 'recover {path}' for a clean copy"
        )
    try:
        return h5py.File(path, "r", swmr=True), True
    except OSError as error:
        raise StorageError(f"{path} is damaged or truncated: HDF5 cannot read it ({error})") from None


# HDF5's words for a file shorter than its superblock says: a write failed (disk full) after HDF5 had
# allocated the space, and its closing flush recorded the larger end.
_TRUNCATED = re.compile(r"truncated file: eof = \d+, .*stored_eof = (\d+)")


class TruncatedFile(io.RawIOBase):
    """A file read as itself followed by zeros up to the end HDF5 recorded, so that HDF5 opens it and every
    byte that did reach the disk can be read; the file itself is not changed. ``on_disk_bytes`` says where
    the real bytes end (``recover`` keeps only what lies before it)."""

    def __init__(self, path: Path, claimed_bytes: int) -> None:
        super().__init__()
        self.file = open(path, "rb")  # noqa: SIM115 (closed with this object, when HDF5 closes it)
        self.on_disk_bytes = os.fstat(self.file.fileno()).st_size
        self.size = max(claimed_bytes, self.on_disk_bytes)
        self.position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = base + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        wanted = max(0, min(len(view), self.size - self.position))
        self.file.seek(self.position)
        real = self.file.readinto(view[: max(0, min(wanted, self.on_disk_bytes - self.position))]) or 0
        view[real:wanted] = bytes(wanted - real)
        self.position += wanted
        return wanted

    def close(self) -> None:
        self.file.close()
        super().close()


class StreamView:
    """A lazy view of ``/streams/<name>``: nothing is read until a time range is asked for."""

    def __init__(self, group: h5py.Group) -> None:
        self.group = group
        self.spec = stream_spec(group)
        self.data: h5py.Dataset = group["data"]
        self.time: h5py.Dataset = group["time"]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def sampling_rate_hz(self) -> float:
        return self.spec.sampling_rate_hz

    @property
    def n_samples(self) -> int:
        # A crashed writer may have grown one dataset and not yet the other.
        return min(self.data.shape[0], self.time.shape[0])

    @property
    def time_span_s(self) -> tuple[float, float] | None:
        n = self.n_samples
        return (float(self.time[0]), float(self.time[n - 1])) if n else None

    def refresh(self) -> None:
        """See samples appended since opening (for SWMR readers of a growing file)."""
        for dataset in (self.data, self.time, self.group["gaps"]):
            dataset.refresh()

    def index_at(self, time_s: float) -> int:
        """Index of the first sample at or after ``time_s``, found by bisection on disk (O(log n) reads)."""
        return bisect.bisect_left(_LazySequence(self.time, self.n_samples), time_s)

    def between(self, start_s: float | None = None, stop_s: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Samples with ``start_s <= time < stop_s``: data (n, n_channels) in the channels' units and times
        (n,) in seconds."""
        first = 0 if start_s is None else self.index_at(start_s)
        last = self.n_samples if stop_s is None else self.index_at(stop_s)
        return self.samples(first, last), self.time[first:last]

    def samples(self, first: int, last: int, channels: list[int] | None = None) -> np.ndarray:
        """Samples ``first:last`` (of ``channels``, default all) in the channels' units: the stored counts
        times the stream's ``scale`` plus its ``offset``. Read in blocks of rows, keeping only the channels
        asked for, so memory stays bounded and a device's reader thread is never kept waiting long."""
        return self.spec.to_unit(read_rows(self.data, first, min(last, self.n_samples), channels), channels)

    def overview(self, first: int, last: int, channels: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Rows ``first:last`` of the min/max overview of ``channels``, in the channels' units: (min, max)."""
        group = self.group
        lows = self.spec.to_unit(read_rows(group["overview_min"], first, last, channels), channels)
        highs = self.spec.to_unit(read_rows(group["overview_max"], first, last, channels), channels)
        return np.minimum(lows, highs), np.maximum(lows, highs)  # a negative scale swaps them

    def gaps(self) -> np.ndarray:
        return self.group["gaps"][:]

    def filter_changes(self) -> list[ChainInForce]:
        """The online filter chain in force from each time on; empty for files from before chains were
        recorded."""
        if "filters" not in self.group:
            return []
        table = self.group["filters"]
        return [ChainInForce(float(t), _text(c)) for t, c in zip(table["time"][:], table["chain"][:], strict=True)]


def read_rows(dataset: h5py.Dataset, first: int, last: int, columns: list[int] | None = None) -> np.ndarray:
    """Rows ``first:last`` of a 2-D dataset (of ``columns``, default all), read in blocks of about
    READ_BLOCK_BYTES: memory stays bounded whatever the span, and other threads run between blocks."""
    last = max(first, last)
    width = dataset.shape[1] if columns is None else len(columns)
    out = np.empty((last - first, width), dtype=dataset.dtype)
    step = max(1, READ_BLOCK_BYTES // max(1, dataset.dtype.itemsize * dataset.shape[1]))
    for start in range(first, last, step):
        block = dataset[start : min(last, start + step)]
        out[start - first : start - first + len(block)] = block if columns is None else block[:, columns]
    return out


class _LazySequence:
    """Let ``bisect`` search an HDF5 dataset element by element without reading it whole."""

    def __init__(self, dataset: h5py.Dataset, length: int) -> None:
        self.dataset, self.length = dataset, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> float:
        return float(self.dataset[index])


class H5File:
    """An open neuroshell file in a session."""

    def __init__(self, path: Path, handle: h5py.File, interrupted: bool = False) -> None:
        self.path = Path(path)
        self.handle = handle
        self.interrupted = interrupted
        self._paths: list[str] | None = None

    @property
    def mode(self) -> str:
        return "r" if self.handle.mode == "r" else "a"

    def stream_names(self) -> list[str]:
        return list(self.handle["streams"]) if "streams" in self.handle else []

    def stream(self, name: str) -> StreamView:
        if name.startswith("/streams/"):
            name = name[len("/streams/") :]
        if name not in self.stream_names():
            known = ", ".join(self.stream_names()) or "none"
            hint = did_you_mean(name, self.stream_names())
            raise StorageError(f"{self.path} has no stream '{name}'{hint} (streams: {known})")
        return StreamView(self.handle["streams"][name])

    def markers(self) -> Markers:
        """All markers in time order: times (s, session clock), labels and sources, in full."""
        return read_markers(self.handle.get("markers"))

    def paths(self) -> list[str]:
        """Every group and dataset, walked once: completion asks on every key press, and an open file's
        names do not change (a recording only grows its datasets)."""
        if self._paths is None:
            found: list[str] = []
            self.handle.visit(lambda name: found.append("/" + name))
            self._paths = found
        return self._paths

    def close(self) -> None:
        if self.handle.id.valid:
            self.handle.close()


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def open_file(path: Path, mode: str = "r", clock=None, overwrite: bool = False) -> H5File:
    """Open (``r``, ``a``) or create (``w``) a neuroshell file, with a clear error for anything else."""
    path = Path(path)
    if mode == "w":
        if clock is None:
            raise ValueError("creating a file needs the session clock")
        try:
            return H5File(path, create_file(path, clock, overwrite=overwrite))
        except FileExistsError as error:
            raise StorageError(str(error)) from None
    if mode != "r":
        ensure_not_recorded(path)
    handle, interrupted = open_raw(path, "r" if mode == "r" else "r+")
    if handle.attrs.get("format") != FORMAT:
        handle.close()
        raise StorageError(f"{path} is an HDF5 file but not a neuroshell file (no format='{FORMAT}' attribute)")
    return H5File(path, handle, interrupted)


def open_for_writing(path: Path, clock) -> h5py.File:
    """An existing neuroshell file opened read-write (with ``open_file``'s clear errors for anything else),
    or a new one created on ``clock``."""
    path = Path(path)
    if path.exists():
        open_file(path).close()
        ensure_not_recorded(path)
        return h5py.File(path, "r+")
    return create_file(path, clock)
