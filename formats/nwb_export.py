"""A neuroshell file out to NWB 2 through pynwb: every stream, the markers, the gaps and every simulation
run's spikes. Samples keep their own type (``conversion`` and ``offset`` carry the scale to the unit) and
are written in blocks (hdmf's ``GenericDataChunkIterator``), so memory stays bounded."""

import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from neuroshell.formats.catalog import SI_UNITS, FormatError, require

pynwb = require("pynwb")
from hdmf.data_utils import GenericDataChunkIterator  # noqa: E402 (pynwb brings hdmf; checked just above)

NWB_UNITS = {"T": "tesla", "V": "volts"}  # NWB names SI units in words; EEG (volts) is an ElectricalSeries
BUFFER_GB = 0.1


class BlockReader(GenericDataChunkIterator):
    """An HDF5 dataset (rows ``0:n``) handed to pynwb block by block, minus ``subtract`` (timestamps to the
    session start), calling ``progress(rows)`` as it goes."""

    def __init__(self, dataset, n: int, subtract: float = 0.0, progress: Callable[[int], None] | None = None):
        self.dataset, self.n, self.subtract, self.progress = dataset, n, subtract, progress
        super().__init__(buffer_gb=BUFFER_GB, display_progress=False)

    def _get_data(self, selection: tuple[slice, ...]) -> np.ndarray:
        block = self.dataset[selection]
        if self.progress is not None and selection[-1 if self.dataset.ndim == 1 else 1].start in (0, None):
            self.progress(selection[0].stop - selection[0].start)
        return block - self.subtract if self.subtract else block

    def _get_maxshape(self) -> tuple[int, ...]:
        return (self.n, *self.dataset.shape[1:])

    def _get_dtype(self) -> np.dtype:
        return self.dataset.dtype


def export_nwb(file, target: Path, overwrite: bool, progress: Callable[[int], None] | None = None) -> dict:
    """Write an open neuroshell file (``storage.files.H5File``) to ``target`` as NWB. ``progress(samples)`` is
    called as samples are written. Returns counts of what went in: streams, samples, markers, gaps, units."""
    if target.exists() and not overwrite:
        raise FormatError(f"{target} exists: choose another name or add --overwrite")
    handle = file.handle
    zero = float(handle.attrs["clock_zero_unix_s"])
    markers = file.markers()
    views = [file.stream(name) for name in file.stream_names()]
    starts = [float(v.time[0]) for v in views if v.n_samples] + ([float(markers[0].min())] if len(markers[0]) else [])
    reference = min(starts) if starts else 0.0
    nwbfile = pynwb.NWBFile(
        session_description=f"neuroshell recording {file.path.name}",
        identifier=str(uuid.uuid4()),
        session_start_time=datetime.fromtimestamp(zero + reference, tz=timezone.utc),
        source_script="neuroshell export",
        source_script_file_name=str(file.path),
    )
    counts = {"streams": 0, "samples": 0, "markers": 0, "gaps": 0, "units": 0}
    for view in views:
        if view.n_samples:
            nwbfile.add_acquisition(_series(nwbfile, view, reference, progress))
            counts["streams"] += 1
            counts["samples"] += view.n_samples
    counts["markers"] = _add_markers(nwbfile, markers, reference)
    counts["gaps"] = _add_gaps(nwbfile, views, reference)
    counts["units"] = _add_units(nwbfile, handle)
    with pynwb.NWBHDF5IO(str(target), "w") as io:
        io.write(nwbfile)
    return counts


def _series(nwbfile, view, reference: float, progress):
    spec, n = view.spec, view.n_samples
    units = spec.channel_units or ["unknown"] * spec.n_channels
    unit, factor = _nwb_unit(units[0])
    if any(_nwb_unit(u) != (unit, factor) for u in units):
        raise FormatError(
            f"stream '{view.name}' mixes units ({', '.join(sorted(set(units)))}): NWB keeps one per series"
        )
    scale, offset = np.asarray(spec.scale, np.float64), np.asarray(spec.offset, np.float64)
    if offset.ndim:
        raise FormatError(f"stream '{view.name}' has one offset per channel: NWB keeps one offset per series")
    data = BlockReader(view.data, n, progress=progress)
    timestamps = BlockReader(view.time, n, subtract=reference)
    description = f"neuroshell stream '{view.name}' from {spec.source}; channels: {', '.join(spec.channel_names)}"
    common = dict(
        name=view.name, data=data, timestamps=timestamps, description=description, offset=float(offset) * factor
    )
    if unit == "volts":
        electrodes = _electrodes(nwbfile, view.name, spec.channel_names)
        per_channel = scale * factor if scale.ndim else None
        conversion = 1.0 if scale.ndim else float(scale) * factor
        return pynwb.ecephys.ElectricalSeries(
            electrodes=electrodes, channel_conversion=per_channel, conversion=conversion, **common
        )
    if scale.ndim:
        raise FormatError(f"stream '{view.name}' has one scale per channel: NWB keeps that only for EEG (volts)")
    return pynwb.TimeSeries(
        unit=unit, conversion=float(scale) * factor, comments=f"channel units: {units[0]}", **common
    )


def _nwb_unit(unit: str) -> tuple[str, float]:
    """NWB's name of a channel unit's SI unit and the factor to it; a unit NWB has no SI name for stays."""
    symbol, factor, _ = SI_UNITS.get(unit, (unit, 1.0, ""))
    return NWB_UNITS.get(symbol, symbol), factor


def _electrodes(nwbfile, stream: str, channel_names: list[str]):
    device = nwbfile.create_device(name=f"{stream} device", description=f"the device of neuroshell stream {stream}")
    group = nwbfile.create_electrode_group(
        name=stream, description=f"electrodes of stream {stream}", location="unknown", device=device
    )
    if nwbfile.electrodes is None or "channel_name" not in nwbfile.electrodes.colnames:
        nwbfile.add_electrode_column(name="channel_name", description="the channel's name in the recording")
    first = len(nwbfile.electrodes) if nwbfile.electrodes is not None else 0
    for name in channel_names:
        nwbfile.add_electrode(group=group, location="unknown", channel_name=name)
    return nwbfile.create_electrode_table_region(
        list(range(first, first + len(channel_names))), f"electrodes of stream {stream}"
    )


def _add_markers(nwbfile, markers, reference: float) -> int:
    times, labels, sources = markers
    if not len(times):
        return 0
    table = pynwb.epoch.TimeIntervals(name="markers", description="neuroshell markers (an instant each)")
    table.add_column(name="label", description="the marker's label")
    table.add_column(name="source", description="where it came from: prompt, script, command, a device")
    for time_s, label, source in zip(times, labels, sources, strict=True):
        table.add_interval(start_time=time_s - reference, stop_time=time_s - reference, label=label, source=source)
    nwbfile.add_time_intervals(table)
    return len(times)


def _add_gaps(nwbfile, views, reference: float) -> int:
    added = 0
    for view in views:
        for start, stop in view.gaps():
            if added == 0:
                nwbfile.add_invalid_times_column(name="stream", description="the stream that holds no data")
            nwbfile.add_invalid_time_interval(
                start_time=start - reference, stop_time=stop - reference, stream=view.name
            )
            added += 1
    return added


def _add_units(nwbfile, handle) -> int:
    from neuroshell.storage.simulations import read_spikes

    added = 0
    for run in handle.get("simulations", {}):
        for population, (times, ids, size) in read_spikes(handle, f"/simulations/{run}").items():
            if added == 0:
                nwbfile.add_unit_column(name="run", description="the neuroshell simulation run")
                nwbfile.add_unit_column(name="population", description="the neuron's population")
                nwbfile.add_unit_column(name="node_id", description="the neuron's index in its population")
            order = np.argsort(ids, kind="stable")
            bounds = np.searchsorted(ids[order], np.arange(size + 1))
            for node in range(size):
                spikes = times[order[bounds[node] : bounds[node + 1]]]
                nwbfile.add_unit(spike_times=spikes, run=run, population=population, node_id=node)
                added += 1
    return added
