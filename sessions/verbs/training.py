"""Training verbs: train, evaluate, crossval, models (the engine is ``training``)."""

from pathlib import Path

from neuroshell.sessions.argtypes import Choice, Float, FromSetting, Int, SessionName
from neuroshell.sessions.errors import NeuroshellError
from neuroshell.sessions.output import Message, Table, interrupted
from neuroshell.sessions.registry import Arg, Flag, Opt, VerbSet
from neuroshell.sessions.verbs.kernels import cores_left
from neuroshell.training.choices import CLASSICAL_KINDS, DEVICES, ENCODINGS, MODEL_KINDS, SPIKING_KINDS

verbs = VerbSet("training")


def _kinds_help() -> str:
    lines = ["Spiking decoders (snntorch):"] + [f"  {kind}: {text}" for kind, text in SPIKING_KINDS.items()]
    lines += ["The field's pipelines (mne.decoding, pyriemann, scikit-learn):"]
    lines += [f"  {kind}: {text}" for kind, text in CLASSICAL_KINDS.items()]
    lines += [
        "Encodings of the spiking decoders' input: direct (values as input currents), rate (Poisson spikes of "
        "probability sigmoid(value)), latency (one spike per input, earlier for larger values).",
        "Spiking decoders train with a class-weighted loss and keep the epoch of the best validation balanced "
        "accuracy; without a validation split they run every epoch and keep the last.",
    ]
    return "\n".join(lines)


MODEL_OPTIONS = (
    Opt("model", Choice(choices=MODEL_KINDS), "decoder kind (help train lists them)", MODEL_KINDS[0]),
    Opt("epochs", Int(minimum=1), "spiking: at most this many passes over the training set", 30),
    Opt("lr", Float(minimum=0), "spiking: learning rate", 2e-3),
    Opt("batch", Int(minimum=1), "spiking: batch size", 32),
    Opt("steps", Int(minimum=1), "spiking: SNN time steps (time bins of the epoch, or steps an input is held)", 20),
    Opt("encoding", Choice(choices=ENCODINGS), "spiking: input encoding", ENCODINGS[0]),
    Opt("hidden", Int(minimum=1), "spiking: hidden units (default 128; 64 for snn-csp)"),
    Opt("components", Int(minimum=1), "snn-csp: CSP components (default 4); snn-xdawn: xDAWN filters per class (1)"),
    Opt("seed", Int(minimum=0), "seed", FromSetting("seed")),
)


def dataset_of(session, text: str):
    """A dataset of this session, or ``FILE:/datasets/NAME`` loaded into it."""
    if text in session.datasets:
        return session.datasets[text]
    from neuroshell.sessions.argtypes import split_h5_location
    from neuroshell.training.datasets import load_dataset

    location = split_h5_location(text)
    if not location.path.startswith("/datasets/"):
        known = ", ".join(session.datasets) or "none"
        raise NeuroshellError(f"no dataset '{text}' in this session (datasets: {known}); or give FILE:/datasets/NAME")
    path = session.workspace.path_of(location)
    with session.workspace.readable(str(path)) as file:
        dataset = load_dataset(file, location.path.split("/")[2])
    dataset.recipe["file"] = str(path)
    session.datasets[dataset.name] = dataset
    return dataset


def fit_model(dataset, args, name: str, device: str = "cpu", on_epoch=None):
    """A model of ``args.model`` trained on the dataset's training split."""
    if args.model in CLASSICAL_KINDS:
        from neuroshell.training.classical import fit_classical

        return fit_classical(dataset, args.model, name, args.seed)
    from neuroshell.training.models import default_recipe
    from neuroshell.training.trainer import train

    recipe = default_recipe(
        args.model,
        dataset.X.shape[1],
        len(dataset.classes),
        min(args.steps, dataset.X.shape[2]),
        hidden=args.hidden,
        encoding=args.encoding,
        components=args.components,
    )
    return train(dataset, recipe, name, args.epochs, args.lr, args.batch, device, args.seed, on_epoch=on_epoch)


@verbs.verb(
    "train",
    "Train a decoder on a dataset: a spiking one (early stopping; Ctrl-C keeps the best) or the field's pipelines.",
    Arg("dataset", SessionName(kind="dataset"), help="a dataset of this session, or FILE:/datasets/NAME"),
    *MODEL_OPTIONS,
    Opt("compute", Choice(choices=DEVICES), "spiking: where torch trains (cpu, cuda or auto)", "cpu"),
    Opt("name", help="model name (default: model1, ... not yet used here or in models.dir)"),
    Flag("overwrite", "replace a model of that name (of this session or saved in models.dir)"),
    details=_kinds_help,
)
def train_verb(session, args):
    import torch

    from neuroshell.training.checkpoints import save_model
    from neuroshell.training.trainer import pick_device

    torch.set_num_threads(session.settings["torch.threads"])
    dataset = dataset_of(session, args.dataset)
    if not sum(dataset.counts()["train"]):
        raise NeuroshellError(
            f"dataset {dataset.name} has no training examples (it is one to evaluate on); make one with e.g. "
            "--split 0.7,0.15,0.15"
        )
    device = pick_device(args.compute)
    name = _model_name(session, args.name, args.overwrite)
    with session.ui.progress(f"training {name}", total=args.epochs) as bar:

        def on_epoch(row):
            bar.update(row["epoch"], f"training {name}: loss {row['loss']:.3f}, val acc {row['val_accuracy']:.2f}")

        with cores_left(session):
            model = fit_model(dataset, args, name, device, on_epoch)
    model.recipe["data"] = _what_it_takes(dataset)
    session.models[name] = model
    saved = save_model(model, Path(session.settings["models.dir"]))
    model.recipe["checkpoint"] = str(saved)
    session.made("model", saved)
    return [*_training_report(model, args, device), Message(_trained_line(model, dataset, saved), "success")]


def _model_name(session, name: str | None, overwrite: bool) -> str:
    """``name``, refused when a model of that name exists unless ``overwrite``; by default the first
    ``modelN`` neither this session nor models.dir holds."""
    from neuroshell.training.saved import model_file

    folder = Path(session.settings["models.dir"])
    if name is None:
        number = 1
        while f"model{number}" in session.models or model_file(folder, f"model{number}") is not None:
            number += 1
        return f"model{number}"
    existing = model_file(folder, name)
    if not overwrite and (name in session.models or existing is not None):
        where = f" ({existing})" if existing is not None else " in this session"
        raise NeuroshellError(f"a model '{name}' exists already{where}: choose another --name, or add --overwrite")
    return name


def _what_it_takes(dataset) -> dict:
    """What a model needs to know of its data to decode a device later without the dataset (channels,
    rate, window, markers, filters), and where that dataset is."""
    keys = ("kind", "markers", "window_s", "baseline_s", "filtered", "filter", "resample_hz", "file")
    return {
        **{key: dataset.recipe.get(key) for key in keys},
        "dataset": dataset.name,
        "channel_names": list(dataset.channel_names),
        "sampling_rate_hz": dataset.sampling_rate_hz,
    }


def _training_report(model, args, device) -> list:
    if not model.history:
        return []
    rows = [
        (
            r["epoch"],
            f"{r['loss']:.4f}",
            f"{r['train_accuracy']:.3f}",
            _figure(r["val_loss"], 4),
            _figure(r["val_accuracy"]),
            _figure(r["val_balanced_accuracy"]),
        )
        for r in model.history
    ]
    columns = ("epoch", "loss", "train acc", "val loss", "val acc", "val bal. acc")
    report = [Table(columns, rows, title=f"{model.name} ({args.model}, {device})")]
    if not model.completed:
        epochs = f"epoch {len(model.history)} of {args.epochs}"
        report.append(interrupted(f"training at {epochs}", "kept the best epoch so far"))
    return report


def _figure(value: float, digits: int = 3) -> str:
    """A figure, or "-" where there is none (no validation split)."""
    import math

    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def _trained_line(model, dataset, saved) -> str:
    from neuroshell.training.datasets import VALIDATION

    if model.history and not (dataset.split == VALIDATION).any():
        done = f"no validation split: ran every epoch and kept the last ({model.best_epoch})"
        done += f"; {model.samples_per_s:.0f} samples/s"
    elif model.history:
        best = model.history[model.best_epoch - 1]
        done = f"best validation balanced accuracy {best['val_balanced_accuracy']:.3f} at epoch {model.best_epoch}"
        done += f"; logistic baseline {model.baseline['val_accuracy']:.3f}; {model.samples_per_s:.0f} samples/s"
    else:
        done = f"{model.recipe['model']} fitted on {sum(dataset.counts()['train'])} training examples"
        if (dataset.split == VALIDATION).any():
            done += f"; validation balanced accuracy {model.validation_balanced_accuracy:.3f}"
    return f"{model.name}: {done}; saved {saved}"


def model_of(session, text: str):
    """A model of this session, or one saved in models.dir (or a checkpoint file) loaded into it."""
    if text in session.models:
        return session.models[text]
    from neuroshell.training.checkpoints import load_model
    from neuroshell.training.saved import model_file

    candidate = Path(text) if Path(text).is_file() else model_file(Path(session.settings["models.dir"]), text)
    if candidate is None:
        known = ", ".join(session.models) or "none"
        raise NeuroshellError(f"no model '{text}' in this session or in models.dir (models: {known})")
    model = load_model(candidate)
    model.recipe["checkpoint"] = str(candidate)
    session.models[model.name] = model
    return model


def _training_data(session, model):
    """The dataset the model learnt from (its training split is the yardsticks' training data), or None
    when neither this session nor its file still has it."""
    data = model.recipe.get("data") or {}
    if model.dataset in session.datasets:
        return session.datasets[model.dataset]
    if data.get("file"):
        try:
            return dataset_of(session, f"{data['file']}:/datasets/{model.dataset}")
        except Exception:  # the file moved or is gone: the evaluation says the yardsticks are missing
            return None
    return None


@verbs.verb(
    "evaluate",
    "A model's metrics on a dataset's test split (all of it, if it has none), beside chance and yardsticks.",
    Arg("model", SessionName(kind="model"), "a model of this session, or one saved in models.dir"),
    Arg("dataset", SessionName(kind="dataset"), "a dataset of this session, or FILE:/datasets/NAME"),
    Opt("compute", Choice(choices=DEVICES), "where torch evaluates (cpu, cuda or auto)", "cpu"),
    details="Prints accuracy, balanced accuracy and ROC-AUC (one against the rest for more than two classes), the "
    "chance level (the majority class's rate among the examples), and the balanced accuracy of the logistic "
    "baseline and of the best classical pipeline, both trained on the model's own training split and scored on "
    "the same examples. The metrics go into the dataset's file under /models/MODEL/evaluation/DATASET.",
)
def evaluate_verb(session, args):
    from neuroshell.training.evaluation import evaluate, yardsticks
    from neuroshell.training.trainer import pick_device

    model = model_of(session, args.model)
    dataset = dataset_of(session, args.dataset)
    with session.ui.progress(f"evaluating {model.name} on {dataset.name}", total=None), cores_left(session):
        metrics = evaluate(model, dataset, pick_device(args.compute))
        reference = _training_data(session, model)
        if reference is not None:
            metrics.update(yardsticks(reference, dataset, model.recipe.get("steps", 20), model.recipe.get("seed", 0)))
    model.evaluation[dataset.name] = metrics
    _store_evaluation(session, model, dataset, metrics)
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
        title=f"{model.name} on {dataset.name} ({metrics['split']} split, {metrics['n_examples']} examples)",
    )
    return [table, Message(metrics_line(metrics) + "; " + _yardstick_line(metrics, model))]


def metrics_line(metrics: dict) -> str:
    return (
        f"accuracy {metrics['accuracy']:.3f}, balanced accuracy {metrics['balanced_accuracy']:.3f}, "
        f"roc-auc {metrics['roc_auc']:.3f}; chance {metrics['chance']:.3f} (the majority class)"
    )


def _yardstick_line(metrics: dict, model) -> str:
    if "logistic" not in metrics:
        return f"no yardsticks: the dataset {model.dataset} that {model.name} learnt from is not at hand"
    line = f"yardsticks trained on {model.dataset}'s training split, balanced accuracy: "
    line += f"logistic {metrics['logistic']:.3f}"
    if "best_classical" in metrics:
        line += f", best classical ({metrics['best_classical_kind']}) {metrics['best_classical']:.3f}"
    return line


def _store_evaluation(session, model, dataset, metrics) -> None:
    from neuroshell.training.datasets import save_evaluation

    path = dataset.recipe.get("file")
    if path:
        with session.workspace.writable(Path(path)) as handle:
            save_evaluation(handle, model.name, model.recipe, dataset, metrics)


@verbs.verb(
    "crossval",
    "Cross-validate a decoder kind on a dataset: train afresh on each fold, print mean and spread.",
    Arg("dataset", SessionName(kind="dataset"), help="a dataset of this session, or FILE:/datasets/NAME"),
    *MODEL_OPTIONS,
    Opt("folds", Int(minimum=2), "stratified folds", 5),
    Flag("by-run", "one fold per run of a pooled dataset (leave one run out) instead of stratified folds"),
    Opt(
        "validation",
        Float(minimum=0.0),
        "spiking: share of each training fold kept to pick the epoch",
        0.15,
    ),
    details="Every example is tested once, by a model that never saw it. The dataset's own split is ignored.",
)
def crossval_verb(session, args):
    import numpy as np
    import torch

    from neuroshell.training.crossval import cross_validate

    torch.set_num_threads(session.settings["torch.threads"])
    dataset = dataset_of(session, args.dataset)
    validation = 0.0 if args.model in CLASSICAL_KINDS else args.validation
    total = len(np.unique(dataset.runs)) if args.by_run else args.folds
    progress = session.ui.progress(f"cross-validating {args.model} on {dataset.name}", total=total)
    with progress as bar, cores_left(session):
        results = cross_validate(
            dataset, lambda fold: fit_model(fold, args, "fold"), args.folds, args.by_run, validation, args.seed,
            lambda number: bar.update(number),
        )  # fmt: skip
    keys = ("accuracy", "balanced_accuracy", "roc_auc", "chance")
    rows = [(n, *(f"{m[key]:.3f}" for key in keys)) for n, m in enumerate(results, start=1)]
    table = Table(
        ("fold", "accuracy", "balanced acc.", "roc-auc", "chance"), rows, title=f"{args.model} on {dataset.name}"
    )
    values = {key: np.array([m[key] for m in results]) for key in keys[:3]}
    summary = ", ".join(
        f"{key.replace('_', ' ')} {np.nanmean(v):.3f} ± {np.nanstd(v):.3f}" for key, v in values.items()
    )
    how = "leave one run out" if args.by_run else f"{args.folds} stratified folds"
    return [table, Message(f"{args.model} on {dataset.name} ({how}): {summary}", "success")]


@verbs.verb(
    "models",
    "List the models of this session and those saved in models.dir.",
    replayable=False,
    details="A saved model is used by name in decode start, evaluate and plot, in this session or a later one.",
)
def models_verb(session, args):
    from neuroshell.training.checkpoints import saved_models

    rows = []
    for name, model in session.models.items():
        if model.history:
            validation = _figure(model.history[model.best_epoch - 1]["val_balanced_accuracy"])
        else:
            validation = _figure(getattr(model, "validation_balanced_accuracy", float("nan")))
        tested = ", ".join(f"{d}: {m['balanced_accuracy']:.3f}" for d, m in model.evaluation.items()) or "-"
        saved = model.recipe.get("checkpoint", "") or "not saved"
        rows.append((name, model.recipe["model"], ",".join(model.classes), model.dataset, validation, tested, saved))
    folder = Path(session.settings["models.dir"])
    for meta in saved_models(folder):
        if meta["name"] not in session.models:
            rows.append(
                (meta["name"], meta["kind"], ",".join(meta["classes"]), meta["dataset"],
                 _figure(meta["validation_balanced_accuracy"]), "-", f"{meta['path']} ({meta['saved']})")
            )  # fmt: skip
    columns = ("model", "kind", "classes", "trained on", "val bal. acc", "tested (bal. acc)", "saved")
    return Table(
        columns, rows, title="Models", empty=f"no models in this session or in models.dir ({folder}): train DATASET"
    )
