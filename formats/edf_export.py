"""An MNE Raw of a neuroshell stream out to EDF/BDF through edfio (the library MNE's own export uses).

Written here rather than through ``mne.export.export_raw`` for what real files need and MNE's export does not
give: each channel's physical range is its own (16-bit EDF quantises each channel over its own span), and
each channel's unit prefix is chosen so its range fits EDF's 8-character fields (a DC channel of -12 V is
written in mV, not as '-12002900' uV, which EDF cannot hold).
"""

from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np

from neuroshell.common.channels import si_unit
from neuroshell.formats.catalog import FormatError, require
from neuroshell.formats.mne_export import SKIP

edfio = require("edfio")

FIELD_CHARS = 8  # EDF header numbers are 8 ASCII characters
LABEL_CHARS = 16
PREFIXES = {"V": ("uV", "mV", "V"), "T": ("fT", "pT", "nT", "T"), "T/m": ("fT/cm", "T/m")}
EARLIEST, LATEST = date(1985, 1, 1), date(2084, 12, 31)  # the dates EDF's two-digit years can say


def write_edf(raw, target: Path, units: list[str], types: list[str]) -> list[str]:
    """Write ``raw`` (values in SI units) to ``target`` (.edf: 16 bits, .bdf: 24 bits). ``units`` and ``types``
    are the stream's channel units and MNE types. Returns notes on what EDF changed."""
    bdf = target.suffix.lower() == ".bdf"
    signal_class = edfio.BdfSignal if bdf else edfio.EdfSignal
    digital = (-8388607, 8388607) if bdf else (-32767, 32767)
    rate = float(raw.info["sfreq"])
    data, duration, record_rate, notes = _records(raw.get_data(), rate)
    signals = []
    for name, unit, kind, values in zip(raw.ch_names, units, types, data, strict=True):
        if len(name) > LABEL_CHARS:
            raise FormatError(f"EDF holds channel names of at most {LABEL_CHARS} characters, not '{name}': use .fif")
        dimension, shown = _dimension(values, si_unit(unit).si, kind)
        low, high = float(shown.min()), float(shown.max())
        signals.append(
            signal_class(
                shown,
                record_rate,
                label=name,
                physical_dimension=dimension,
                physical_range=(low, high if high > low else low + 1),
                digital_range=digital,
            )
        )
    start, note = _start(raw.info["meas_date"])
    notes += [note] if note else []
    annotations = [
        edfio.EdfAnnotation(float(onset), float(length) or None, str(text))
        for onset, length, text in zip(
            raw.annotations.onset, raw.annotations.duration, raw.annotations.description, strict=True
        )
    ]
    if data.shape[1] > raw.n_times:
        annotations += [edfio.EdfAnnotation(raw.n_times / rate, (data.shape[1] - raw.n_times) / rate, SKIP)]
    edf = edfio.Edf(
        signals,
        recording=edfio.Recording(startdate=start.date()),
        starttime=start.time().replace(tzinfo=None),
        data_record_duration=duration,
        annotations=annotations,
    )
    edf.write(target)
    return notes


def _records(data: np.ndarray, rate: float) -> tuple[np.ndarray, float, float, list[str]]:
    """The samples (n_channels, n) padded to whole data records, the record's duration (s), the rate EDF
    states, and notes. EDF needs a whole number of samples per record."""
    notes = []
    if rate.is_integer():
        duration, record_rate = 1.0, rate
    else:  # MNE's rule: floor(rate) samples a record, the duration rounded to EDF's 8 characters
        duration = float(f"{np.floor(rate) / rate:.{FIELD_CHARS - 2}f}")
        record_rate = np.floor(rate) / duration
        notes.append(f"EDF needs whole samples per record: the rate is stated as {record_rate:.6g} Hz, not {rate:g}")
    per_record = round(record_rate * duration)
    padding = -data.shape[1] % per_record
    if padding:
        data = np.pad(data, ((0, 0), (0, padding)), mode="edge")
        notes.append(f"the last record was padded with {padding} samples, marked {SKIP}")
    return data, duration, record_rate, notes


def _dimension(values: np.ndarray, si: str, kind: str) -> tuple[str, np.ndarray]:
    """The physical dimension to write a channel in and its values in it: the first prefix (uV before mV
    before V) whose range fits EDF's fields; trigger codes unitless, as MNE writes them."""
    if kind == "stim":
        return "", values
    for dimension in PREFIXES.get(si, (si,)):
        shown = values / si_unit(dimension).factor
        if all(len(str(int(abs(v)))) + (v < 0) <= FIELD_CHARS for v in (shown.min(), shown.max())):
            return dimension, shown
    raise FormatError(f"a channel's values ({values.min():g} to {values.max():g} {si}) do not fit EDF: use .fif")


def _start(meas_date: datetime | None) -> tuple[datetime, str]:
    """The recording's start as EDF can state it; a date EDF cannot hold becomes 1 January 1985 (the EDF
    specification's clipping date), said in a note."""
    if meas_date is not None and EARLIEST <= meas_date.date() <= LATEST:
        return meas_date.astimezone(timezone.utc), ""
    fallback = datetime.combine(EARLIEST, (meas_date or datetime.min).time(), tzinfo=timezone.utc)
    said = meas_date.date().isoformat() if meas_date is not None else "unknown"
    return fallback, f"EDF cannot hold the start date ({said}): written as 1985-01-01, EDF's clipping date"
