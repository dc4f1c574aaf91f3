"""Format verbs: export and import, through the field's own libraries (the engine is ``formats``)."""

import glob
from contextlib import contextmanager
from pathlib import Path

from neuroshell.common.words import counted
from neuroshell.formats.catalog import EXPORT_SUFFIXES, FORMATS, IMPORT_SUFFIXES
from neuroshell.sessions.argtypes import Choice, CsvList, FilePath, H5Location, H5Path, Quantity
from neuroshell.sessions.errors import NeuroshellError
from neuroshell.sessions.output import Message, Table
from neuroshell.sessions.registry import REQUIRED, Arg, Flag, Opt, VerbSet

verbs = VerbSet("formats")


def _format_help(direction: str) -> str:
    lines = [
        f"{f.name} ({', '.join(f.suffixes)}, {f.library}): keeps {f.keeps}; cannot carry {f.loses}."
        for f in FORMATS
        if f.directions in (direction, "both")
    ]
    return "\n".join(lines)


@contextmanager
def _cleaned_up_on_failure(target: Path):
    """Leave no half-written output behind when a verb fails or is interrupted (FIF splits included)."""
    folder = target.parent if str(target.parent) else Path(".")
    pattern = glob.escape(target.stem) + "*"  # a name like trunc[1].h5 is not a pattern
    before = set(folder.glob(pattern)) if folder.exists() else set()
    try:
        yield
    except BaseException:
        for path in set(folder.glob(pattern)) - before:
            path.unlink(missing_ok=True)
        raise


@verbs.verb(
    "export",
    "Write a stream, a file or a simulation run in another format (FIF, EDF, NWB, SONATA).",
    Arg("source", H5Path(), "FILE:/streams/NAME (fif, edf), FILE (nwb) or FILE:/simulations/RUN (sonata)"),
    Opt("to", FilePath(suffixes=EXPORT_SUFFIXES), "the file to write; its suffix names the format", REQUIRED),
    Opt("format", Choice(choices=("fif", "edf", "nwb", "sonata")), "the format, where the suffix does not say"),
    Flag("overwrite", "replace an existing target"),
    details=_format_help("export"),
)
def export_verb(session, args):
    from neuroshell.formats.catalog import export_format

    location: H5Location = args.source
    target = args.to
    simulation = location.path.startswith("/simulations/")
    kind = export_format(target, args.format or ("sonata" if simulation and target.suffix.lower() == ".h5" else None))
    _check_fit(kind, simulation, target)
    if target.exists() and not args.overwrite:
        raise NeuroshellError(f"{target} exists: choose another name or add --overwrite")
    session.workspace.ensure_free(target)
    with session.workspace.readable(location.file) as file, _cleaned_up_on_failure(target):
        if kind in ("fif", "edf"):
            return _export_mne(session, file, location, target, kind, args.overwrite)
        if kind == "nwb":
            return _export_nwb(session, file, location, target, args.overwrite)
        return _export_sonata(file, location, target, args.overwrite)


def _check_fit(kind: str, simulation: bool, target: Path) -> None:
    """Refuse a format that cannot hold the source, or a name whose suffix says another format."""
    from neuroshell.formats.catalog import FORMATS

    if simulation and kind != "sonata":
        raise NeuroshellError(f"a simulation run exports to SONATA spikes (.h5), not {kind}: name the target .h5")
    if not simulation and kind == "sonata":
        raise NeuroshellError("SONATA holds a simulation run's spikes: give FILE:/simulations/RUN")
    suffixes = next(f.suffixes for f in FORMATS if f.name == kind)
    if target.suffix.lower() not in suffixes:
        raise NeuroshellError(f"{target.name} would hold {kind}: name it {' or '.join(suffixes)}")


def _stream_of(file, location: H5Location):
    if location.path.startswith("/streams/"):
        return file.stream(location.path)
    names = file.stream_names()
    if location.path == "/" and len(names) == 1:
        return file.stream(names[0])
    raise NeuroshellError(f"give one stream: {location.file}:/streams/NAME (streams: {', '.join(names) or 'none'})")


def _export_mne(session, file, location, target: Path, kind: str, overwrite: bool):
    from neuroshell.formats.mne_export import stream_raw, write_raw

    view = _stream_of(file, location)
    with session.ui.progress(f"exporting {view.name} to {kind.upper()}", total=1.0) as bar:
        raw, left_out = stream_raw(file, view, bar.update)
        written, notes = write_raw(raw, target, kind, overwrite, view.spec)
    annotations = raw.annotations.description
    skips = int((annotations == "BAD_ACQ_SKIP").sum())
    text = (
        f"wrote {', '.join(map(str, written))}: {len(raw.ch_names)} channels x {raw.n_times} samples at "
        f"{raw.info['sfreq']:g} Hz, {counted(len(annotations) - skips, 'marker')} as annotations, "
        f"{counted(skips, 'gap')} as BAD_ACQ_SKIP"
    )
    result = [Message(text, "success")] + [Message(note, "warning") for note in notes]
    if left_out:
        result.append(Message(f"left out {counted(left_out, 'marker')} outside the stream's time span", "warning"))
    return result


def _export_nwb(session, file, location: H5Location, target: Path, overwrite: bool):
    from neuroshell.formats.nwb_export import export_nwb

    total = sum(file.stream(name).n_samples for name in file.stream_names())
    with session.ui.progress("exporting to NWB", total=total or None) as bar:
        counts = export_nwb(file, target, overwrite, progress=bar.advance)
    result = [
        Message(
            f"wrote {target}: {counted(counts['streams'], 'stream')} ({counts['samples']} samples), "
            f"{counted(counts['markers'], 'marker')}, {counted(counts['gaps'], 'gap')}, "
            f"{counted(counts['units'], 'unit')} from simulation runs",
            "success",
        )
    ]
    if location.path != "/":
        result.append(
            Message(f"NWB takes the whole file: {location.file} went in, not only {location.path}", "warning")
        )
    return result


def _export_sonata(file, location: H5Location, target: Path, overwrite: bool):
    from neuroshell.formats.sonata import export_sonata

    if not location.path.startswith("/simulations/"):
        raise NeuroshellError(f"SONATA holds spikes: give a run, {location.file}:/simulations/RUN")
    counts = export_sonata(file, location.path, target, overwrite)
    rows = [(population, n) for population, n in counts.items()]
    return [Table(("population", "spikes"), rows), Message(f"wrote {target} (SONATA spikes)", "success")]


def _check_options(kind: str, args) -> None:
    """Refuse an option the file's format does not use, rather than ignore it."""
    given = [name for name in ("time", "channels", "marker", "unit", "rate") if getattr(args, name) is not None]
    if kind != "csv" and given:
        raise NeuroshellError(f"--{given[0]} is for CSV files: {args.source.name} names its own columns")
    if kind != "mne" and args.stim is not None:
        raise NeuroshellError(f"--stim is for files MNE reads (FIF, EDF, BDF, GDF, ...), not {kind.upper()}")


@verbs.verb(
    "import",
    "Read an XDF, FIF, EDF/BDF, GDF, BrainVision, EEGLAB or CSV file into a new neuroshell file.",
    Arg("source", FilePath(must_exist=True, suffixes=IMPORT_SUFFIXES), "the file to read"),
    Opt("to", FilePath(), "the neuroshell file to create (default: SOURCE with .h5)"),
    Opt("stim", help="trigger channel whose events become markers (default: every channel of type stim)"),
    Opt("time", help="CSV: the timestamp column (default: the first named *timestamp* or time)"),
    Opt("channels", CsvList(), "CSV: the channel columns (default: every numeric column left)"),
    Opt("marker", help="CSV: the column whose non-empty cells are markers (default: none)"),
    Opt("unit", help="CSV: the channels' unit, e.g. uV (default: unknown)"),
    Opt("rate", Quantity(unit="Hz", positive=True), "CSV: the nominal rate (default: from the timestamps)"),
    Flag("overwrite", "replace an existing target"),
    details=_format_help("import"),
)
def import_verb(session, args):
    from neuroshell.formats.catalog import import_format

    source: Path = args.source
    kind = import_format(source)
    target = args.to or source.with_suffix(".h5")
    _check_options(kind, args)
    if target.exists() and not args.overwrite:
        raise NeuroshellError(f"{target} exists: choose another name with --to, or add --overwrite")
    session.workspace.ensure_free(target)
    with session.ui.progress(f"importing {source.name}", total=1.0) as bar, _cleaned_up_on_failure(target):
        if kind == "xdf":
            from neuroshell.formats.xdf_import import import_xdf

            counts = import_xdf(source, target, args.overwrite, bar.update)
        elif kind == "csv":
            from neuroshell.formats.csv_import import CsvColumns, import_csv

            columns = CsvColumns(
                args.time, tuple(args.channels or ()), args.marker, args.unit or "unknown", args.rate or 0.0
            )
            counts = import_csv(source, target, args.overwrite, columns, bar.update)
        else:
            from neuroshell.formats.mne_import import import_raw

            counts = import_raw(source, target, args.overwrite, bar.update, args.stim)
    streams = counts["streams"]
    session.made("file", target)
    rows = [(f"{target}:/streams/{name}", n) for name, n in streams.items()]
    gaps = f", {counted(counts['gaps'], 'gap')}" if counts.get("gaps") else ""
    if counts.get("stim_events"):
        gaps += f" ({counts['stim_events']} of the markers from trigger channels)"
    wrote = f"wrote {target}: {counted(len(streams), 'stream')}, {counted(counts['markers'], 'marker')}{gaps}"
    notes = [Message(note, "warning") for note in counts["notes"]]
    return [Table(("stream", "samples"), rows, empty="no streams of samples"), Message(wrote, "success"), *notes]
