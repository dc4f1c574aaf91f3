"""Dataset verbs: dataset epochs, dataset spikes, datasets (the engine is ``training``)."""

from pathlib import Path

from neuroshell.sessions.argtypes import (
    CsvList,
    FilePath,
    Float,
    FromSetting,
    H5Path,
    Int,
    LabelledSpan,
    Quantity,
    Span,
)
from neuroshell.sessions.channels import Amplitudes, Channels
from neuroshell.sessions.errors import NeuroshellError
from neuroshell.sessions.output import Message, Table
from neuroshell.sessions.registry import Arg, Flag, Opt, VerbSet
from neuroshell.sessions.verbs.filters import STAGE_OPTIONS, stages_of

verbs = VerbSet("training")


DATASET_TO = Opt(
    "to",
    FilePath(),
    "file the dataset goes to (default: SOURCE-datasets.h5 beside the (first) source, which stays untouched)",
)
SPLIT = CsvList(
    item=Float(minimum=0.0), length=3, meaning="train,validation,test fractions that add up to 1, e.g. 0.7,0.15,0.15"
)


def derived(source: Path, to: Path | None) -> Path:
    """Where derived data goes: the file named, or one of its own beside the source (a raw recording is
    the thing a lab cannot repeat: it is only read)."""
    return to if to is not None else source.with_name(f"{source.stem}-datasets.h5")


def store(session, dataset, path: Path) -> str:
    from neuroshell.training.datasets import save_dataset

    with session.workspace.writable(path) as handle:
        where = save_dataset(handle, dataset)
    dataset.recipe["file"] = str(path)
    session.datasets[dataset.name] = dataset
    return session.made("dataset", path, where)


def _summary(dataset, where: str) -> list:
    counts = dataset.counts()
    rows = [
        (name, *(counts[split][c] for split in ("train", "validation", "test")))
        for c, name in enumerate(dataset.classes)
    ]
    runs = f" from {len(dataset.run_names)} runs" if len(dataset.run_names) > 1 else ""
    table = Table(
        ("class", "train", "validation", "test"),
        rows,
        title=f"dataset {dataset.name}: "
        f"{len(dataset.y)} examples of {dataset.X.shape[1]} channels x {dataset.X.shape[2]} samples at "
        f"{dataset.sampling_rate_hz:g} Hz{runs}",
    )
    dropped = ", ".join(f"{n} ({why})" for why, n in dataset.dropped.items() if n) or "none"
    described = dataset.recipe.get("filtered") or ""
    if dataset.recipe.get("filter"):
        prepared = f"filtered: {described}; "
    else:
        prepared = f"filtered as recorded ({described}); " if described else ""
    return [table, Message(f"{prepared}dropped: {dropped}; stored in {where}", "success")]


def next_name(session, prefix: str) -> str:
    number = 1
    while f"{prefix}{number}" in session.datasets or f"{prefix}{number}" in session.models:
        number += 1
    return f"{prefix}{number}"


@verbs.verb(
    "dataset epochs",
    "Cut epochs around markers into a dataset (stored in the file under /datasets/NAME).",
    Arg(
        "stream",
        CsvList(item=H5Path(under="/streams/"), completes="h5"),
        "FILE:/streams/NAME, or several separated by commas (pooled, one run each; default: the latest recording's)",
        None,
    ),
    Opt(
        "markers", CsvList(), "labels to use (* wildcards), each LABEL or LABEL=CLASS, e.g. T1=fists,T2=feet", "stim/*"
    ),
    Opt("window", Span(), "epoch span around each marker", "-100ms:500ms"),
    Opt("channels", Channels(), "channel types (eeg, meg, mag, grad), names or indices (default: all)"),
    Opt("baseline", Span(), "span whose mean is subtracted, e.g. -100ms:0s"),
    *STAGE_OPTIONS,
    Flag("causal", "filter causally, exactly as 'filter' does live (default: zero-phase, as MNE's filter)"),
    Flag("filtered", "redo the online filters recorded with the stream (what a live decoder saw)"),
    Opt("resample", Quantity(unit="Hz", positive=True), "resample before cutting (polyphase), e.g. 128Hz"),
    Opt("reject", Amplitudes(), "drop epochs whose peak-to-peak exceeds this on a channel, e.g. 100uV or 3000fT"),
    Opt("split", SPLIT, "train,validation,test fractions (0,0,1: a dataset to evaluate on)", "0.7,0.15,0.15"),
    Opt("test-runs", Int(minimum=1), "the last N sources, whole, are the test split (the rest split as --split)"),
    Opt("name", help="dataset name (default: epochs1, ...)"),
    DATASET_TO,
    Opt("seed", Int(minimum=0), "split seed", FromSetting("seed")),
    details="Filters run over each source's continuous data (restarting after gaps), never per epoch: zero-phase "
    "through mne.filter.filter_data (FIR, MNE's defaults) and notch_filter, or with --causal the Butterworth "
    "chain a live device runs (so a model learns what decode start will see). Pooled sources must have the "
    "same channels and rate; each example keeps its source as its run.",
)
def dataset_epochs(session, args):
    from neuroshell.sessions.latest import latest_stream, said
    from neuroshell.training.datasets import make_dataset

    which = ""
    if args.stream is None:
        args.stream = [latest_stream(session)]
        which = said(args.stream[0])
    fractions = _fractions(args.split)
    plan, described = _plan(args)
    prepared = [_source_epochs(session, location, args, plan) for location in args.stream]
    pieces = [piece for piece, _ in prepared]
    described = prepared[0][1] or described
    X, classes, runs, dropped = _pool(pieces, args.stream)
    recipe = {
        "kind": "epochs",
        "stream": ",".join(str(location) for location in args.stream),
        "markers": ",".join(args.markers),
        "window_s": list(args.window),
        "baseline_s": list(args.baseline) if args.baseline else None,
        "channels": args.channels.text if args.channels else None,
        "split": list(fractions),
        "test_runs": args.test_runs or 0,
        "filtered": described,  # in the words of a live chain, where it ran as one
        "filter": {"chain": plan.chain.to_json(), "causal": plan.causal} if plan.chain else None,
        "resample_hz": args.resample,
        "reject": plan.reject or None,
    }
    dataset = make_dataset(
        args.name or next_name(session, "epochs"),
        X,
        classes,
        recipe,
        args.seed,
        fractions,
        runs=runs,
        test_runs=args.test_runs or 0,
        sampling_rate_hz=pieces[0].rate_hz,
        channel_names=pieces[0].channel_names,
        dropped=dropped,
        run_names=[str(location) for location in args.stream],
    )
    source = session.workspace.path_of(args.stream[0])
    table, stored = _summary(dataset, store(session, dataset, derived(source, args.to)))
    stored.text += which
    return [table, stored]


def _plan(args):
    """The EpochPlan the options describe, and its filtering in words."""
    from neuroshell.filters.chain import ChainSpec
    from neuroshell.training.epochs import EpochPlan, parse_markers

    stages = stages_of(args)
    if stages and args.filtered:
        raise NeuroshellError("--filtered redoes the recorded filters: give it alone, or filters, not both")
    if args.causal and not stages:
        raise NeuroshellError("--causal says how to run filters: give them too (e.g. --bandpass 8Hz:30Hz)")
    chain = ChainSpec(stages) if stages else None
    plan = EpochPlan(
        parse_markers(args.markers), tuple(args.window), args.baseline, chain, args.causal, args.resample,
        args.reject or {},
    )  # fmt: skip
    described = (chain.describe() if args.causal else f"{chain.describe()}, zero-phase") if chain else ""
    return plan, described


def _source_epochs(session, location, args, plan):
    """The epochs of one source (``training.epochs.SourceEpochs``), and the recorded filters redone (in
    words) with --filtered."""
    from neuroshell.training.epochs import make_epochs

    # A common average (asked for, or among the recorded chains) takes every channel; else only the picked
    # channels are read, so an hour of 306 channels is not held whole for a few.
    whole = bool(args.filtered or args.reref)
    with session.workspace.readable(location.file) as file:
        view = file.stream(location.path)
        spec = view.spec
        channels = (
            args.channels.indices(spec.channel_names, spec.channel_types)
            if args.channels
            else list(range(spec.n_channels))
        )
        n = view.n_samples
        times, gaps = view.time[:n], view.gaps()
        data = view.samples(0, n) if whole else view.samples(0, n, channels)
        marker_times, labels, _ = file.markers()
        described = ""
        if args.filtered:
            prepare, described = _recorded_filters(view, location)
            data = prepare(data, times, gaps)
    names = spec.channel_names
    units = spec.channel_units or [""] * spec.n_channels
    if not whole:
        names, units = [names[c] for c in channels], [units[c] for c in channels]
        channels = list(range(len(channels)))
    piece = make_epochs(data, times, spec.sampling_rate_hz, gaps, (marker_times, labels), plan, channels,
                        names, units)  # fmt: skip
    return piece, described


def _pool(pieces, locations):
    """One set of epochs from several sources: (X, classes, runs, dropped counts summed)."""
    import numpy as np

    first = pieces[0]
    for piece, location in zip(pieces[1:], locations[1:], strict=True):
        if piece.channel_names != first.channel_names or piece.rate_hz != first.rate_hz:
            raise NeuroshellError(
                f"{location} has other channels or another rate than {locations[0]}: pooled sources must match "
                "(pick the same channels with --channels)"
            )
    dropped = {}
    for piece in pieces:
        for why, n in piece.dropped.items():
            dropped[why] = dropped.get(why, 0) + n
    X = np.concatenate([piece.X for piece in pieces])
    classes = [name for piece in pieces for name in piece.classes]
    runs = np.concatenate([np.full(len(piece.classes), run) for run, piece in enumerate(pieces)])
    return X, classes, runs, dropped


def _recorded_filters(view, location):
    """A ``prepare(data, times, gaps)`` that redoes the stream's recorded chains, and their description."""
    from neuroshell.filters.chain import ChainSpec
    from neuroshell.filters.offline import redo_chains

    changes = view.filter_changes()
    described = "; then ".join(ChainSpec.from_json(chain).describe() for _, chain in changes)
    if not any(ChainSpec.from_json(chain).stages for _, chain in changes):
        raise NeuroshellError(f"--filtered: no online filter ran while {location} was recorded (its data are raw)")
    rate = view.sampling_rate_hz
    return (lambda data, times, gaps: redo_chains(data, times, rate, gaps, changes)), described


def _fractions(parts: list[float]) -> tuple[float, float, float]:
    if abs(sum(parts) - 1) > 1e-6:
        text = ",".join(f"{p:g}" for p in parts)
        raise NeuroshellError(f"--split {text}: three fractions that add up to 1, e.g. 0.7,0.15,0.15")
    return tuple(parts)


@verbs.verb(
    "dataset spikes",
    "Binned spike counts of a simulation run, in labelled time ranges, as a dataset.",
    Arg("run", H5Path(under="/simulations/"), "FILE:/simulations/RUN"),
    Opt("labels", CsvList(item=LabelledSpan()), "labelled time ranges, e.g. 0s:1s=rest,1s:2s=drive"),
    Opt("window", Quantity(unit="s", positive=True), "window length", 0.05),
    Opt("bins", Int(minimum=1), "time bins per window", 5),
    Opt("population", help="population (default: the first)"),
    Opt("name", help="dataset name (default: spikes1, ...)"),
    DATASET_TO,
    Opt("seed", Int(minimum=0), "split seed", FromSetting("seed")),
)
def dataset_spikes(session, args):
    from neuroshell.storage.simulations import read_spikes, run_group
    from neuroshell.training.datasets import make_dataset, spike_windows

    location, ranges = args.run, args.labels
    if not ranges:
        raise NeuroshellError("dataset spikes needs --labels START:STOP=LABEL,... (e.g. 0s:1s=rest,1s:2s=drive)")
    path = session.workspace.path_of(location)
    with session.workspace.readable(str(path)) as handle:
        spikes = read_spikes(handle, location.path)
        duration_s = float(run_group(handle, location.path).attrs["duration_s"])
    late = [(a, b, label) for a, b, label in ranges if b > duration_s + 1e-9]
    if late:
        a, b, label = late[0]
        raise NeuroshellError(
            f"--labels {a:g}s:{b:g}s={label} ends after the run ({duration_s:g} s): its windows would be empty, "
            "not quiet; label spans within the run"
        )
    population = args.population or next(iter(spikes))
    if population not in spikes:
        raise NeuroshellError(f"{location} has no population {population} (populations: {', '.join(spikes)})")
    times_s, ids, n_neurons = spikes[population]
    X, labels = spike_windows(times_s, ids, n_neurons, ranges, args.window, args.bins)
    seed = args.seed
    recipe = {
        "kind": "spikes",
        "run": str(location),
        "population": population,
        "labels": ",".join(f"{a:g}s:{b:g}s={label}" for a, b, label in ranges),
        "window_s": args.window,
        "bins": args.bins,
    }
    dataset = make_dataset(
        args.name or next_name(session, "spikes"),
        X,
        labels,
        recipe,
        seed,
        sampling_rate_hz=args.bins / args.window,
        channel_names=[f"{population}{i}" for i in range(n_neurons)],
    )
    return _summary(dataset, store(session, dataset, derived(path, args.to)))


@verbs.verb("datasets", "List the datasets of this session.", replayable=False)
def datasets_verb(session, args):
    rows = [
        (name, len(d.y), f"{d.X.shape[1]}x{d.X.shape[2]}", ", ".join(d.classes), d.recipe.get("file", ""))
        for name, d in session.datasets.items()
    ]
    columns = ("dataset", "examples", "channels x times", "classes", "file")
    return Table(columns, rows, title="Datasets", empty="no datasets in this session (dataset epochs, dataset spikes)")
