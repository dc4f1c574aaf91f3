"""Filter verbs: filter, filters (the engine is ``filters``; scipy is loaded only here)."""

from neuroshell.sessions.argtypes import Choice, Quantity, SessionName, Span
from neuroshell.sessions.errors import NeuroshellError
from neuroshell.sessions.output import Message, Table
from neuroshell.sessions.registry import Arg, Flag, Opt, VerbSet

verbs = VerbSet("filters")

# The stages a chain may have, as options: `filter` runs them live, `dataset epochs` over a recording.
STAGE_OPTIONS = (
    Opt("bandpass", Span(unit="Hz"), "LOW:HIGH band-pass, e.g. 1Hz:40Hz"),
    Opt("highpass", Quantity(unit="Hz", positive=True), "high-pass edge, e.g. 0.5Hz"),
    Opt("lowpass", Quantity(unit="Hz", positive=True), "low-pass edge, e.g. 100Hz"),
    Opt("notch", Quantity(unit="Hz", positive=True), "line frequency, notched with its harmonics, e.g. 50Hz"),
    Opt("reref", Choice(choices=("mean",)), "mean: common average reference (over all the stream's channels)"),
)


def stages_of(args) -> tuple:
    """The ``filters.chain.Stage`` of each stage option given."""
    from neuroshell.filters.chain import Stage

    stages = [
        Stage("bandpass", *args.bandpass) if args.bandpass else None,
        Stage("highpass", low_hz=args.highpass) if args.highpass else None,
        Stage("lowpass", high_hz=args.lowpass) if args.lowpass else None,
        Stage("notch", low_hz=args.notch) if args.notch else None,
        Stage("reref") if args.reref else None,
    ]
    return tuple(stage for stage in stages if stage is not None)


@verbs.verb(
    "filter",
    "Filter a device's live stream as it arrives (monitor and decoders see it; the recording stays raw).",
    Arg("device", SessionName(kind="device"), "the device"),
    *STAGE_OPTIONS,
    Flag("clear", "remove the device's filters"),
    details="Stages add to the device's chain (a stage of a kind already there is replaced); the chain runs "
    "reref first, then the rest, causally (Butterworth of order 4 as second-order sections, their state kept "
    "across blocks; IIR notches). The "
    "chain in force and each change are written into a running recording (/streams/NAME/filters).",
)
def filter_verb(session, args):
    from neuroshell.filters.chain import ChainSpec
    from neuroshell.filters.online import OnlineFilter

    device = session.devices.get(args.device)
    if device is None:
        raise NeuroshellError(f"no device called {args.device} (devices: {', '.join(session.devices) or 'none'})")
    pipeline = session.pipelines[device.name]
    stages = stages_of(args)
    if args.clear == bool(stages):
        raise NeuroshellError("filter: give stages (--bandpass, --highpass, --lowpass, --notch, --reref) or --clear")
    chain = ChainSpec() if args.clear or pipeline.chain is None else pipeline.chain
    for stage in stages:
        chain = chain.with_stage(stage)
    recording = session.recording
    recorded = recording is not None and recording.running and device in recording.devices

    def note_in_file(first_time_s: float | None = None) -> None:
        # The file says from which sample on the chain ran, so a reader redoes exactly what monitor and
        # decoders saw.
        if recorded:
            recording.filter_changed(device.name, chain.to_json(), first_time_s)

    online = OnlineFilter(device, chain, device.clock(), note_in_file) if chain.stages else None  # checked first
    pipeline.set_filter(online)
    noted = f"; noted in {recording.path.name}" if recorded else ""
    if recorded and online is None:
        note_in_file()
    return Message(f"{device.name}: filters {chain.describe()}{noted}", "success")


@verbs.verb("filters", "The filter chain of each device.", replayable=False)
def filters_verb(session, args):
    rows = []
    for name, device in session.devices.items():
        online = session.pipelines[name].filter
        since = f"{device.clock() - online.since_s:.1f} s" if online else ""
        rows.append((name, online.chain.describe() if online else "none (raw)", since))
    return Table(("device", "chain", "in force for"), rows, title="Online filters", empty="no devices connected")
