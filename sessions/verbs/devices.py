"""Device verbs: connect, devices, disconnect, lsl streams, monitor, record, mark."""

import time

from neuroshell.sessions.argtypes import (
    Choice,
    CsvList,
    FilePath,
    Float,
    FromSetting,
    H5Path,
    Int,
    Quantity,
    SessionName,
    Span,
)
from neuroshell.sessions.errors import NeuroshellError
from neuroshell.sessions.output import Message, Table
from neuroshell.sessions.registry import Arg, Flag, Opt, VerbSet

verbs = VerbSet("devices")
NAME = Opt("name", help="short name of the device (default: source and a number, e.g. sim0)")


def _clock():
    from neuroshell.devices.clock import session_clock

    return session_clock()


def _device_name(session, args, prefix: str) -> str:
    if args.name:
        if args.name in session.devices:
            raise NeuroshellError(f"a device called {args.name} is already connected")
        return args.name
    number = 0
    while f"{prefix}{number}" in session.devices:
        number += 1
    return f"{prefix}{number}"


def _added(session, device) -> Message:
    from neuroshell.filters.pipeline import LivePipeline

    session.devices[device.name] = device
    session.pipelines[device.name] = LivePipeline(device)
    spec = device.spec
    rate = f"{spec.sampling_rate_hz:g} Hz" if spec.sampling_rate_hz else "irregular rate"
    what = "markers" if spec.n_channels == 0 else f"{spec.n_channels} channels at {rate}"
    return Message(f"connected {device.name} ({device.source}): {what}", "success")


@verbs.verb(
    "connect sim",
    "Connect the simulated OPM-MEG helmet (no hardware) over a real transport.",
    Opt("transport", Choice(choices=("serial", "lsl")), "a pseudo-terminal read by pyserial, or LSL outlets", "serial"),
    Opt("channels", Int(minimum=1, maximum=4096), "number of channels", 306),
    Opt("rate", Quantity(unit="Hz", positive=True), "sampling rate", 1000.0),
    Opt("seed", Int(minimum=0), "the session: noise, stimulus order, the head's small movement", FromSetting("seed")),
    Opt("isi", Span(), "range of intervals between stimuli", "800ms:1500ms"),
    Opt("subject", help="the subject: head, evoked responses, alpha, gains (default sub-01)", default="sub-01"),
    Opt("difficulty", Choice(choices=("easy", "realistic", "hard")), "evoked size against the background", "realistic"),
    NAME,
    details="One subject keeps its head from one session (--seed) to the next, moved by 1-4 degrees, gains within "
    "5% and alpha power within 20%. At --difficulty realistic, single trials of the three classes decode at "
    "0.75-0.95 with a logistic baseline; easy (400 fT) separates them for any decoder; hard (35 fT) tests decoders "
    "at low SNR.",
)
def connect_sim(session, args):
    from neuroshell.devices.simhelmet import connect_sim as start

    if args.isi[0] <= 0:
        raise NeuroshellError(f"--isi: intervals between stimuli must be positive (got {args.isi[0]:g} s)")
    name = _device_name(session, args, "sim")
    device = start(
        name,
        _clock(),
        transport=args.transport,
        n_channels=args.channels,
        rate_hz=args.rate,
        seed=args.seed,
        interval_s=args.isi,
        subject=args.subject,
        difficulty=args.difficulty,
    )
    return _added(session, device)


@verbs.verb(
    "connect serial",
    "Connect a serial device (neuroshell frames, CSV lines, or an OpenBCI Cyton).",
    Arg("port", FilePath(), "e.g. /dev/ttyUSB0"),
    Opt("baud", Int(minimum=300), "baud rate", 115200),
    Opt("protocol", Choice(choices=("neuroshell", "csv", "cyton")), "byte protocol", "neuroshell"),
    Opt("channels", Int(minimum=1, maximum=4096), "expected channel count (checked)"),
    Opt("rate", Quantity(unit="Hz", positive=True), "sampling rate (Cyton: 250Hz; CSV without it: irregular)"),
    NAME,
)
def connect_serial(session, args):
    from neuroshell.devices.serial_device import SerialDevice

    name = _device_name(session, args, "serial")
    rate = args.rate if args.rate is not None else (1000.0 if args.protocol == "neuroshell" else None)
    device = SerialDevice(
        name,
        str(args.port),
        _clock(),
        protocol=args.protocol,
        baudrate=args.baud,
        n_channels=args.channels,
        rate_hz=rate,
    ).start()
    return _added(session, device)


@verbs.verb(
    "connect lsl",
    "Connect a Lab Streaming Layer stream (marker streams go to /markers).",
    Opt("timeout", Quantity(unit="s", positive=True), "how long to look (default: the lsl.timeout setting)"),
    NAME,
    keyvalues="stream properties to match: name=..., type=..., source_id=...",
)
def connect_lsl(session, args):
    from neuroshell.devices.lsl_device import connect_lsl as start

    unknown = set(args.kv) - {"name", "type", "source_id"}
    if unknown:
        raise NeuroshellError(f"connect lsl: unknown property {sorted(unknown)[0]} (use name=, type=, source_id=)")
    name = _device_name(session, args, "lsl")
    timeout = args.timeout or session.settings["lsl.timeout"]
    return _added(session, start(name, _clock(), timeout, args.kv))


@verbs.verb(
    "connect replay",
    "Play a recorded stream (and its markers) back as a live device.",
    Arg("stream", H5Path(under="/streams/"), "FILE:/streams/NAME"),
    Opt("speed", Float(minimum=0.001), "1 is real time, 10 ten times faster", 1.0),
    Flag("loop", "start over at the end"),
    NAME,
)
def connect_replay(session, args):
    from neuroshell.devices.replay import ReplayDevice

    location = args.stream
    name = _device_name(session, args, "replay")

    path = session.workspace.path_of(location)
    device = ReplayDevice(name, _clock(), path, location.path, args.speed, args.loop).start()
    return _added(session, device)


@verbs.verb(
    "lsl streams",
    "List the LSL streams on the network.",
    Opt("timeout", Quantity(unit="s", positive=True), "how long to look", 1.0),
    replayable=False,
)
def lsl_streams(session, args):
    from neuroshell.devices.lsl_device import list_streams

    rows = [
        (s.name, s.type, s.channels, f"{s.rate_hz:g}", s.format, s.source_id, s.hostname)
        for s in list_streams(args.timeout)
    ]
    columns = ("name", "type", "channels", "rate (Hz)", "format", "source_id", "host")
    return Table(columns, rows, title="LSL streams", empty=f"no LSL streams found within {args.timeout:g} s")


@verbs.verb("devices", "List connected devices.", replayable=False)
def devices_verb(session, args):
    rows = []
    for device in session.devices.values():
        d = device.describe()
        rows.append(
            (
                d["name"],
                d["source"],
                d["channels"],
                f"{d['rate_hz']:g}",
                d["received"],
                d["lost"],
                d["corrupt"],
                d["state"],
            )
        )
    columns = ("name", "source", "channels", "rate (Hz)", "received", "lost", "corrupt", "state")
    return Table(
        columns, rows, title="Devices", empty="no devices connected (connect sim, connect serial, connect lsl)"
    )


@verbs.verb(
    "disconnect", "Disconnect a device (or all).", Arg("name", SessionName(kind="device"), "device name or all")
)
def disconnect(session, args):
    names = list(session.devices) if args.name == "all" else [args.name]
    for name in names:
        if name not in session.devices:
            raise NeuroshellError(f"no device called {name} (devices: {', '.join(session.devices) or 'none'})")
    recording = session.recording
    if recording is not None and recording.running and any(session.devices[n] in recording.devices for n in names):
        raise NeuroshellError("that device is being recorded: 'record stop' first")
    if session.decoder is not None and session.decoder.device.name in names:
        raise NeuroshellError(f"{session.decoder.device.name} is being decoded: 'decode stop' first")
    for name in names:
        session.devices.pop(name)
        session.pipelines.pop(name).close()
    return Message(f"disconnected {', '.join(names) or 'nothing'}")


def _snapshot(session, device):
    """The device's health, over the filtered signal when a filter chain runs on it."""
    from neuroshell.devices.monitor import snapshot

    online = session.pipelines[device.name].filter
    return snapshot(
        device, recent=online.recent if online else None, filtered=online.chain.describe() if online else ""
    )


def _monitor_view(snapshots) -> list:
    views = []
    for snap in snapshots:
        flagged = [c for c in snap.channels if c.flag]
        summary = Table(
            ("device", "state", "rate (Hz)", "received", "lost", "corrupt", "flagged channels"),
            [
                (
                    snap.device,
                    snap.state,
                    f"{snap.effective_rate_hz:.1f} / {snap.nominal_rate_hz:g}",
                    snap.received,
                    snap.lost,
                    snap.corrupt,
                    len(flagged),
                )
            ],
        )
        shown = flagged + [c for c in snap.channels if not c.flag][: max(0, 12 - len(flagged))]
        rest = len(snap.channels) - len(shown)
        rows = [(c.name, f"{c.rms:.1f} {c.unit}", c.flag) for c in shown]
        if rest:  # flagged channels are always shown: the rest are not flagged
            rows.append((f"+{rest} more", "", "not flagged"))
        filtered = f", filtered: {snap.filtered}" if snap.filtered else ""
        channels = Table(
            ("channel", "RMS", "flag"),
            rows,
            title=f"{snap.device}: {len(snap.channels)} channels (flagged first{filtered})",
        )
        markers = [Message(f"marker {label} {snap.now_s - when:.1f} s ago") for when, label in snap.markers]
        views += [summary, channels, *markers]
    return views


@verbs.verb(
    "monitor",
    "Live view of devices: effective rate, losses, per-channel RMS, flat/saturated channels (Ctrl-C ends).",
    Arg("name", SessionName(kind="device"), "one device (default: all)", None),
    Opt("for", Quantity(unit="s", positive=True), "stop after this long (a script must give it)"),
    replayable=False,
    endless_without="for",
)
def monitor(session, args):

    chosen = _chosen_devices(session, [args.name] if args.name else None)
    duration = getattr(args, "for")
    deadline = time.monotonic() + duration if duration else None
    with session.ui.live() as live:
        try:
            while deadline is None or time.monotonic() < deadline:
                live.update(_monitor_view([_snapshot(session, d) for d in chosen]))
                time.sleep(0.25 if deadline is None else min(0.25, max(0.0, deadline - time.monotonic())))
        except KeyboardInterrupt:
            pass
        final = _monitor_view([_snapshot(session, d) for d in chosen])
        live.update(final)


def _chosen_devices(session, names):
    if not session.devices:
        raise NeuroshellError("no devices connected: connect one first (e.g. connect sim)")
    if not names:
        return list(session.devices.values())
    missing = [n for n in names if n not in session.devices]
    if missing:
        raise NeuroshellError(f"no device called {missing[0]} (devices: {', '.join(session.devices)})")
    return [session.devices[n] for n in names]


@verbs.verb(
    "record start",
    "Record devices into one HDF5 file on the session clock.",
    Arg("file", FilePath(), "the .h5 file to write"),
    Opt("devices", CsvList(), "device names (default: all)"),
    Opt("for", Quantity(unit="s", positive=True), "stop by itself after this long"),
    Flag("overwrite", "replace an existing file"),
)
def record_start(session, args):
    from neuroshell.devices.recording import LiveRecording

    if session.recording is not None and session.recording.running:
        raise NeuroshellError(f"already recording to {session.recording.path}: 'record stop' first")
    chosen = _chosen_devices(session, args.devices)
    fast = next((d for d in chosen if getattr(d, "speed", 1.0) != 1.0), None)
    if fast is not None:
        raise NeuroshellError(
            f"{fast.name} replays at {fast.speed:g}x real time: recorded, its samples would lie 1/{fast.speed:g} of "
            f"their interval apart; connect the replay at --speed 1 to record it, or use its file as it is"
        )
    if session.workspace.find(str(args.file)) is not None:
        raise NeuroshellError(f"{args.file} is open in this session: close it first, or record to another file")
    settings = session.settings
    try:
        session.recording = LiveRecording(
            args.file,
            chosen,
            _clock(),
            flush_interval_s=settings["storage.flush_interval"],
            queue_blocks=settings["record.queue_blocks"],
            overwrite=args.overwrite,
            compression=settings["storage.compression"],
            duration_s=getattr(args, "for"),
            min_free_bytes=settings["record.min_free"],
            notify=session.notify,
            filter_chains={n: p.chain.to_json() for n, p in session.pipelines.items() if p.chain is not None},
            sources=[session.pipelines[device.name] for device in chosen],  # it hears their raw signal
            on_end=lambda path: session.made("recording", path),  # the latest, however it ends
        )
    except FileExistsError as error:
        raise NeuroshellError(str(error)) from None
    names = ", ".join(d.name for d in chosen)
    spare_live_threads()
    return Message(f"recording {names} to {args.file}", "success")


def spare_live_threads() -> None:
    """Keep the garbage collector's full passes short while devices are read: once torch, mne and numba are
    loaded, one pass over the session's objects holds every thread ~0.3 s (bench/closedloop.py saw 13 of up
    to 323 ms). What lives now is frozen (never walked again, never freed: the session keeps it anyway);
    freezing walks nothing, so the readers do not wait for it."""
    import gc

    gc.freeze()


def _status_table(stats) -> Table:
    rows = [
        (name, c.samples_written, c.samples_dropped, f"{(c.last_time or 0) - (c.first_time or 0):.1f} s")
        for name, c in stats.streams.items()
    ]
    return Table(("stream", "samples written", "dropped", "duration"), rows)


@verbs.verb("record stop", "Stop the recording, writing everything received.")
def record_stop(session, args):
    recording = session.recording
    if recording is None:
        raise NeuroshellError("not recording")
    stats = recording.stop()
    session.recording = None
    result = [_status_table(stats)]
    if not recording.summary_shown:  # every recording ends with one summary
        result.append(Message(recording.summary(), "success"))
    if stats.error:
        result.append(Message(f"the recording had stopped early: {stats.error}", "warning"))
    return result


@verbs.verb("record status", "Samples written, file size, queue fill and losses of the recording.", replayable=False)
def record_status(session, args):
    recording = session.recording
    if recording is None:
        return Message("not recording")
    stats = recording.stats()
    size = stats.path.stat().st_size / 1e6 if stats.path.exists() else 0.0
    facts = Message(
        f"{recording.describe()}; file {size:.1f} MB; queue {stats.queue_fill:.0%} (peak {stats.queue_peak:.0%}); "
        f"{stats.flushes} flushes" + (f"; writer error: {stats.error}" if stats.error else "")
    )
    return [_status_table(stats), facts]


@verbs.verb(
    "mark",
    "Put a marker with the session time into the recording.",
    Arg("label"),
    Flag("wall", "also say the wall-clock time"),
)
def mark(session, args):
    recording = session.recording
    if recording is not None and recording.fault:
        raise NeuroshellError(f"the recording stopped ({recording.fault}): 'record start FILE' for a new one")
    if recording is None or not recording.running:
        raise NeuroshellError("not recording: 'record start FILE' first")
    when = recording.mark(args.label, source=_typed_where(session))
    text = f"marker {args.label} at t={when - recording.started:.3f} s into {recording.path.name}"
    if args.wall:
        from neuroshell.storage.layout import wall_clock

        text += f" ({wall_clock(when, recording.clock_zero_unix_s)})"
    return Message(text)


def _typed_where(session) -> str:
    """Where a typed marker came from, as the file's marker source: the prompt, a script, or a command
    given otherwise (-c, library use)."""
    if session.script_depth:
        return "script"
    return "prompt" if session.interactive else "command"
