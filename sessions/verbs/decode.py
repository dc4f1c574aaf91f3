"""Decode verbs: decode start, decode status, decode stop (the engine is ``decoding``)."""

from neuroshell.sessions.argtypes import CsvList, SessionName
from neuroshell.sessions.errors import NeuroshellError
from neuroshell.sessions.output import Message, Table
from neuroshell.sessions.registry import Arg, Opt, VerbSet

verbs = VerbSet("decode")


@verbs.verb(
    "decode start",
    "Classify a live device's response after each marker with a trained model, as it arrives.",
    Arg("model", SessionName(kind="model"), "a model of this session"),
    Opt("device", SessionName(kind="device"), "the device (default: the only one)"),
    Opt("markers", CsvList(), "labels to answer, * wildcards (default: the model's dataset's)"),
    details="The window, baseline, channels and scaler are the model's dataset's; the epoch is cut and classified "
    "by the same code as dataset epochs and evaluate. Each prediction goes to the LSL outlet neuroshell-decoder "
    "(type Markers), into a running recording as a marker decoder/CLASS, and to the screen.",
)
def decode_start(session, args):
    from neuroshell.decoding.online import OnlineDecoder, fit_check
    from neuroshell.decoding.outputs import DecoderOutputs

    if session.decoder is not None:
        raise NeuroshellError("a decoder runs already: 'decode stop' first")
    trained = session.models.get(args.model)
    if trained is None:
        raise NeuroshellError(
            f"no model '{args.model}' in this session (models: {', '.join(session.models) or 'none'})"
        )
    dataset = session.datasets.get(trained.dataset)
    if dataset is None or dataset.recipe.get("kind") != "epochs":
        raise NeuroshellError(
            f"the dataset model {trained.name} learnt from ({trained.dataset}) is not an epoch dataset of this session"
        )
    device = _device(session, args.device)
    channels = fit_check(trained, dataset, device)
    recipe = dict(dataset.recipe)
    if args.markers:
        recipe["markers"] = ",".join(args.markers)
    outputs = DecoderOutputs(lambda label, source: _mark(session, label, source), _say(session), device.clock)
    decoder = OnlineDecoder(trained, recipe, channels, device.spec.sampling_rate_hz, device.clock, outputs)
    device.add_listener(decoder)
    session.decoder = (device, decoder, outputs)
    window = f"{recipe['window_s'][0] * 1e3:g} ms to {recipe['window_s'][1] * 1e3:g} ms"
    return Message(
        f"decoding {device.name} with {trained.name} after markers {recipe['markers']} ({window}); "
        f"predictions on LSL outlet neuroshell-decoder",
        "success",
    )


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
    figures = session.decoder[2].status()
    rows = [("predictions", figures["predictions"])]
    rows += [(f"  {label}", n) for label, n in sorted(figures["classes"].items())]
    rows += [(f"skipped ({reason})", n) for reason, n in sorted(figures["skipped"].items())]
    rows += [("online accuracy", f"{figures['accuracy']:.2f}")]
    rows += [(f"latency p{q}", f"{figures[f'latency_p{q}_ms']:.1f} ms") for q in (50, 95, 99)]
    return Table(("", ""), rows, title=f"decoder on {session.decoder[0].name}")


@verbs.verb("decode stop", "Stop decoding; says how many predictions it made.")
def decode_stop(session, args):
    if session.decoder is None:
        raise NeuroshellError("no decoder running")
    device, decoder, outputs = session.decoder
    device.remove_listener(decoder)
    figures = outputs.status()
    outputs.close()
    session.decoder = None
    skipped = sum(figures["skipped"].values())
    offline = decoder.trained.evaluation.get(decoder.trained.dataset, {}).get("accuracy")
    beside = f" (offline, on its test split: {offline:.2f})" if offline is not None else ""
    return Message(
        f"stopped decoding {device.name}: {figures['predictions']} predictions, {skipped} windows skipped, "
        f"latency p99 {figures['latency_p99_ms']:.1f} ms; online accuracy {figures['accuracy']:.2f}{beside}",
        "success",
    )
