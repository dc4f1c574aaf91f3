"""Sweep verbs: sweep simulate, sweep train (the engine is ``sweeps``, on Dask distributed)."""

import re
from pathlib import Path

from neuroshell.common.errors import did_you_mean
from neuroshell.common.words import format_quantity
from neuroshell.sessions.argtypes import Choice, FilePath, FromSetting, Int, Quantity, SessionName
from neuroshell.sessions.errors import NeuroshellError, UsageError
from neuroshell.sessions.output import Message, Table, interrupted
from neuroshell.sessions.registry import REQUIRED, Arg, Flag, Opt, VerbSet
from neuroshell.sessions.units import parse_quantity
from neuroshell.training.choices import ENCODINGS, SPIKING_KINDS

verbs = VerbSet("sweep")
SHOWN_ROWS = 40
DEFAULT_FILE = "sweeps.h5"


def _where(kind: str):
    return (
        Opt("seeds", Int(minimum=1), "seeds per point (the seed setting, +1, +2, ...)", 1),
        Opt("seed", Int(minimum=0), "first seed", FromSetting("seed")),
        Opt("to", FilePath(), f"the HDF5 file the sweep goes to (default: {DEFAULT_FILE})", DEFAULT_FILE),
        Opt("name", help=f"the sweep's name in the file (default: from the {kind} and the varied parameters)"),
        Opt("workers", Int(minimum=1), "local cluster processes (default: the cores, less one per connected device)"),
        Opt(
            "scheduler", help="a Dask scheduler to use instead, tcp://HOST:8786", default=FromSetting("sweep.scheduler")
        ),
        Flag("overwrite", "replace a different sweep of the same name"),
    )


def _values(text: str, unit: str, whole: bool) -> list[float]:
    """``start:stop:count`` (evenly spaced, both ends included) or ``a,b,c``, each in ``unit`` (SI)."""
    import numpy as np

    def number(word: str) -> float:
        value = float(word) if unit == "" else parse_quantity(word, unit)
        if whole and value != int(value):
            raise NeuroshellError(f"'{word}' must be a whole number")
        return value

    parts = text.split(":")
    if len(parts) == 3:
        try:
            count = int(parts[2])
        except ValueError:
            raise NeuroshellError(f"'{text}': a range is START:STOP:COUNT with a whole COUNT") from None
        if count < 1:
            raise NeuroshellError(f"'{text}': a range needs a COUNT of at least 1")
        values = np.linspace(number(parts[0]), number(parts[1]), count).tolist()
        return [round(v) for v in values] if whole else values
    if len(parts) != 1:
        raise NeuroshellError(f"'{text}' is neither START:STOP:COUNT nor a comma-separated list")
    return [number(word) for word in text.split(",") if word]


def _axis_text(values: list, unit: str) -> str:
    return ", ".join(v if isinstance(v, str) else format_quantity(v, unit) if unit else f"{v:g}" for v in values)


def _split_vary(text: str) -> tuple[str, str]:
    name, sep, values = text.partition("=")
    if not sep or not name or not values:
        raise NeuroshellError(f"--vary '{text}': give PARAM=VALUES, e.g. exc.tau_m=10ms:30ms:5 or lr=1e-3,3e-3")
    return name, values


def _default_name(prefix: str, names: list[str]) -> str:
    return "-".join([prefix, *(re.sub(r"[^A-Za-z0-9]+", "_", n).strip("_") for n in names)])


def _seeds(args) -> list[int]:
    return [args.seed + i for i in range(args.seeds)]


def _progress(bar):
    def update(outcome, running: int) -> None:
        finished = outcome.done + outcome.failed
        left = outcome.total - outcome.skipped - finished - running
        text = f"sweep: {outcome.done} done, {running} running, {outcome.failed} failed, {left} waiting"
        if outcome.skipped:
            text += f", {outcome.skipped} already in the file"
        bar.update(outcome.skipped + finished, text)  # the bar counts every point of the grid

    return update


def _run(session, plan, args, on_result=None):
    from neuroshell.sessions.verbs.simulate import simulation_cores
    from neuroshell.sweeps.run import run_sweep

    path: Path = args.to
    session.workspace.ensure_free(path)
    plan.scheduler = args.scheduler or None
    plan.workers = args.workers or simulation_cores(session)
    with session.workspace.writable(path) as handle, session.ui.progress("sweep", total=len(plan.points)) as bar:
        outcome = run_sweep(handle, plan, args.overwrite, _progress(bar), on_result)
    session.made("sweep", path, f"/sweeps/{plan.name}")
    return outcome, f"{path}:/sweeps/{plan.name}"


def _table(session, where: str) -> Table:
    from neuroshell.sweeps.store import read_sweep

    path, _, group = where.rpartition(":")
    with session.workspace.readable(path) as file:
        sweep = read_sweep(file, group)
    measures = [m for m in sweep["summary"] if not m.endswith(".spikes")]
    rows = []
    for i in range(min(len(sweep["seed"]), SHOWN_ROWS)):
        cells = [
            choices[int(v)] if choices else (format_quantity(v, unit) if unit else f"{v:g}")
            for v, unit, choices in zip(sweep["values"][i], sweep["units"], sweep["choices"], strict=True)
        ]
        cells += [sweep["seed"][i], sweep["state"][i]]
        cells += [f"{sweep['summary'][m][i]:.4g}" for m in measures]
        rows.append(cells)
    hidden = len(sweep["seed"]) - len(rows)
    title = f"{where}" + (f" (first {len(rows)} points: +{hidden} more, plot sweep or ls the file)" if hidden else "")
    return Table([*sweep["columns"], "seed", "state", *measures], rows, title=title)


def _messages(outcome, where: str) -> list[Message]:
    text = f"{outcome.done} of {outcome.total} points done, {outcome.failed} failed"
    if outcome.skipped:
        text += f", {outcome.skipped} already in the file (skipped)"
    result = [Message(f"wrote {where}: {text}", "success" if not outcome.failed else "warning")]
    for index, error in outcome.errors[:3]:
        result.append(Message(f"point {index} failed: {error}", "warning"))
    if outcome.interrupted:
        pending = outcome.total - outcome.skipped - outcome.done - outcome.failed
        kept = "kept the finished ones (the same command again resumes)"
        result.append(interrupted(f"{pending} pending points", kept))
    return result


@verbs.verb(
    "sweep simulate",
    "Simulate the current network over a grid of parameters, on a Dask cluster, into one file.",
    Arg("duration", Quantity(unit="s", positive=True), "simulated time per point, e.g. 1s"),
    Opt(
        "vary",
        help="PARAM=VALUES: POP.param, SRC->DST.param or POP.input.param = START:STOP:COUNT or a,b,c",
        default=REQUIRED,
        repeat=True,
    ),
    Opt("dt", Quantity(unit="s", positive=True), "time step", FromSetting("sim.dt")),
    Opt("keep", Choice(choices=("summary", "spikes")), "spikes: also each point's spikes (SONATA layout)", "summary"),
    *_where("network"),
    details="A range START:STOP:COUNT includes both ends (exc.tau_m=10ms:30ms:5 is 10, 15, 20, 25, 30 ms). "
    "Every combination runs once per seed. Per point: each population's rate (Hz), CV of ISI and spike count.",
)
def sweep_simulate(session, args):
    from neuroshell.sweeps.grid import grid, resolve
    from neuroshell.sweeps.run import SweepPlan
    from neuroshell.sweeps.tasks import simulate_point, warm_simulator

    if session.network is None:
        raise NeuroshellError("no network yet: 'net new' or 'net example cuba'")
    network = session.network
    axes = []
    for text in args.vary:
        name, values = _split_vary(text)
        address = resolve(network, name)
        try:
            axes.append((address, _values(values, address.unit, address.whole)))
        except UsageError as error:
            raise NeuroshellError(f"--vary {name}: {error}") from None
    points = grid([(a.text, v) for a, v in axes], _seeds(args))
    recipe = {
        "kind": "simulate",
        "network": network.to_json(),
        "duration_s": args.duration,
        "dt_s": args.dt,
        "axes": [(a.text, v) for a, v in axes],
        "units": [a.unit for a, _ in axes],
        "seeds": _seeds(args),
        "keep": args.keep,
    }
    addresses = [a for a, _ in axes]
    plan = SweepPlan(
        args.name or _default_name(network.name, [a.text for a in addresses]),
        recipe,
        points,
        simulate_point,
        lambda p: (p.values, args.duration, args.dt, p.seed, args.keep == "spikes"),
        shared=(network.to_json(), addresses),
        warm=warm_simulator,
    )
    outcome, where = _run(session, plan, args)
    return [_table(session, where), *_messages(outcome, where)]


# Training settings a sweep may vary: name -> (kind, choices). Numbers are plain (lr=1e-3), counts whole.
TRAINING_AXES = {
    "lr": ("number", ()),
    "beta": ("number", ()),
    "steps": ("whole", ()),
    "hidden": ("whole", ()),
    "batch": ("whole", ()),
    "epochs": ("whole", ()),
    "encoding": ("choice", ENCODINGS),
    "model": ("choice", tuple(SPIKING_KINDS)),
}


def _training_axis(text: str) -> tuple[str, list]:
    name, values = _split_vary(text)
    if name not in TRAINING_AXES:
        hint = did_you_mean(name, TRAINING_AXES)
        raise NeuroshellError(f"--vary {name}: not a training setting{hint} ({', '.join(TRAINING_AXES)})")
    kind, choices = TRAINING_AXES[name]
    if kind == "choice":
        words = [w for w in values.split(",") if w]
        for word in words:
            if word not in choices:
                raise NeuroshellError(f"--vary {name}: '{word}' is not one of {', '.join(choices)}")
        return name, words
    numbers = _values(values, "", kind == "whole")
    if any(v <= 0 for v in numbers):
        raise NeuroshellError(f"--vary {name}: values must be greater than zero")
    return name, numbers


def _score(history: list[dict], best_epoch: int) -> tuple[float, float]:
    """A trained model's rank: validation accuracy, then lower validation loss."""
    if not history or best_epoch < 1:
        return (-1.0, -float("inf"))
    best = history[best_epoch - 1]
    return (best["val_accuracy"], -best["val_loss"])


def _kept_score(folder: Path, name: str) -> tuple[float, float]:
    import json

    meta = folder / f"{name}.json"
    if not meta.is_file():
        return (-1.0, -float("inf"))
    data = json.loads(meta.read_text(encoding="utf-8"))
    return _score(data.get("history", []), data.get("best_epoch", 0))


@verbs.verb(
    "sweep train",
    "Train one decoder per grid point on a Dask cluster; keep the best as a model.",
    Arg("dataset", SessionName(kind="dataset"), help="a dataset of this session, or FILE:/datasets/NAME"),
    Opt(
        "vary",
        help="SETTING=VALUES: lr, beta, steps, hidden, batch, epochs, encoding, model",
        default=REQUIRED,
        repeat=True,
    ),
    Opt("model", Choice(choices=tuple(SPIKING_KINDS)), "spiking decoder kind where not varied", "snn-mlp"),
    Opt("epochs", Int(minimum=1), "epochs where not varied", 30),
    *_where("dataset"),
    details="Every combination runs once per seed; the best point (validation accuracy, then loss) is kept as the "
    "model NAME-best (safetensors + JSON in models.dir). Per point: validation accuracy and loss, test accuracy, "
    "balanced accuracy and training loss.",
)
def sweep_train(session, args):
    from neuroshell.sessions.verbs.training import dataset_of
    from neuroshell.sweeps.grid import grid
    from neuroshell.sweeps.run import SweepPlan
    from neuroshell.sweeps.tasks import train_point, warm_trainer
    from neuroshell.training.checkpoints import save_checkpoint
    from neuroshell.training.models import default_recipe

    dataset = dataset_of(session, args.dataset)
    axes = [_training_axis(text) for text in args.vary]
    points = grid(axes, _seeds(args))
    names = [name for name, _ in axes]
    base = {"model": args.model, "epochs": args.epochs, "lr": 2e-3, "batch": 32, "steps": 20, "hidden": 128}

    def job(point) -> tuple:
        chosen = {**base, **dict(zip(names, point.values, strict=True))}
        extra = {k: chosen[k] for k in ("hidden", "encoding", "beta") if k in chosen}
        steps = min(int(chosen["steps"]), dataset.X.shape[2])
        recipe = default_recipe(chosen["model"], dataset.X.shape[1], len(dataset.classes), steps, **extra)
        settings = {"epochs": int(chosen["epochs"]), "lr": float(chosen["lr"]), "batch": int(chosen["batch"])}
        return recipe, settings, point.seed, f"{plan.name}-p{point.index}"

    recipe = {
        "kind": "train",
        "dataset": dataset.name,
        "examples": len(dataset.y),
        "recipe": dataset.recipe,
        "base": base,
        "axes": axes,
        "units": [""] * len(axes),
        "seeds": _seeds(args),
    }
    plan = SweepPlan(
        args.name or _default_name(dataset.name, names),
        recipe,
        points,
        train_point,
        job,
        shared=(dataset,),
        warm=warm_trainer,
    )
    folder = Path(session.settings["models.dir"])
    best_name = f"{plan.name}-best"
    best = {"score": _kept_score(folder, best_name), "point": None}

    def keep_best(point, result) -> None:
        trained = result["model"]
        score = _score(trained.history, trained.best_epoch)
        if score > best["score"]:
            trained.name = best_name
            trained.recipe["sweep_point"] = point.index
            trained.recipe["checkpoint"] = str(save_checkpoint(trained, folder))
            session.models[best_name] = trained
            best.update(score=score, point=point)

    outcome, where = _run(session, plan, args, keep_best)
    result = [_table(session, where), *_messages(outcome, where)]
    if best["point"] is not None:
        accuracy = best["score"][0]
        result.append(
            Message(
                f"kept point {best['point'].index} as model {best_name} (val acc {accuracy:.3f}) in {folder}", "success"
            )
        )
    elif best["score"][0] >= 0:
        result.append(Message(f"model {best_name}, kept earlier in {folder}, stays the best"))
    return result
