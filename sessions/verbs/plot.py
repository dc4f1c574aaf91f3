"""Plot verbs: traces, psd, evoked, raster, rates, graph, training, confusion. Each writes a file (named
from the verb and the data, never overwriting) into the plot.dir setting and shows it when it can."""

from pathlib import Path

from neuroshell.sessions.argtypes import CsvList, H5Path, Quantity, SessionName, Span
from neuroshell.sessions.channels import Channels
from neuroshell.sessions.errors import NeuroshellError
from neuroshell.sessions.output import Message
from neuroshell.sessions.registry import REQUIRED, Arg, Opt, VerbSet

verbs = VerbSet("plot")


def _finish(session, figure, stem: str) -> Message:
    from neuroshell.storage.figures import save, show

    path = save(figure, Path(session.settings["plot.dir"]), stem, session.settings["plot.format"])
    session.made("plot", path)
    if session.settings["plot.show"]:
        show(path)
    return Message(f"wrote {path}", "success")


def _stream(handle, location):
    return handle.stream(location.path)


def _span(view, start: float | None, stop: float | None, default_s: float | None) -> tuple[float, float]:
    """Session times of a span given relative to the stream's start (whole stream by default)."""
    span = view.time_span_s
    if span is None:
        raise NeuroshellError(f"{view.name} holds no samples yet")
    if start and span[0] + start >= span[1]:
        raise NeuroshellError(f"--from {start:g}s is past the end of {view.name} ({span[1] - span[0]:.3f} s long)")
    first = span[0] + (start or 0.0)
    last = span[0] + stop if stop is not None else (first + default_s if default_s else span[1] + 1e-9)
    if last <= first:
        raise NeuroshellError("--to must come after --from")
    return first, min(last, span[1] + 1e-9)


TRACES_SHOWN = 16  # channels plot traces draws when none are named
STREAM = Arg("stream", H5Path(under="/streams/"), "FILE:/streams/NAME (default: the latest recording's first)", None)


def _target(session, args, name: str, kind: str = "", what: str = "", how: str = "") -> str:
    """Fill a target the user left out with the session's latest of its kind; returns the words that say so."""
    from neuroshell.sessions.latest import latest_location, latest_stream, said

    if getattr(args, name) is not None:
        return ""
    location = latest_stream(session) if not kind else latest_location(session, kind, what, how)
    setattr(args, name, location)
    return said(location)


FROM = Opt("from", Quantity(unit="s", minimum=0.0), "start, from the stream's first sample (default 0s)")
TO = Opt("to", Quantity(unit="s", positive=True), "end, from the stream's first sample")


@verbs.verb(
    "plot traces",
    "Stacked traces with markers and gaps (min/max envelopes for long spans).",
    STREAM,
    Opt("channels", Channels(), "0:16, 3,5,8 or names (default: the first 16)"),
    FROM,
    TO,
)
def plot_traces(session, args):
    from neuroshell.storage.plots import plot_traces as draw

    which = _target(session, args, "stream")
    with session.workspace.readable(args.stream.file) as handle:
        view = _stream(handle, args.stream)
        names = view.spec.channel_names
        channels = args.channels.indices(names) if args.channels else list(range(min(TRACES_SHOWN, len(names))))
        start, stop = _span(view, getattr(args, "from"), args.to, None)
        figure = draw(view, channels, start, stop, handle.markers(), f"{args.stream}")
        name = f"traces-{handle.path.stem}-{view.name}"
        left_out = view.spec.n_channels - len(channels)
    written = _finish(session, figure, name)
    written.text += which
    if left_out:
        written.text += f" ({len(channels)} of {view.spec.n_channels} channels: +{left_out} more, use --channels)"
    return written


@verbs.verb("plot psd", "Welch power spectra per channel group, log scale.", STREAM, FROM, TO)
def plot_psd(session, args):
    from neuroshell.storage.plots import plot_psd as draw

    which = _target(session, args, "stream")
    with session.workspace.readable(args.stream.file) as handle:
        view = _stream(handle, args.stream)
        start, stop = _span(view, getattr(args, "from"), args.to, 60.0)
        figure = draw(view, start, stop, f"power spectra of {args.stream}")
        name = f"psd-{handle.path.stem}-{view.name}"
    return _said(_finish(session, figure, name), which)


def _said(written: Message, which: str) -> Message:
    written.text += which
    return written


@verbs.verb(
    "plot evoked",
    "Average response per marker class (butterfly and global field power).",
    STREAM,
    Opt("markers", CsvList(), "labels, * wildcards", "stim/*"),
    Opt("window", Span(), "span around each marker", "-100ms:500ms"),
    Opt("baseline", Span(), "span whose mean is subtracted", "-100ms:0s"),
)
def plot_evoked(session, args):
    from neuroshell.training.datasets import epochs_from_file
    from neuroshell.training.plots import plot_evoked as draw

    which = _target(session, args, "stream")
    window, baseline = args.window, args.baseline
    with session.workspace.readable(args.stream.file) as handle:
        view = _stream(handle, args.stream)
        X, kept, _, _, _ = epochs_from_file(handle, view.name, args.markers, window, baseline)
        if not kept:
            raise NeuroshellError("no complete epoch inside the data for those markers")
        unit = (view.spec.channel_units or ["?"])[0]
        figure = draw(X, kept, window, unit, f"evoked responses in {args.stream}")
        name = f"evoked-{handle.path.stem}-{view.name}"
    return _said(_finish(session, figure, name), which)


RUN = Arg("run", H5Path(under="/simulations/"), "FILE:/simulations/RUN (default: the latest run written)", None)
LATEST_RUN = ("simulation", "simulation run", "simulate DURATION --to FILE")


def _run_plot(session, args, read, draw, prefix: str, title: str, missing: str = "") -> Message:
    """Read what ``read(handle, path)`` gives for the run, draw it and write the figure ``PREFIX-FILE-RUN``;
    ``missing`` says how to get it when the run has none."""
    which = _target(session, args, "run", *LATEST_RUN)
    with session.workspace.readable(args.run.file) as handle:
        data = read(handle, args.run.path)
        if missing and not data:
            raise NeuroshellError(f"{args.run} has no {prefix}: {missing}")
        figure = draw(data, f"{title} of {args.run}")
        name = f"{prefix}-{handle.path.stem}-{args.run.path.split('/')[2]}"
    return _said(_finish(session, figure, name), which)


@verbs.verb(
    "plot raster",
    "Spike raster of a simulation run, per population.",
    RUN,
)
def plot_raster(session, args):
    from neuroshell.neuron.plots import plot_raster
    from neuroshell.storage.simulations import read_spikes

    return _run_plot(session, args, read_spikes, plot_raster, "raster", "spikes")


@verbs.verb(
    "plot rates",
    "Population rates of a simulation run.",
    RUN,
)
def plot_rates(session, args):
    from neuroshell.neuron.plots import plot_rates
    from neuroshell.storage.simulations import read_rates

    missing = "simulate with --record rate"
    return _run_plot(session, args, read_rates, plot_rates, "rates", "population rates", missing)


@verbs.verb(
    "plot weights",
    "How a run's plastic weights spread over time (simulate --record weights).",
    RUN,
)
def plot_weights(session, args):
    from neuroshell.neuron.plots import plot_weights
    from neuroshell.storage.simulations import read_weights

    missing = "simulate a plastic network with --record weights"
    return _run_plot(session, args, read_weights, plot_weights, "weights", "weights", missing)


@verbs.verb("plot graph", "The current network: populations sized by N, projections as arrows.")
def plot_graph(session, args):
    from neuroshell.neuron.plots import plot_graph as draw

    if session.network is None or not session.network.populations():
        raise NeuroshellError("no network to draw: 'net example cuba' or 'net add ...'")
    return _finish(session, draw(session.network, session.network.summary()), f"graph-{session.network.name}")


def _model(session, name: str):
    from neuroshell.sessions.verbs.training import model_of

    return model_of(session, name)


@verbs.verb(
    "plot training",
    "Loss and accuracy per epoch of a trained model.",
    Arg("model", SessionName(kind="model"), "a model of this session, or one saved in models.dir"),
)
def plot_training(session, args):
    from neuroshell.training.plots import plot_training as draw

    trained = _model(session, args.model)
    if not trained.history:
        raise NeuroshellError(f"model {args.model} has no training history")
    figure = draw(trained.history, trained.best_epoch, trained.baseline, f"training of {trained.name}")
    return _finish(session, figure, f"training-{trained.name}")


@verbs.verb(
    "plot confusion",
    "Confusion matrix of a model on its test split.",
    Arg("model", SessionName(kind="model")),
    Arg("dataset", SessionName(kind="dataset"), default=None),
)
def plot_confusion(session, args):
    from neuroshell.training.plots import plot_confusion as draw

    trained = _model(session, args.model)
    name = args.dataset or (next(iter(trained.evaluation)) if trained.evaluation else trained.dataset)
    if name not in trained.evaluation:
        if name not in session.datasets:
            raise NeuroshellError(f"evaluate {args.model} on a dataset first (no dataset '{name}' here)")
        from neuroshell.training.evaluation import evaluate

        trained.evaluation[name] = evaluate(trained, session.datasets[name])
    metrics = trained.evaluation[name]
    title = f"{trained.name} on {name}: accuracy {metrics['accuracy']:.2f} ({metrics['split']} split)"
    return _finish(session, draw(metrics["confusion"], trained.classes, title), f"confusion-{trained.name}-{name}")


@verbs.verb(
    "plot sweep",
    "A sweep's measure over one parameter (line, mean ± sd over seeds) or two (heat map).",
    Arg("sweep", H5Path(under="/sweeps/"), "FILE:/sweeps/NAME (default: the latest sweep)", None),
    Opt("x", help="the varied parameter on the x axis", default=REQUIRED),
    Opt("y", help="a second parameter: a heat map"),
    Opt("value", help="the measure, e.g. exc.rate (exc.rate_hz), exc.cv_isi, val_accuracy", default=REQUIRED),
)
def plot_sweep(session, args):
    from neuroshell.sweeps.plots import pick_measure
    from neuroshell.sweeps.plots import plot_sweep as draw
    from neuroshell.sweeps.store import read_sweep

    which = _target(session, args, "sweep", "sweep", "sweep", "sweep simulate DURATION --vary ...")
    with session.workspace.readable(args.sweep.file) as handle:
        sweep = read_sweep(handle, args.sweep.path)
        stem = f"sweep-{handle.path.stem}-{args.sweep.path.split('/')[2]}"
    measure = pick_measure(sweep, args.value)
    figure, used = draw(sweep, args.x, args.y, measure, f"{measure} in {args.sweep}")
    written = _finish(session, figure, stem)
    others = [c for c in sweep["columns"] if c not in (args.x, args.y)]
    written.text += (
        which + f" ({used} finished points" + (f"; averaged over {', '.join(others)}" if others else "") + ")"
    )
    return written
