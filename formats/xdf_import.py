"""XDF files (LabRecorder) in through pyxdf: numeric streams to /streams, string streams to /markers.

Timestamps come from pyxdf as an XDF user gets them: each stream's clock offsets applied, onto the recording
machine's LSL clock (the clock neuroshell records on), and regular streams dejittered (pyxdf's line fit per
segment, so they increase strictly); the raw offsets are kept in ``clock_offsets`` as a recording keeps them.
A break in a regular stream (a step over 1.5 sample periods) becomes a gap.
"""

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np

from neuroshell.common.channels import declared_type
from neuroshell.formats.catalog import FormatError, require
from neuroshell.formats.target import ImportTarget
from neuroshell.formats.timeline import GAP_STEPS
from neuroshell.storage.spec import StreamSpec

pyxdf = require("pyxdf")

BLOCK_SAMPLES = 1 << 16


def import_xdf(source: Path, target: Path, overwrite: bool, progress: Callable[[float], None] | None = None) -> dict:
    """Write every stream of ``source`` into a new neuroshell file ``target``. Returns what went in: per
    numeric stream its sample count, and the number of markers."""
    said = _Said()
    logging.getLogger("pyxdf").addHandler(said)
    try:
        streams, header = pyxdf.load_xdf(str(source), synchronize_clocks=True)
    except Exception as error:  # pyxdf raises many kinds on a damaged file: one line for each
        raise FormatError(f"pyxdf cannot read {source}: {error}") from None
    finally:
        logging.getLogger("pyxdf").removeHandler(said)
    first_times = [float(s["time_stamps"][0]) for s in streams if len(s["time_stamps"])]
    zero = _clock_zero(header, min(first_times) if first_times else 0.0)
    out = ImportTarget(target, zero, source, overwrite)
    counts: dict = {"streams": {}, "markers": 0, "notes": _truncation(source, streams, said.errors)}
    markers: tuple[list, list, list] = ([], [], [])
    try:
        for number, stream in enumerate(streams, 1):
            info = stream["info"]
            if _field(info, "channel_format") == "string":
                _collect_markers(stream, markers)
            else:
                name = out.stream_name(_field(info, "name") or f"stream{number}")
                counts["streams"][name] = _add_numeric(out, name, stream)
            if progress is not None:
                progress(number / len(streams))
        counts["markers"] = out.add_markers(*markers)
    finally:
        out.close()
    return counts


class _Said(logging.Handler):
    """pyxdf's errors while it reads (it logs a damaged chunk and scans on)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.errors.append(record.getMessage())


def _truncation(source: Path, streams: list[dict], errors: list[str]) -> list[str]:
    """Notes on a file cut short: a stream with fewer samples than its footer counts, or no footer at all
    (LabRecorder writes them when a recording ends), or a damaged chunk pyxdf skipped."""
    notes = []
    for stream in streams:
        name, read = _field(stream["info"], "name", "?"), len(stream["time_stamps"])
        footer = ((stream.get("footer") or {}).get("info")) or {}
        expected = int(_field(footer, "sample_count", "-1"))
        if expected > read:
            notes.append(f"truncated: stream '{name}': {read} of {expected} samples read")
        elif not footer:
            notes.append(f"truncated: stream '{name}' has no footer (the file ends early): {read} samples read")
    if errors and not notes:
        notes.append(f"damaged: {source.name}: pyxdf skipped a damaged part ({errors[0]})")
    return notes


def _field(info: dict, key: str, default: str = "") -> str:
    value = info.get(key)
    return str(value[0]) if value else default


def _clock_zero(header: dict, first_time_s: float) -> float:
    """The Unix time at which the LSL clock read 0, from the file header's ``datetime`` (when the file was
    begun, taken as the first sample's wall-clock time); 0 when the header has none."""
    stamp = _field(header.get("info", {}), "datetime")
    try:
        return datetime.fromisoformat(stamp).timestamp() - first_time_s
    except ValueError:
        return 0.0


def _channels(info: dict, count: int) -> tuple[list[str], list[str], list[str]]:
    """Channel labels, units and MNE types from the stream header's <desc><channels>, where present; a
    channel with no type of its own takes the stream's type (LSL's ``EEG``), or the one its unit says."""
    labels, units, types = [f"ch{i + 1}" for i in range(count)], ["unknown"] * count, [""] * count
    desc = (info.get("desc") or [None])[0] or {}
    channels = ((desc.get("channels") or [None])[0] or {}).get("channel") or []
    for i, channel in enumerate(channels[:count]):
        labels[i] = _field(channel, "label", labels[i])
        units[i] = _field(channel, "unit", units[i])
        types[i] = _field(channel, "type")
    stream_type = _field(info, "type")
    return labels, units, [declared_type(kind, stream_type, unit) for kind, unit in zip(types, units, strict=True)]


def _add_numeric(out: ImportTarget, name: str, stream: dict) -> int:
    info, data, times = stream["info"], np.asarray(stream["time_series"]), np.asarray(stream["time_stamps"])
    if data.ndim == 1:
        data = data[:, None]
    count = int(_field(info, "channel_count", str(data.shape[1])))
    if data.shape[1] != count:
        raise FormatError(f"stream '{name}' declares {count} channels but holds {data.shape[1]}: the file is damaged")
    labels, units, types = _channels(info, count)
    spec = StreamSpec(
        name,
        labels,
        float(_field(info, "nominal_srate", "0")),
        units,
        str(data.dtype),
        source="xdf",
        info={"type": _field(info, "type"), "source_id": _field(info, "source_id")},
        channel_types=types,
    )
    gaps = []
    if spec.sampling_rate_hz > 0 and len(times) > 1:
        breaks = np.flatnonzero(np.diff(times) > GAP_STEPS / spec.sampling_rate_hz)
        gaps = [(times[i] + 1 / spec.sampling_rate_hz, times[i + 1]) for i in breaks]
    offsets = np.column_stack([stream.get("clock_times", []), stream.get("clock_values", [])])
    blocks = ((data[i : i + BLOCK_SAMPLES], times[i : i + BLOCK_SAMPLES]) for i in range(0, len(times), BLOCK_SAMPLES))
    return out.add_stream(spec, blocks, gaps=gaps, clock_offsets=offsets)


def _collect_markers(stream: dict, markers: tuple[list, list, list]) -> None:
    source = _field(stream["info"], "name", "xdf")
    for time_s, values in zip(stream["time_stamps"], stream["time_series"], strict=True):
        markers[0].append(float(time_s))
        markers[1].append("/".join(str(v) for v in values))
        markers[2].append(source)
