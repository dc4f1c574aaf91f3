"""Decode verbs: decode start, decode status, decode stop (the engine is ``decoding``)."""

from neuroshell.sessions.argtypes import CsvList, Quantity, SessionName
from neuroshell.sessions.errors import NeuroshellError
from neuroshell.sessions.output import Message, Table
from neuroshell.sessions.registry import Arg, Opt, VerbSet

verbs = VerbSet("decode")


@verbs.verb(
    "decode start",
    "Classify a live device's response after each marker with a trained model, as it arrives.",
    Arg("model", SessionName(kind="model"), "a model of this session, or one saved in models.dir (or its file)"),
    Opt("device", SessionName(kind="device"), "the device (default: the only one)"),
    Opt("markers", CsvList(), "labels to answer, * wildcards (default: the model's dataset's)"),
    Opt("every", Quantity(unit="s", positive=True), "classify the latest window this often, e.g. 100ms (no markers)"),
    details="The window, baseline, channels and scaler are the model's dataset's; the epoch is cut and classified "
    "by the same code as dataset epochs and evaluate. With a filter chain on the device, the decoder sees the "
    "filtered signal. Each prediction goes to the LSL outlet neuroshell-decoder (type Markers), into a running "
    "recording as a marker decoder/CLASS, and to the screen (with --every, only when the class changes).",
)
def decode_start(session, args):
    from neuroshell.decoding.live import LiveDecoding
    from neuroshell.decoding.online import OnlineDecoder, fit_check
    from neuroshell.decoding.outputs import DecoderOutputs

    if session.decoder is not None:
        raise NeuroshellError("a decoder runs already: 'decode stop' first")
    from neuroshell.sessions.verbs.devices import spare_live_threads
    from neuroshell.sessions.verbs.training import model_of

    trained = model_of(session, args.model)
    recipe = _data_of(session, trained)
    device = _device(session, args.device)
    channels = fit_check(trained, recipe, device)
    if args.markers and args.every:
        raise NeuroshellError("decode start: give --markers or --every, not both")
    if args.markers:
        recipe["markers"] = ",".join(args.markers)
    outputs = DecoderOutputs(
        lambda label, source: _mark(session, label, source), _say(session), device.clock, _truth(recipe, trained)
    )
    rate = device.spec.sampling_rate_hz
    decoder = OnlineDecoder(trained, recipe, channels, rate, device.clock, outputs, every_s=args.every)
    pipeline = session.pipelines[device.name]
    pipeline.attach_decoding(LiveDecoding(device, decoder, outputs))
    spare_live_threads()
    window = f"{recipe['window_s'][0] * 1e3:g} ms to {recipe['window_s'][1] * 1e3:g} ms"
    when = f"every {args.every * 1e3:g} ms" if args.every else f"after markers {recipe['markers']}"
    live = pipeline.chain.describe() if pipeline.chain is not None else ""
    return Message(
        f"decoding {device.name} ({pipeline.describe()}) with {trained.name} {when} ({window}); "
        f"predictions on LSL outlet neuroshell-decoder{_unlike(trained.name, recipe, live)}",
        "success",
    )


def _truth(recipe: dict, model):
    """marker label -> the class it names (after the dataset's relabelling), or None."""
    from neuroshell.training.epochs import class_of, parse_markers

    pairs = parse_markers(recipe["markers"].split(","))
    known = set(model.classes)

    def truth(label: str) -> str | None:
        name = class_of(pairs, label) or label
        return name if name in known else None

    return truth


def _data_of(session, model) -> dict:
    """What the model learnt from (markers, window, channels, rate, filters): from its dataset in this session,
    or as the model recorded it when trained."""
    dataset = session.datasets.get(model.dataset)
    if dataset is not None and dataset.recipe.get("kind") == "epochs":
        data = {**dataset.recipe, "channel_names": dataset.channel_names, "sampling_rate_hz": dataset.sampling_rate_hz}
    else:
        data = dict(model.recipe.get("data") or {})
    if data.get("kind") != "epochs":
        raise NeuroshellError(f"model {model.name} did not learn from epochs of a recording: it cannot decode a device")
    if data.get("resample_hz"):
        raise NeuroshellError(
            f"model {model.name} learnt from data resampled to {data['resample_hz']:g} Hz: a live decoder takes "
            "the device's own rate (make the dataset without --resample)"
        )
    return data


def _unlike(model: str, recipe: dict, live: str) -> str:
    """A warning when the model learnt from a signal filtered otherwise than the one it will see."""
    learnt = recipe.get("filtered") or ""
    offline = recipe.get("filter") or {}
    if offline and not offline.get("causal"):
        return f"; note: {model} learnt from zero-phase filtered data ({learnt}), the decoder sees {live or 'raw data'}"
    if learnt.split("; then ")[-1] == live:
        return ""
    return f"; note: {model} learnt from {learnt or 'raw data'}, the decoder sees {live or 'raw data'}"


def _device(session, name):
    if name is not None:
        if name not in session.devices:
            raise NeuroshellError(f"no device called {name} (devices: {', '.join(session.devices) or 'none'})")
        return session.devices[name]
    if len(session.devices) != 1:
        known = ", ".join(session.devices) or "none"
        raise NeuroshellError(f"decode start needs --device NAME when there is not exactly one (devices: {known})")
    return next(iter(session.devices.values()))


def _mark(session, label: str, source: str) -> None:
    recording = session.recording
    if recording is not None and recording.running:
        recording.mark(label, source)


def _say(session):
    return lambda text: session.notify(text, False)


@verbs.verb("decode status", "Predictions so far: per class, skipped windows, latency percentiles.", replayable=False)
def decode_status(session, args):
    if session.decoder is None:
        return Message("no decoder running")
    figures = session.decoder.outputs.status()
    rows = [("predictions", figures["predictions"])]
    rows += [(f"  {label}", n) for label, n in sorted(figures["classes"].items())]
    rows += [(f"skipped ({reason})", n) for reason, n in sorted(figures["skipped"].items())]
    rows += [("online accuracy", _accuracy(figures))]
    rows += [(f"latency p{q} (arrival to outlet)", f"{figures[f'latency_p{q}_ms']:.1f} ms") for q in (50, 95, 99)]
    rows += [
        (f"end to end p{q} (timestamp to outlet)", f"{figures[f'end_to_end_p{q}_ms']:.1f} ms") for q in (50, 95, 99)
    ]
    return Table(("", ""), rows, title=f"decoder on {session.decoder.device.name}")


@verbs.verb("decode stop", "Stop decoding; says how many predictions it made.")
def decode_stop(session, args):
    if session.decoder is None:
        raise NeuroshellError("no decoder running")
    device, decoder = session.decoder.device, session.decoder.decoder
    figures = session.pipelines[device.name].detach_decoding()
    skipped = sum(figures["skipped"].values())
    offline = decoder.trained.evaluation.get(decoder.trained.dataset, {}).get("accuracy")
    beside = f" (offline, on its test split: {offline:.2f})" if offline is not None else ""
    return Message(
        f"stopped decoding {device.name}: {figures['predictions']} predictions, {skipped} windows skipped, "
        f"latency p99 {figures['latency_p99_ms']:.1f} ms; online accuracy {_accuracy(figures)}{beside}",
        "success",
    )


def _accuracy(figures: dict) -> str:
    if not figures["judged"]:
        return "n/a (no marker named a class)"
    return f"{figures['accuracy']:.2f} over {figures['judged']}"
