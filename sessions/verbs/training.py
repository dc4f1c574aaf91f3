"""Training verbs: dataset epochs/spikes, datasets, train, evaluate, models."""

from pathlib import Path

from neuroshell.sessions.argtypes import (
    Channels,
    Choice,
    CsvList,
    FilePath,
    Float,
    FromSetting,
    H5Path,
    Int,
    LabelledSpan,
    Quantity,
    SessionName,
    Span,
)
from neuroshell.sessions.errors import NeuroshellError
from neuroshell.sessions.output import Message, Table, interrupted
from neuroshell.sessions.registry import Arg, Flag, Opt, VerbSet
from neuroshell.training.choices import DEVICES, ENCODINGS, MODEL_KINDS

verbs = VerbSet("training")


DATASET_TO = Opt(
    "to",
    FilePath(),
    "file the dataset goes to (default: SOURCE-datasets.h5 beside the source, which stays untouched)",
)


def _derived(source: Path, to: Path | None) -> Path:
    """Where derived data goes: the file named, or one of its own beside the source (a raw recording is
    the thing a lab cannot repeat: it is only read)."""
    return to if to is not None else source.with_name(f"{source.stem}-datasets.h5")


def _store(session, dataset, path: Path) -> str:
    from neuroshell.training.datasets import save_dataset

    with session.workspace.writable(path) as handle:
        where = save_dataset(handle, dataset)
    dataset.recipe["file"] = str(path)
    session.datasets[dataset.name] = dataset
    session.outputs.append(("dataset", f"{path}:{where}"))
    return f"{path}:{where}"


def _summary(dataset, where: str) -> list:
    counts = dataset.counts()
    rows = [
        (name, *(counts[split][c] for split in ("train", "validation", "test")))
        for c, name in enumerate(dataset.classes)
    ]
    table = Table(
        ("class", "train", "validation", "test"),
        rows,
        title=f"dataset {dataset.name}: "
        f"{len(dataset.y)} examples of {dataset.X.shape[1]} channels x {dataset.X.shape[2]} samples",
    )
    dropped = ", ".join(f"{n} ({why})" for why, n in dataset.dropped.items() if n) or "none"
    filtered = f"filtered as recorded ({dataset.recipe['filtered']}); " if dataset.recipe.get("filtered") else ""
    return [table, Message(f"{filtered}dropped: {dropped}; stored in {where}", "success")]


def _next_name(session, prefix: str) -> str:
    number = 1
    while f"{prefix}{number}" in session.datasets or f"{prefix}{number}" in session.models:
        number += 1
    return f"{prefix}{number}"


SPLIT = CsvList(
    item=Float(minimum=0.0), length=3, meaning="train,validation,test fractions that add up to 1, e.g. 0.7,0.15,0.15"
)


@verbs.verb(
    "dataset epochs",
    "Cut epochs around markers into a dataset (stored in the file under /datasets/NAME).",
    Arg("stream", H5Path(under="/streams/"), "FILE:/streams/NAME (default: the latest recording's first)", None),
    Opt("markers", CsvList(), "labels to use; * wildcards", "stim/*"),
    Opt("window", Span(), "epoch span around each marker", "-100ms:500ms"),
    Opt("channels", Channels(), "channel names or indices (0:64, MEG001,MEG002; default: all)"),
    Opt("baseline", Span(), "span whose mean is subtracted, e.g. -100ms:0s"),
    Flag("filtered", "redo the online filters recorded with the stream first (what a live decoder sees)"),
    Opt("split", SPLIT, "train,validation,test fractions", "0.7,0.15,0.15"),
    Opt("name", help="dataset name (default: epochs1, ...)"),
    DATASET_TO,
    Opt("seed", Int(minimum=0), "split seed", FromSetting("seed")),
)
def dataset_epochs(session, args):
    from neuroshell.sessions.latest import latest_stream, said
    from neuroshell.storage.files import open_file
    from neuroshell.training.datasets import epochs_from_file, make_dataset

    which = ""
    if args.stream is None:
        args.stream = latest_stream(session)
        which = said(args.stream)
    location, window, baseline = args.stream, args.window, args.baseline
    fractions = _fractions(args.split)
    path = session.workspace.path_of(location)
    handle = open_file(path)
    try:
        names = handle.stream(location.path).spec.channel_names
        channels = args.channels.indices(names) if args.channels else None
        prepare, filtered = _recorded_filters(handle.stream(location.path), location) if args.filtered else (None, "")
        X, kept, dropped, names, rate = epochs_from_file(
            handle, location.path, args.markers, window, baseline, channels, prepare
        )
    finally:
        handle.close()
    seed = args.seed
    recipe = {
        "kind": "epochs",
        "stream": str(location),
        "markers": ",".join(args.markers),
        "window_s": list(window),
        "baseline_s": list(baseline) if baseline else None,
        "channels": args.channels.text if args.channels else None,
        "split": list(fractions),
        "filtered": filtered,
    }
    dataset = make_dataset(
        args.name or _next_name(session, "epochs"),
        X,
        kept,
        recipe,
        seed,
        fractions,
        sampling_rate_hz=rate,
        channel_names=list(names),
        dropped=dropped,
    )
    table, stored = _summary(dataset, _store(session, dataset, _derived(path, args.to)))
    stored.text += which
    return [table, stored]


def _recorded_filters(view, location):
    """A ``prepare`` for epochs_from_file that redoes the stream's recorded chains, and their description."""
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
    from neuroshell.storage.simulations import read_spikes
    from neuroshell.training.datasets import make_dataset, spike_windows

    location, ranges = args.run, args.labels
    if not ranges:
        raise NeuroshellError("dataset spikes needs --labels START:STOP=LABEL,... (e.g. 0s:1s=rest,1s:2s=drive)")
    path = session.workspace.path_of(location)
    with session.workspace.readable(str(path)) as handle:
        spikes = read_spikes(handle, location.path)
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
        args.name or _next_name(session, "spikes"),
        X,
        labels,
        recipe,
        seed,
        sampling_rate_hz=args.bins / args.window,
        channel_names=[f"{population}{i}" for i in range(n_neurons)],
    )
    return _summary(dataset, _store(session, dataset, _derived(path, args.to)))


def _dataset(session, text: str):
    if text in session.datasets:
        return session.datasets[text]
    from neuroshell.sessions.argtypes import split_h5_location
    from neuroshell.storage.files import open_file
    from neuroshell.training.datasets import load_dataset

    location = split_h5_location(text)
    if not location.path.startswith("/datasets/"):
        known = ", ".join(session.datasets) or "none"
        raise NeuroshellError(f"no dataset '{text}' in this session (datasets: {known}); or give FILE:/datasets/NAME")
    path = session.workspace.path_of(location)
    handle = open_file(path)
    try:
        dataset = load_dataset(handle, location.path.split("/")[2])
    finally:
        handle.close()
    dataset.recipe["file"] = str(path)
    session.datasets[dataset.name] = dataset
    return dataset


@verbs.verb("datasets", "List the datasets of this session.", replayable=False)
def datasets_verb(session, args):
    rows = [
        (name, len(d.y), f"{d.X.shape[1]}x{d.X.shape[2]}", ", ".join(d.classes), d.recipe.get("file", ""))
        for name, d in session.datasets.items()
    ]
    columns = ("dataset", "examples", "channels x times", "classes", "file")
    return Table(columns, rows, title="Datasets", empty="no datasets in this session (dataset epochs, dataset spikes)")


@verbs.verb(
    "train",
    "Train a spiking decoder on a dataset (early stopping; Ctrl-C keeps the best model).",
    Arg("dataset", SessionName(kind="dataset"), help="a dataset of this session, or FILE:/datasets/NAME"),
    Opt("model", Choice(choices=MODEL_KINDS), "architecture", MODEL_KINDS[0]),
    Opt("epochs", Int(minimum=1), "at most this many passes over the training set", 30),
    Opt("lr", Float(minimum=0), "learning rate", 2e-3),
    Opt("batch", Int(minimum=1), "batch size", 32),
    Opt("steps", Int(minimum=1), "SNN time steps (the epoch is averaged into this many bins)", 20),
    Opt("encoding", Choice(choices=ENCODINGS), "input encoding", ENCODINGS[0]),
    Opt("hidden", Int(minimum=1), "hidden units", 128),
    Opt("device", Choice(choices=DEVICES), "where to train", "cpu"),
    Opt("seed", Int(minimum=0), "seed", FromSetting("seed")),
    Opt("name", help="model name (default: model1, ...)"),
)
def train_verb(session, args):
    import torch

    from neuroshell.training.checkpoints import save_checkpoint
    from neuroshell.training.models import default_recipe
    from neuroshell.training.trainer import pick_device, train

    torch.set_num_threads(session.settings["torch.threads"])
    dataset = _dataset(session, args.dataset)
    counts = dataset.counts()
    for split in ("train", "validation"):
        if not sum(counts[split]):
            raise NeuroshellError(
                f"dataset {dataset.name} has no {split} examples: train needs both (the validation split picks the "
                "best epoch); make it again with e.g. --split 0.7,0.15,0.15"
            )
    device = pick_device(args.device)
    recipe = default_recipe(
        args.model,
        dataset.X.shape[1],
        len(dataset.classes),
        min(args.steps, dataset.X.shape[2]),
        hidden=args.hidden,
        encoding=args.encoding,
    )
    name = args.name or _next_name(session, "model")
    seed = args.seed
    with session.ui.progress(f"training {name}", total=args.epochs) as bar:

        def on_epoch(row):
            bar.update(row["epoch"], f"training {name}: loss {row['loss']:.3f}, val acc {row['val_accuracy']:.2f}")

        trained = train(dataset, recipe, name, args.epochs, args.lr, args.batch, device, seed, on_epoch=on_epoch)
    session.models[name] = trained
    weights = save_checkpoint(trained, Path(session.settings["models.dir"]))
    trained.recipe["checkpoint"] = str(weights)
    session.outputs.append(("model", str(weights)))
    rows = [
        (
            r["epoch"],
            f"{r['loss']:.4f}",
            f"{r['train_accuracy']:.3f}",
            f"{r['val_loss']:.4f}",
            f"{r['val_accuracy']:.3f}",
        )
        for r in trained.history
    ]
    columns = ("epoch", "loss", "train acc", "val loss", "val acc")
    history = Table(columns, rows, title=f"{name} ({args.model}, {device})")
    best = trained.history[trained.best_epoch - 1]["val_accuracy"] if trained.history else float("nan")
    stopped = (
        []
        if trained.completed
        else [interrupted(f"training at epoch {len(trained.history)} of {args.epochs}", "kept the best epoch so far")]
    )
    return [
        history,
        *stopped,
        Message(
            f"{name}: best validation accuracy {best:.3f} at epoch {trained.best_epoch}; logistic baseline "
            f"{trained.baseline['val_accuracy']:.3f}; chance {1 / len(dataset.classes):.3f}; "
            f"{trained.samples_per_s:.0f} samples/s; saved {weights}",
            "success",
        ),
    ]


@verbs.verb(
    "evaluate",
    "Test-split metrics of a model on a dataset (stored in its file).",
    Arg("model", SessionName(kind="model")),
    Arg("dataset", SessionName(kind="dataset")),
    Opt("device", Choice(choices=DEVICES), "where to evaluate", "cpu"),
)
def evaluate_verb(session, args):
    from neuroshell.training.trainer import evaluate, pick_device

    if args.model in session.models:
        trained = session.models[args.model]
    else:
        from neuroshell.training.checkpoints import load_checkpoint

        candidate = Path(args.model)
        if not candidate.exists():
            candidate = Path(session.settings["models.dir"]) / f"{args.model}.safetensors"
        if not candidate.exists():
            raise NeuroshellError(f"no model '{args.model}' (models: {', '.join(session.models) or 'none'})")
        trained = load_checkpoint(candidate)
        session.models[trained.name] = trained
    dataset = _dataset(session, args.dataset)
    metrics = evaluate(trained, dataset, pick_device(args.device))
    trained.evaluation[dataset.name] = metrics
    _store_evaluation(session, trained, dataset, metrics)
    rows = [
        (
            name,
            f"{metrics['precision'][c]:.3f}",
            f"{metrics['recall'][c]:.3f}",
            metrics["support"][c],
            " ".join(str(v) for v in metrics["confusion"][c]),
        )
        for c, name in enumerate(dataset.classes)
    ]
    table = Table(
        ("class", "precision", "recall", "support", "confusion row (predicted)"),
        rows,
        title=f"{trained.name} on {dataset.name} ({metrics['split']} split, {metrics['n_examples']} examples)",
    )
    baseline = trained.baseline.get("test_accuracy", float("nan"))
    return [
        table,
        Message(
            f"accuracy {metrics['accuracy']:.3f}, balanced accuracy {metrics['balanced_accuracy']:.3f}; "
            f"logistic baseline {baseline:.3f}; chance {1 / len(dataset.classes):.3f}"
        ),
    ]


def _store_evaluation(session, trained, dataset, metrics) -> None:
    from neuroshell.training.datasets import save_evaluation

    path = dataset.recipe.get("file")
    if path:
        with session.workspace.writable(Path(path)) as handle:
            save_evaluation(handle, trained.name, trained.recipe, dataset, metrics)


@verbs.verb("models", "List the trained models of this session.", replayable=False)
def models_verb(session, args):
    rows = []
    for name, trained in session.models.items():
        best = trained.history[trained.best_epoch - 1]["val_accuracy"] if trained.history else float("nan")
        tested = ", ".join(f"{d}: {m['accuracy']:.3f}" for d, m in trained.evaluation.items()) or "-"
        rows.append(
            (
                name,
                trained.recipe["model"],
                trained.dataset,
                trained.best_epoch,
                f"{best:.3f}",
                f"{trained.baseline.get('val_accuracy', float('nan')):.3f}",
                tested,
                trained.recipe.get("checkpoint", ""),
            )
        )
    columns = ("model", "kind", "dataset", "best epoch", "val acc", "baseline val", "test acc", "checkpoint")
    return Table(columns, rows, title="Models", empty="no models in this session (train DATASET)")
