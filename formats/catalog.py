"""Which formats go which way, through which library, and what each keeps or loses (for help, completion
and the README). Plain data: importing this module loads no format library."""

from dataclasses import dataclass
from pathlib import Path

from neuroshell.common.errors import UserError

EXTRA = "pip install 'neuroshell[formats]'"


class FormatError(UserError):
    """A file that cannot go to or come from the format asked for."""


@dataclass(frozen=True)
class Format:
    name: str
    suffixes: tuple[str, ...]
    directions: str  # "export", "import" or "both"
    library: str
    keeps: str
    loses: str


FORMATS = (
    Format(
        "fif",
        (".fif",),
        "both",
        "mne",
        "one stream: samples (float32, in T/V), channel names and types (fT: mag, uV: eeg, others: misc), "
        "meas_date, markers as annotations, gaps as BAD_ACQ_SKIP (zeros inside)",
        "exact timestamps (samples sit on the nominal rate's grid), integer counts, clock offsets",
    ),
    Format(
        "edf",
        (".edf", ".bdf"),
        "both",
        "mne (edfio)",
        "one stream: samples as 16-bit (EDF) values over each channel's range, channel names, start time, "
        "markers as annotations, gaps as BAD_ACQ_SKIP",
        "precision beyond 16 bits, exact timestamps, channel types; export holds the samples in memory",
    ),
    Format(
        "nwb",
        (".nwb",),
        "export",
        "pynwb",
        "every stream in its own sample type with conversion/offset and exact timestamps, units, channel "
        "names, EEG electrodes, markers (label, source), gaps as invalid_times, every run's spikes as Units",
        "clock offsets, overviews, datasets and models",
    ),
    Format(
        "sonata",
        (".h5",),
        "export",
        "h5py (libsonata reads it back)",
        "a simulation run's spikes: populations, node ids, times in ms, sorted by time",
        "the network, rates and state traces",
    ),
    Format(
        "xdf",
        (".xdf", ".xdfz"),
        "import",
        "pyxdf",
        "every stream: numeric streams with nominal rate, channel labels and units, clock offsets applied "
        "and kept raw; string streams as markers with their stream's name as source",
        "stream header fields beyond name, type, rate, labels and units",
    ),
    Format(
        "mne",
        (".vhdr", ".set"),
        "import",
        "mne",
        "samples, channel names and units, measurement date, annotations as markers",
        "montage, digitisation and other fields of MNE's Info",
    ),
)

EXPORT_SUFFIXES = tuple(s for f in FORMATS if f.directions in ("export", "both") for s in f.suffixes)
IMPORT_SUFFIXES = tuple(s for f in FORMATS if f.directions in ("import", "both") for s in f.suffixes)


def export_format(target: Path, given: str | None) -> str:
    """The format to write ``target`` in: ``given``, or the one its suffix names."""
    if given:
        return given
    suffix = target.suffix.lower()
    for entry in FORMATS:
        if suffix in entry.suffixes and entry.directions in ("export", "both") and entry.name != "sonata":
            return entry.name
    choices = ", ".join(s for s in EXPORT_SUFFIXES if s != ".h5")
    raise FormatError(f"cannot tell the format of '{target}' from its suffix: use {choices} (a simulation run: .h5)")


def import_format(source: Path) -> str:
    """The format of a file to import, from its suffix."""
    suffix = source.suffix.lower()
    for entry in FORMATS:
        if suffix in entry.suffixes and entry.directions in ("import", "both"):
            return "xdf" if entry.name == "xdf" else "mne"
    raise FormatError(f"cannot import '{source}': known suffixes are {', '.join(IMPORT_SUFFIXES)}")


def require(module: str):
    """Import a format library, or fail with one line that names the extra to install."""
    from importlib import import_module

    try:
        return import_module(module)
    except ImportError:
        raise FormatError(f"this format needs {module.split('.')[0]}: {EXTRA}") from None
