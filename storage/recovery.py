"""Recovery: a clean, closed copy of an interrupted recording (killed, or its disk filled up), keeping every
sample that reached the disk."""

import math
from datetime import datetime, timezone
from pathlib import Path

import h5py
import numpy as np

from neuroshell.storage.errors import StorageError
from neuroshell.storage.files import COPY_BLOCK_BYTES, open_raw
from neuroshell.storage.layout import FORMAT
from neuroshell.storage.locks import ensure_not_recorded
from neuroshell.storage.markers import copy_markers, create_markers


def recover(source: Path, target: Path | None = None, overwrite: bool = False) -> tuple[Path, dict[str, int]]:
    """Write a clean, closed copy of an interrupted recording that plain ``h5py.File(path)`` opens.

    Every flushed sample is kept, up to the first time that is not after the one before (rows a crash left
    half-written); markers are written in time order. Where the recording stopped is said in the attribute
    ``interrupted_at_s`` (the last sample's time) of the file and of each stream. Returns the new path and
    the samples recovered per stream.
    """
    source = Path(source)
    target = Path(target) if target else source.with_name(source.stem + "-recovered" + source.suffix)
    if target.exists() and not overwrite:
        raise StorageError(f"{target} exists: choose another name with --to, or add --overwrite")
    if target.resolve() == source.resolve():
        raise StorageError("recover writes a new file: give --to a different name")
    if target.exists():
        ensure_not_recorded(target)
    original, interrupted = open_raw(source, "r", pad_truncated=True)
    try:
        if original.attrs.get("format") != FORMAT:
            raise StorageError(f"{source} is not a neuroshell file")
        # a file whose last write failed is read through a TruncatedFile: only what reached the disk is kept
        on_disk = source.stat().st_size if original.driver == "fileobj" else None
        counts = _copy_recovered(original, target, interrupted, on_disk)
    finally:
        original.close()
    return target, counts


def _copy_recovered(original: h5py.File, target: Path, interrupted: bool, on_disk: int | None) -> dict[str, int]:
    counts: dict[str, int] = {}
    ends: list[float] = []
    with h5py.File(target, "w") as out:
        out.attrs.update(dict(original.attrs))
        out.attrs["recovered_from"] = str(original.filename)
        out.attrs["recovered"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        out.attrs["interrupted"] = bool(interrupted)
        for name, item in original.items():
            if name not in ("streams", "markers"):
                original.copy(item, out, name=name)
        copy_markers(original.get("markers", None), create_markers(out))
        streams = out.create_group("streams")
        for name, group in original.get("streams", {}).items():
            counts[name], end = _copy_stream(group, streams, interrupted, on_disk)
            if end is not None:
                ends.append(end)
        if interrupted and ends:
            out.attrs["interrupted_at_s"] = max(ends)
    return counts


def _copy_stream(
    group: h5py.Group, streams: h5py.Group, interrupted: bool, on_disk: int | None
) -> tuple[int, float | None]:
    out = streams.create_group(group.name.rsplit("/", 1)[-1])
    out.attrs.update(dict(group.attrs))
    n = min(_rows_on_disk(group["data"], on_disk), _rows_on_disk(group["time"], on_disk))
    n = _increasing_prefix(group["time"], n)
    for key, dataset in group.items():
        if isinstance(dataset, h5py.Group):  # a small table (the filter chains): copied whole
            group.file.copy(dataset, out, name=key)
            continue
        length = n if key in ("data", "time") else dataset.shape[0]
        copy = out.create_dataset(
            key,
            shape=(length, *dataset.shape[1:]),
            maxshape=(None, *dataset.shape[1:]),
            dtype=dataset.dtype,
            chunks=dataset.chunks,
            compression=dataset.compression,
        )
        copy.attrs.update(dict(dataset.attrs))
        row_bytes = max(1, dataset.dtype.itemsize * int(np.prod(dataset.shape[1:], dtype=np.int64)))
        step = max(1, COPY_BLOCK_BYTES // row_bytes)
        for start in range(0, length, step):
            copy[start : start + step] = dataset[start : min(length, start + step)]
    end = float(group["time"][n - 1]) if n else None
    if interrupted and end is not None:
        out.attrs["interrupted_at_s"] = end
    return n, end


def _rows_on_disk(dataset: h5py.Dataset, on_disk_bytes: int | None) -> int:
    """Rows of a dataset whose chunks really lie in the file: all of them, except in a file whose last write
    failed (``on_disk_bytes`` given: read through ``TruncatedFile``), where rows stop at the first chunk that
    does not lie wholly within the bytes on disk."""
    rows = dataset.shape[0]
    if on_disk_bytes is None or dataset.chunks is None:
        return rows
    step = dataset.chunks[0]
    for start in range(0, rows, step):
        info = dataset.id.get_chunk_info_by_coord((start,) + (0,) * (dataset.ndim - 1))
        if info.byte_offset is None or info.byte_offset + info.size > on_disk_bytes:
            return start
    return rows


def _increasing_prefix(times: h5py.Dataset, n: int) -> int:
    """How many of the first ``n`` times are finite and each after the one before, read in blocks."""
    step = COPY_BLOCK_BYTES // 8
    previous = -math.inf
    for start in range(0, n, step):
        block = times[start : min(n, start + step)]
        good = np.isfinite(block) & (np.diff(block, prepend=previous) > 0)
        if not good.all():
            return start + int(np.argmin(good))
        previous = float(block[-1])
    return n
