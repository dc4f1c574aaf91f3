"""The neuroshell HDF5 file layout (docs/file-format.md): creating files and stream groups.

Every timestamp is float64 seconds on the session clock (LSL ``local_clock()``); the root attribute
``clock_zero_unix_s`` is the wall-clock (Unix) time of that clock's zero, so ``time + clock_zero_unix_s``
is a Unix time.
"""

import time
from datetime import datetime, timezone
from pathlib import Path

import h5py
import numpy as np

from neuroshell.common.version import neuroshell_version
from neuroshell.storage.locks import ensure_not_recorded
from neuroshell.storage.markers import create_markers
from neuroshell.storage.spec import StreamSpec

FORMAT = "neuroshell"
FORMAT_VERSION = "1.0"
CHAIN_BYTES = 2048  # a filter chain's JSON (fixed length, as SWMR readers need)
CHAIN_DTYPE = h5py.string_dtype("utf-8", CHAIN_BYTES)
NO_FILTERS = '{"stages": []}'
TARGET_CHUNK_BYTES = 1 << 20
OVERVIEW_BLOCK = 256  # samples summarised by one row of a stream's min/max overview


def wall_clock(time_s: float, zero_unix_s: float) -> str:
    """A session-clock time as the local wall-clock time a person reads, to the millisecond:
    ``2026-11-24 10:12:03.120 CET``."""
    moment = datetime.fromtimestamp(zero_unix_s + time_s, tz=timezone.utc).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d} " + moment.strftime("%Z")


def clock_zero_unix_s(clock) -> float:
    """The Unix time at which ``clock()`` read zero."""
    return time.time() - clock()


def create_file(path: Path, clock, overwrite: bool = False, claimed: bool = False) -> h5py.File:
    """Create an empty neuroshell file (root attributes and ``/markers``) and return it open for writing.

    A file that a neuroshell process is recording is never replaced (HDF5 would truncate it); ``claimed``
    says the caller holds that file's ``RecordingLock`` itself."""
    path = Path(path)
    if path.exists() and not claimed:
        ensure_not_recorded(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists: choose another name or add --overwrite")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = h5py.File(path, "w", libver="latest")
    attrs = handle.attrs
    attrs["format"] = FORMAT
    attrs["format_version"] = FORMAT_VERSION
    attrs["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    attrs["neuroshell_version"] = neuroshell_version()
    attrs["clock"] = "LSL local_clock (s)"
    attrs["clock_zero_unix_s"] = clock_zero_unix_s(clock)
    create_markers(handle)
    handle.create_group("streams")
    return handle


def chunk_rows(n_channels: int, itemsize: int) -> int:
    """Rows per chunk so that a chunk holds about 1 MiB."""
    return max(64, TARGET_CHUNK_BYTES // max(1, n_channels * itemsize))


def create_stream(handle: h5py.File, spec: StreamSpec, compression: str | None = None) -> h5py.Group:
    """Create ``/streams/<name>`` with empty, resizable ``data``, ``time``, ``gaps`` and ``clock_offsets``."""
    if spec.name in handle["streams"]:
        raise ValueError(f"stream '{spec.name}' already exists in {handle.filename}")
    group = handle["streams"].create_group(spec.name)
    dtype = np.dtype(spec.dtype)
    rows = chunk_rows(spec.n_channels, dtype.itemsize)
    compression = None if compression in (None, "none") else compression
    group.create_dataset(
        "data",
        shape=(0, spec.n_channels),
        maxshape=(None, spec.n_channels),
        dtype=dtype,
        chunks=(rows, spec.n_channels),
        compression=compression,
    )
    group.create_dataset("time", shape=(0,), maxshape=(None,), dtype="f8", chunks=(max(rows, 8192),))
    group["time"].attrs["units"] = "s"
    # A min/max summary per block of samples, so an hour of data plots without reading it all. It holds
    # sample values, so it has the samples' type and takes the same scale and offset.
    for name in ("overview_min", "overview_max"):
        group.create_dataset(
            name,
            shape=(0, spec.n_channels),
            maxshape=(None, spec.n_channels),
            dtype=dtype,
            chunks=(max(16, rows // 16), spec.n_channels),
        )
    group.create_dataset("overview_time", shape=(0,), maxshape=(None,), dtype="f8", chunks=(4096,))
    group.attrs["overview_block_samples"] = OVERVIEW_BLOCK
    for name in ("gaps", "clock_offsets"):
        group.create_dataset(name, shape=(0, 2), maxshape=(None, 2), dtype="f8", chunks=(256, 2))
    group["gaps"].attrs["columns"] = ["start_s", "stop_s"]
    # The online filter chain that was active (monitor and decoders saw it; the data stay raw), and when it
    # changed: rows of (session time, chain JSON), so any reader can redo it.
    group.create_dataset("filters/time", shape=(0,), maxshape=(None,), dtype="f8", chunks=(64,))
    group.create_dataset("filters/chain", shape=(0,), maxshape=(None,), dtype=CHAIN_DTYPE, chunks=(64,))
    group["filters/time"].attrs["units"] = "s"
    group["clock_offsets"].attrs["columns"] = ["local_time_s", "offset_s"]
    units = spec.channel_units or ["unknown"] * spec.n_channels
    group.attrs["sampling_rate"] = float(spec.sampling_rate_hz)
    group.attrs["sampling_rate_units"] = "Hz"
    group.attrs["channel_names"] = list(spec.channel_names)
    group.attrs["channel_units"] = list(units)
    group.attrs["channel_types"] = list(spec.channel_types)
    group.attrs["source"] = spec.source
    group.attrs["scale"] = spec.scale
    group.attrs["offset"] = spec.offset
    for key, value in spec.info.items():
        group.attrs[f"info_{key}"] = value
    return group


def stream_spec(group: h5py.Group) -> StreamSpec:
    """Read back the StreamSpec of an existing ``/streams/<name>`` group."""
    attrs = group.attrs
    info = {k[5:]: v for k, v in attrs.items() if k.startswith("info_")}
    return StreamSpec(
        name=group.name.rsplit("/", 1)[-1],
        channel_names=[str(c) for c in attrs["channel_names"]],
        sampling_rate_hz=float(attrs["sampling_rate"]),
        channel_units=[str(u) for u in attrs["channel_units"]],
        dtype=str(group["data"].dtype),
        source=str(attrs["source"]),
        info=info,
        scale=_number_or_list(attrs.get("scale", 1.0)),
        offset=_number_or_list(attrs.get("offset", 0.0)),
        channel_types=[str(kind) for kind in attrs["channel_types"]] if "channel_types" in attrs else None,
    )


def _number_or_list(value) -> float | list[float]:
    array = np.asarray(value, dtype=np.float64)
    return float(array) if array.ndim == 0 else array.tolist()
