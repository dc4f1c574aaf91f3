"""A neuroshell file out to NWB 2 through pynwb: every stream, the markers, the gaps and every simulation
run's spikes. Samples keep their own type (``conversion`` and ``offset`` carry the scale to the unit) and
are written in blocks (hdmf's ``GenericDataChunkIterator``), so memory stays bounded."""

import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from neuroshell.common.channels import VOLTAGE_TYPES, si_unit
from neuroshell.formats.catalog import FormatError, require

pynwb = require("pynwb")
from hdmf.data_utils import GenericDataChunkIterator  # noqa: E402 (pynwb brings hdmf; checked just above)

# NWB names SI units in words; electrode voltages (EEG, iEEG) go in an ElectricalSeries
NWB_UNITS = {"T": "tesla", "T/m": "tesla/meter", "V": "volts", "S": "siemens", "K": "kelvin", "°C": "degrees Celsius"}
BUFFER_GB = 0.1


class BlockReader(GenericDataChunkIterator):
    """An HDF5 dataset (rows ``0:n``, and of a 2-D one the ``columns`` given) handed to pynwb block by block,
    minus ``subtract`` (timestamps to the session start), calling ``progress(rows)`` as it goes."""

    def __init__(
        self,
        dataset,
        n: int,
        subtract: float = 0.0,
        progress: Callable[[int], None] | None = None,
        columns: list[int] | None = None,
    ):
        self.dataset, self.n, self.subtract, self.progress = dataset, n, subtract, progress
        self.columns = np.asarray(columns if columns is not None else range(dataset.shape[-1]))
        super().__init__(buffer_gb=BUFFER_GB, display_progress=False)

    def _get_data(self, selection: tuple[slice, ...]) -> np.ndarray:
        if self.dataset.ndim == 1:
            block = self.dataset[selection]
        else:
            block = self.dataset[selection[0]][:, self.columns[selection[1]]]
        if self.progress is not None and selection[-1].start in (0, None):
            self.progress(selection[0].stop - selection[0].start)
        return block - self.subtract if self.subtract else block

    def _get_maxshape(self) -> tuple[int, ...]:
        return (self.n,) if self.dataset.ndim == 1 else (self.n, len(self.columns))

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
            for series in _series(nwbfile, view, reference, progress):
                nwbfile.add_acquisition(series)
            counts["streams"] += 1
            counts["samples"] += view.n_samples
    counts["markers"] = _add_markers(nwbfile, markers, reference)
    counts["gaps"] = _add_gaps(nwbfile, views, reference)
    counts["units"] = _add_units(nwbfile, handle)
    with pynwb.NWBHDF5IO(str(target), "w") as io:
        io.write(nwbfile)
    return counts


def _series(nwbfile, view, reference: float, progress) -> list:
    """The series of a stream: one per channel type, SI unit and conversion (NWB keeps one unit per series),
    all on the first one's timestamps (the later ones link to them)."""
    spec, n = view.spec, view.n_samples
    groups = _channel_groups(spec)
    found, names = [], set()
    for (kind, unit, conversion, offset), columns in groups.items():
        name = view.name if len(groups) == 1 else f"{view.name}_{kind}"
        name = name if name not in names else f"{name}_{len(names) + 1}"
        names.add(name)
        channels = [spec.channel_names[i] for i in columns]
        units = sorted({(spec.channel_units or ["unknown"] * spec.n_channels)[i] for i in columns})
        common = dict(
            name=name,
            data=BlockReader(view.data, n, progress=progress if not found else None, columns=columns),
            timestamps=BlockReader(view.time, n, subtract=reference) if not found else found[0],
            description=f"neuroshell stream '{view.name}' from {spec.source}, {kind} channels: {', '.join(channels)}",
            offset=offset,
            comments=f"channel type {kind}; channel units as recorded: {', '.join(units)}",
        )
        if conversion is None:  # volts of electrodes: one conversion per channel
            scale = np.broadcast_to(np.asarray(spec.scale, np.float64), (spec.n_channels,))
            per_channel = scale[columns] * np.array([si_unit(spec.channel_units[i]).factor for i in columns])
            same = bool(np.all(per_channel == per_channel[0]))
            found.append(
                pynwb.ecephys.ElectricalSeries(
                    electrodes=_electrodes(nwbfile, name, channels),
                    channel_conversion=None if same else per_channel,
                    conversion=float(per_channel[0]) if same else 1.0,
                    **common,
                )
            )
        else:
            found.append(pynwb.TimeSeries(unit=NWB_UNITS.get(unit, unit), conversion=conversion, **common))
    return found


def _channel_groups(spec) -> dict[tuple, list[int]]:
    """Channels grouped by (type, SI unit, conversion to it, offset in it): electrode voltages (EEG, iEEG)
    keep a conversion per channel (``None`` here); any other series needs one."""
    units = spec.channel_units or ["unknown"] * spec.n_channels
    scale = np.broadcast_to(np.asarray(spec.scale, np.float64), (spec.n_channels,))
    offset = np.broadcast_to(np.asarray(spec.offset, np.float64), (spec.n_channels,))
    groups: dict[tuple, list[int]] = {}
    for index, (kind, unit) in enumerate(zip(spec.channel_types, units, strict=True)):
        si = si_unit(unit)
        electrodes = kind in VOLTAGE_TYPES and si.si == "V"
        conversion = None if electrodes else float(scale[index] * si.factor)
        groups.setdefault((kind, si.si, conversion, float(offset[index] * si.factor)), []).append(index)
    return groups


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
