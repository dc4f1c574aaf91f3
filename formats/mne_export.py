"""One stream of a neuroshell file out to FIF or EDF through MNE-Python.

The stream is presented to MNE as a Raw that reads its samples from the HDF5 file block by block (MNE's
own readers are built the same way), so ``Raw.save`` writes an hour of a helmet with bounded memory.
"""

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from neuroshell.common.channels import si_unit
from neuroshell.formats.catalog import FormatError, require
from neuroshell.formats.timeline import Timeline, build_timeline
from neuroshell.storage.spec import StreamSpec

mne = require("mne")
FIFF = mne.io.constants.FIFF

BUFFER_S = 10.0
EDF_MAX_BYTES = 2 << 30  # an EDF export holds every sample as float64 at once
SKIP = "BAD_ACQ_SKIP"
# FIFF's unit codes (MNE's ``info["chs"][i]["unit"]``) as symbols; MNE's values are in these SI units.
FIFF_UNITS = {107: "V", 112: "T", 201: "T/m", 110: "S", 114: "°C", 5: "K", 3: "s", 4: "A", 6: "mol", 7: "rad"}
FIFF_UNITS |= {1: "m", 101: "Hz", 117: "V/m²", 210: "px"}


def stream_info(spec: StreamSpec, rate_hz: float) -> tuple[dict, np.ndarray]:
    """MNE's Info of a stream (channel types, each channel's SI unit, the sensors' geometry where an import
    kept it) and the factors (n_channels,) that take each channel's values to that SI unit."""
    info = mne.create_info(list(spec.channel_names), rate_hz, list(spec.channel_types), verbose="error")
    fiff_codes = {symbol: code for code, symbol in FIFF_UNITS.items()}
    units = spec.channel_units or ["unknown"] * spec.n_channels
    locations, coils = spec.info.get("mne_channel_locations"), spec.info.get("mne_coil_types")
    for index, (channel, kind, unit) in enumerate(zip(info["chs"], spec.channel_types, units, strict=True)):
        if kind != "stim":  # MNE keeps trigger codes in channels it calls volts
            channel["unit"] = fiff_codes.get(si_unit(unit).si, FIFF.FIFF_UNIT_NONE)
        if locations is not None and len(locations) == spec.n_channels:
            channel["loc"] = np.asarray(locations[index], dtype=np.float64)
            channel["coil_type"] = int(coils[index])
    return info, np.array([si_unit(unit).factor for unit in units])


def stream_raw(file, view, progress: Callable[[float], None] | None = None):
    """An MNE Raw of a stream (``storage.files.StreamView``) of an open neuroshell file (``H5File``) on the
    grid of its nominal rate, with the file's markers inside the stream as annotations and gaps as
    BAD_ACQ_SKIP spans. ``progress(fraction)`` is called as samples are read.

    Returns the Raw and the number of markers left out (outside the stream's time span)."""
    if view.sampling_rate_hz <= 0:
        raise FormatError(f"stream '{view.name}' has no regular rate: export it to .nwb, which keeps timestamps")
    if view.n_samples == 0:
        raise FormatError(f"stream '{view.name}' holds no samples: nothing to export")
    timeline = build_timeline(view.time[: view.n_samples], view.sampling_rate_hz)
    info, factors = stream_info(view.spec, view.sampling_rate_hz)
    start_unix = float(file.handle.attrs["clock_zero_unix_s"]) + timeline.first_time_s
    info.set_meas_date(datetime.fromtimestamp(start_unix, tz=timezone.utc))
    raw = StreamRaw(info, view, timeline, factors, progress)
    annotations, left_out = _annotations(timeline, file.markers())
    raw.set_annotations(mne.Annotations(**annotations, orig_time=info["meas_date"]))
    return raw, left_out


def _annotations(timeline: Timeline, markers) -> tuple[dict, int]:
    times, labels, sources = markers
    rate = timeline.rate_hz
    positions = timeline.grid_position(times) if len(times) else np.zeros(0)
    inside = (positions >= 0) & (positions <= timeline.n_grid - 1)
    onsets = list(positions[inside] / rate) + [start / rate for start, _ in timeline.padding]
    durations = [0.0] * int(inside.sum()) + [length / rate for _, length in timeline.padding]
    descriptions = [label for label, keep in zip(labels, inside, strict=True) if keep]
    extras = [{"source": source} for source, keep in zip(sources, inside, strict=True) if keep]
    descriptions += [SKIP] * len(timeline.padding)
    extras += [{"source": "gap"}] * len(timeline.padding)
    found = dict(onset=onsets, duration=durations, description=descriptions, extras=extras)
    return found, int((~inside).sum())


class StreamRaw(mne.io.BaseRaw):
    """MNE Raw reading a neuroshell stream's samples on demand (``_read_segment_file``, MNE's reader hook)."""

    def __init__(self, info, view, timeline: Timeline, factors: np.ndarray, progress) -> None:
        # MNE lets _read_segment_file see only _raw_extras: the reader's state lives there.
        reader = dict(view=view, timeline=timeline, factors=factors, progress=progress)
        super().__init__(
            info,
            preload=False,
            first_samps=[0],
            last_samps=[timeline.n_grid - 1],
            filenames=[None],
            raw_extras=[reader],
            orig_format="double",
            buffer_size_sec=BUFFER_S,
            verbose="error",
        )

    def _read_segment_file(self, data, idx, fi, start, stop, cals, mult):
        reader = self._raw_extras[fi]
        view, timeline, factors = reader["view"], reader["timeline"], reader["factors"]
        block = np.empty((view.spec.n_channels, stop - start))
        timeline.fill(block, start, lambda first, last: view.samples(first, last) * factors)
        block *= cals
        data[:] = block[idx] if mult is None else mult @ block
        if reader["progress"] is not None:
            reader["progress"](stop / timeline.n_grid)


def write_raw(raw, target: Path, kind: str, overwrite: bool, spec: StreamSpec) -> tuple[list[Path], list[str]]:
    """Save a Raw of ``spec``'s stream as FIF (float32, split at 2 GB by MNE) or EDF/BDF; returns the files
    written and notes on what the format changed."""
    if kind == "fif":
        return [Path(p) for p in raw.save(target, fmt="single", overwrite=overwrite, verbose="error")], []
    needed = raw.n_times * len(raw.ch_names) * 8
    if needed > EDF_MAX_BYTES:
        raise FormatError(
            f"EDF export holds every sample in memory ({needed / 2**30:.1f} GiB here): export .fif or .nwb, "
            "which write in blocks, or a shorter span"
        )
    from neuroshell.formats.edf_export import write_edf

    units = spec.channel_units or ["unknown"] * spec.n_channels
    return [target], write_edf(raw, target, units, list(spec.channel_types))
