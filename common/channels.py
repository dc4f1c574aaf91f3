"""Channel units and types: the one table that every device, reader and writer of neuroshell goes through.

A channel's unit is the unit of its values after the stream's ``scale`` and ``offset`` (samples stay as the
source gave them). Its type is one of MNE's channel types (``eeg``, ``mag``, ``grad``, ``ref_meg``, ``stim``,
``eog``, ``ecg``, ``emg``, ``misc``, ``bio``, ``resp``, ``gsr``, ``temperature``, ...).
"""

from typing import NamedTuple


class Unit(NamedTuple):
    """A channel unit as a multiple of an SI unit: one ``symbol`` is ``factor`` ``si``."""

    si: str
    factor: float


UNITS = {
    "fT": Unit("T", 1e-15),
    "pT": Unit("T", 1e-12),
    "nT": Unit("T", 1e-9),
    "T": Unit("T", 1.0),
    "fT/cm": Unit("T/m", 1e-13),
    "T/m": Unit("T/m", 1.0),
    "nV": Unit("V", 1e-9),
    "uV": Unit("V", 1e-6),
    "µV": Unit("V", 1e-6),
    "microvolts": Unit("V", 1e-6),  # the LSL convention (XDF channel metadata)
    "mV": Unit("V", 1e-3),
    "millivolts": Unit("V", 1e-3),
    "V": Unit("V", 1.0),
    "volts": Unit("V", 1.0),
    "uS": Unit("S", 1e-6),
    "µS": Unit("S", 1e-6),
    "S": Unit("S", 1.0),
    "K": Unit("K", 1.0),
    "°C": Unit("°C", 1.0),
    "count": Unit("count", 1.0),  # trigger codes: unitless
}

# The unit neuroshell shows a channel of each MNE type in, given values in MNE's SI unit (stored with a scale).
SHOWN_UNITS = {"mag": "fT", "ref_meg": "fT", "grad": "fT/cm", "gsr": "uS", "stim": "count"}
SHOWN_UNITS |= {kind: "uV" for kind in ("eeg", "eog", "ecg", "emg", "seeg", "ecog", "dbs", "bio", "resp")}

VOLTAGE_TYPES = ("eeg", "seeg", "ecog", "dbs")  # the types NWB keeps as an ElectricalSeries
# Channel types of the XDF metadata (LSL's conventions) that are not spelt as MNE spells them.
LSL_TYPES = {"meg": "mag", "trigger": "stim", "markers": "stim", "eda": "gsr", "ppg": "bio"}
TYPE_OF_SI_UNIT = {"T": "mag", "T/m": "grad", "V": "eeg", "count": "stim", "S": "gsr", "K": "temperature"}
MNE_TYPES = frozenset(
    {"eeg", "mag", "grad", "ref_meg", "stim", "eog", "ecg", "emg", "misc", "bio", "resp", "seeg", "ecog", "dbs"}
    | {"gsr", "temperature", "syst", "exci", "ias", "chpi", "fnirs_cw_amplitude", "fnirs_od", "hbo", "hbr"}
    | {"eyegaze", "pupil"}
)


def si_unit(unit: str) -> Unit:
    """The SI unit of a channel unit and the factor to it; a unit the table does not know stays itself."""
    return UNITS.get(unit, Unit(unit, 1.0))


def type_of_unit(unit: str) -> str:
    """The MNE channel type a channel of ``unit`` most likely is, where its source named none: T: mag,
    T/m: grad, V: eeg, counts: stim, anything else: misc."""
    return TYPE_OF_SI_UNIT.get(si_unit(unit).si, "misc")


def mne_type(name: str) -> str:
    """MNE's name of a channel type written by another tool (``EEG``, ``Trigger``, ``MEG``); misc if unknown."""
    lowered = name.strip().lower()
    if lowered in MNE_TYPES:
        return lowered
    return LSL_TYPES.get(lowered, "misc")


def declared_type(channel_type: str, stream_type: str, unit: str) -> str:
    """MNE's type of a channel as an LSL stream (or its XDF file) declares it: the channel's own type, else its
    stream's (``EEG``), else the one its unit says."""
    named = channel_type or stream_type
    found = mne_type(named)
    return found if found != "misc" or named.strip().lower() == "misc" else type_of_unit(unit)
