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
        "one stream: samples (float32, in SI units), every channel's type and unit (grad stays grad in T/m, stim "
        "stays stim), sensor positions an import kept, meas_date, markers as annotations (Latin-1: other "
        "characters as &#N; references, decoded on import), gaps as BAD_ACQ_SKIP (zeros inside)",
        "exact timestamps (samples sit on the nominal rate's grid), integer counts, clock offsets",
    ),
    Format(
        "edf",
        (".edf", ".bdf"),
        "both",
        "edfio out, mne in",
        "one stream: samples as 16-bit (EDF) or 24-bit (BDF) values over each channel's own range, in a unit "
        "prefix whose range EDF's fields can hold, channel names, start time (1985-01-01 where EDF cannot hold "
        "it, said), markers as annotations, gaps as BAD_ACQ_SKIP; annotation-only files import as markers",
        "precision beyond 16/24 bits, exact timestamps, channel types (on import, MNE calls a channel of an "
        "unknown unit EEG); export holds the samples in memory",
    ),
    Format(
        "nwb",
        (".nwb",),
        "export",
        "pynwb",
        "every stream in its own sample type, one series per channel type and unit (ElectricalSeries for "
        "EEG/iEEG with electrodes, TimeSeries for MEG and the rest) on one shared time base, with "
        "conversion/offset to SI and exact timestamps, markers (label, source), gaps as invalid_times, every "
        "run's spikes as Units",
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
        (".vhdr", ".ahdr", ".set", ".gdf", ".cnt", ".sqd", ".con", ".lay", ".nxe"),
        "import",
        "mne (pymatreader for MATLAB v7.3 EEGLAB files)",
        "samples, channel names, types and units, measurement date, annotations as markers, trigger channels' "
        "events as markers",
        "montage, digitisation and other fields of MNE's Info",
    ),
    Format(
        "csv",
        (".csv", ".tsv", ".txt"),
        "import",
        "pandas",
        "a timestamp column (seconds or date-times), channel columns (float64, one unit), a marker column's "
        "non-empty cells as markers",
        "channel types beyond what the unit says; comment lines",
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
            return entry.name if entry.name in ("xdf", "csv") else "mne"
    raise FormatError(f"cannot import '{source}': known suffixes are {', '.join(IMPORT_SUFFIXES)}")


def require(module: str):
    """Import a format library, or fail with one line that names the extra to install."""
    from importlib import import_module

    try:
        return import_module(module)
    except ImportError:
        raise FormatError(f"this format needs {module.split('.')[0]}: {EXTRA}") from None
