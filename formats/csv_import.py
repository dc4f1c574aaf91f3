"""CSV files of acquisition tools (OpenBCI GUI, Muse apps, a lab's own scripts) in through pandas: a
timestamp column, channel columns and an optional marker column, each named by the user or found."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neuroshell.formats.catalog import FormatError, require
from neuroshell.formats.target import ImportTarget
from neuroshell.formats.timeline import GAP_STEPS
from neuroshell.storage.spec import StreamSpec

pandas = require("pandas")

SKIPPED_COLUMNS = ("sample index", "sample_index", "index")  # counters, not signals


@dataclass(frozen=True)
class CsvColumns:
    """Which columns are what: ``time`` (seconds, Unix or from any zero, or date-times), ``channels`` (names;
    empty: every numeric column left), ``marker`` (its non-empty cells become markers; ``None``: none), the
    channels' ``unit`` and the nominal ``rate_hz`` (0: estimated from the timestamps)."""

    time: str | None = None
    channels: tuple[str, ...] = ()
    marker: str | None = None
    unit: str = "unknown"
    rate_hz: float = 0.0


def import_csv(
    source: Path, target: Path, overwrite: bool, columns: CsvColumns, progress: Callable[[float], None] | None = None
) -> dict:
    """Write a CSV file's samples and markers into a new neuroshell file; returns what went in."""
    table = _table(source)
    time_column = columns.time or _found_time_column(table, source)
    times, zero = _seconds(table, time_column)
    channels = list(columns.channels) or _numeric_columns(table, {time_column, columns.marker})
    missing = [name for name in (*channels, columns.marker) if name is not None and name not in table.columns]
    if missing:
        raise FormatError(f"{source.name} has no column {missing[0]!r} (columns: {', '.join(map(str, table.columns))})")
    if not channels:
        raise FormatError(f"{source.name} has no numeric column to import: name them with --channels")
    data = table[channels].apply(pandas.to_numeric, errors="coerce").to_numpy(np.float64)
    rate = columns.rate_hz or _estimated_rate(times)
    out = ImportTarget(target, zero, source, overwrite)
    try:
        name = out.stream_name(source.stem)
        # the channels' types follow from their unit (StreamSpec's default)
        spec = StreamSpec(name, [str(c) for c in channels], rate, [columns.unit] * len(channels), "float64", "csv")
        breaks = np.flatnonzero(np.diff(times) > GAP_STEPS / rate) if rate > 0 else np.zeros(0, int)
        gaps = [(times[i] + 1 / rate, times[i + 1]) for i in breaks]
        samples = out.add_stream(spec, [(data, times)], gaps=gaps)
        markers = _markers(table, columns.marker, times)
        out.add_markers(*markers)
    finally:
        out.close()
    if progress is not None:
        progress(1.0)
    notes = [] if columns.rate_hz else [f"rate from the timestamps: {rate:g} Hz (--rate states it)"]
    return {"streams": {name: samples}, "markers": len(markers[0]), "gaps": len(gaps), "notes": notes}


def _table(source: Path):
    try:  # OpenBCI GUI writes '%' comment lines above its header
        separator = "\t" if source.suffix.lower() == ".tsv" else ","
        return pandas.read_csv(source, sep=separator, comment="%", skipinitialspace=True)
    except Exception as error:  # pandas raises many kinds on a malformed file: one line for each
        raise FormatError(f"pandas cannot read {source}: {error}") from None


def _found_time_column(table, source: Path) -> str:
    named = [c for c in table.columns if "timestamp" in str(c).lower() or str(c).lower() in ("time", "time_s", "t")]
    if not named:
        raise FormatError(f"{source.name}: no timestamp column found: name it with --time COLUMN")
    return named[0]


def _seconds(table, column: str) -> tuple[np.ndarray, float]:
    """Timestamps (n,) s from the file's first one, and the Unix time of that zero (0 when the column holds
    no Unix or date-time values)."""
    if column not in table.columns:
        raise FormatError(f"no column {column!r} (columns: {', '.join(map(str, table.columns))})")
    values = pandas.to_numeric(table[column], errors="coerce")
    if values.isna().all():  # date-times, as Muse apps write them
        moments = pandas.to_datetime(table[column], errors="coerce", utc=True)
        values = (moments - pandas.Timestamp(0, tz="UTC")).dt.total_seconds()
    times = values.to_numpy(np.float64)
    if np.isnan(times).any() or np.any(np.diff(times) <= 0):
        bad = int(np.flatnonzero(np.isnan(times) | np.r_[False, np.diff(times) <= 0])[0])
        raise FormatError(f"column {column!r}: row {bad + 1} is not a time after the one before ({table[column][bad]})")
    unix = 1e8 < times[0] < 1e10  # seconds since 1970 between 1973 and 2286
    zero = float(np.floor(times[0])) if unix else 0.0
    return times - zero, zero


def _numeric_columns(table, taken: set) -> list[str]:
    return [
        c
        for c in table.columns
        if c not in taken
        and str(c).strip().lower() not in SKIPPED_COLUMNS
        and pandas.api.types.is_numeric_dtype(table[c])
        and not table[c].isna().all()
    ]


def _estimated_rate(times: np.ndarray) -> float:
    """Samples per second over the whole file; within 0.1% of a whole number (timestamps written to a few
    decimals jitter), that number."""
    if len(times) < 2:
        return 0.0
    rate = (len(times) - 1) / (times[-1] - times[0])
    return float(round(rate)) if abs(rate - round(rate)) < 1e-3 * rate else float(f"{rate:.6g}")


def _markers(table, column: str | None, times: np.ndarray) -> tuple[list, list, list]:
    if column is None:
        return [], [], []
    cells = table[column]
    labels = [_label(cell) for cell in cells]
    kept = [i for i, label in enumerate(labels) if label not in ("", "0")]  # OpenBCI writes 0 for no marker
    return [float(times[i]) for i in kept], [labels[i] for i in kept], [f"csv {column}"] * len(kept)


def _label(cell) -> str:
    if pandas.isna(cell):
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()
