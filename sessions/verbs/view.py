"""View verbs: view, view stop (the engine is ``view``): the session live in a browser tab."""

import webbrowser
from typing import Any, NamedTuple

from neuroshell.sessions.argtypes import Int
from neuroshell.sessions.errors import NeuroshellError
from neuroshell.sessions.output import Message
from neuroshell.sessions.registry import Flag, Opt, VerbSet

verbs = VerbSet("view")
TYPED = ("prompt", "script", "command", "user")  # marker sources that are people (the decoder's are on its plot)
FLAGS_EVERY_S = 1.0  # how often the view tests channels for flat and saturated


@verbs.verb(
    "view",
    "Open the live view in a browser: traces, markers, decoder, simulation (127.0.0.1, with a token).",
    Opt("port", Int(minimum=1), "port on 127.0.0.1 (default: a free one)"),
    Flag("no-browser", "print the URL only"),
    replayable=False,
)
def view_start(session, args):
    try:
        from neuroshell.view.server import ViewServer
    except ImportError:
        raise NeuroshellError("the live view needs the view extra: pip install 'neuroshell[view]'") from None
    if session.view is not None:
        return Message(f"the view is open already: {session.view.server.url}")
    watcher = SessionWatcher(session)
    try:
        server = ViewServer(watcher.page, port=args.port or 0)
    except OSError as error:
        raise NeuroshellError(
            f"view: cannot listen on 127.0.0.1:{args.port} ({error.strerror}): try another --port"
        ) from None
    watcher.server = server
    session.view = watcher
    opened = not args.no_browser and _open_browser(server.url)
    said = "opened in your browser" if opened else "open it in a browser on this machine"
    return Message(f"live view at {server.url} ({said}; 'view stop' closes it)", "success")


@verbs.verb("view stop", "Close the live view (every tab watching it).", replayable=False)
def view_stop(session, args):
    if session.view is None:
        raise NeuroshellError("no view open: 'view' opens one")
    session.view.close()
    session.view = None
    return Message("closed the live view")


def _open_browser(url: str) -> bool:
    try:
        return webbrowser.get().open(url, new=2)
    except webbrowser.Error:
        return False  # no browser on this machine (a server, an ssh session)


class Watched(NamedTuple):
    """A device the view follows through its ``pipeline`` (``filters.pipeline.LivePipeline``): the ``feed``
    hears the signal the decoder hears, filtered while a chain runs; ``raw`` (while a chain runs) hears the
    device itself, for a page that asks for the raw signal."""

    pipeline: Any
    feed: Any  # view.feed.DeviceFeed
    raw: Any = None


class SessionWatcher:
    """Reads the session for the view's pages (never changing it): a feed listening to each device, and a
    ``Snapshot`` of the rest at each frame."""

    def __init__(self, session) -> None:
        self.session = session
        self.feeds: dict[str, Watched] = {}  # by device name
        self.flags: dict[str, tuple[float, dict[int, str]]] = {}  # by device name: when checked, what found
        self.server = None
        self._raster_of = self._last_raster = None  # the result whose raster the pages were sent, and it
        self.zero_s = _clock()

    def page(self, doc) -> None:
        from neuroshell.view.page import build

        build(doc, self.snapshot)

    def snapshot(self):
        from neuroshell.view.page import Answer, DeviceInfo, Marker, Snapshot

        session = self.session
        devices = {name: d for name, d in list(session.devices.items()) if d.spec is not None}
        self._follow(devices)
        snapshot = Snapshot(clock_s=_clock(), zero_s=self.zero_s)
        for name, device in devices.items():
            spec = device.spec
            watched = self.feeds[name]
            snapshot.feeds[name] = watched.feed
            if watched.raw is not None:
                snapshot.raw_feeds[name] = watched.raw
            snapshot.devices[name] = DeviceInfo(
                spec.sampling_rate_hz, list(spec.channel_names), list(spec.channel_units or [""] * spec.n_channels),
                device.state, device.samples_received, device.samples_lost, watched.pipeline.describe(),
                self._flags(name, watched.pipeline),
            )  # fmt: skip
        recording = session.recording
        if recording is not None:
            snapshot.recording = recording.describe()
            snapshot.typed_markers = [
                Marker(m.time_s, m.label) for m in list(recording.typed_markers) if m.source in TYPED
            ]
        live = session.decoder
        if live is not None:
            truth = live.outputs.truth
            snapshot.classes = list(live.decoder.trained.classes)
            snapshot.predictions = [
                Answer(p.marker_s, p.label, p.probability, None if truth(p.marker_label) is None else
                       p.label == truth(p.marker_label)) for p in list(live.outputs.predictions)
            ]  # fmt: skip
        snapshot.simulation = self._raster(session.simulation)
        snapshot.simulating = session.simulating
        return snapshot

    def _flags(self, name: str, pipeline) -> dict[int, str]:
        """Flat and saturated channels by ``monitor``'s test over the last second of the signal shown, redone
        once a second (a frame comes ten times a second)."""
        from neuroshell.devices.monitor import snapshot

        checked_at, flags = self.flags.get(name, (-1.0, {}))
        now = _clock()
        if now - checked_at >= FLAGS_EVERY_S:
            online = pipeline.filter
            health = snapshot(pipeline.device, recent=online.recent if online is not None else None)
            flags = {index: channel.flag for index, channel in enumerate(health.channels) if channel.flag}
            self.flags[name] = (now, flags)
        return flags

    def _follow(self, devices: dict) -> None:
        """A feed on every device's pipeline; none on those gone."""
        from neuroshell.view.feed import DeviceFeed

        for name in list(self.feeds):
            watched = self.feeds[name]
            if devices.get(name) is not watched.pipeline.device:
                _let_go(watched)
                del self.feeds[name]
        for name, device in devices.items():
            pipeline = self.session.pipelines.get(name)
            if name not in self.feeds and pipeline is not None:
                feed = DeviceFeed(name, device.spec.n_channels, device.spec.scale)
                pipeline.follow(feed)
                self.feeds[name] = Watched(pipeline, feed)
            watched = self.feeds.get(name)
            if watched is not None and (watched.pipeline.filter is None) != (watched.raw is None):
                self.feeds[name] = _with_raw(watched, device)

    def _raster(self, result):
        from neuroshell.view.page import Raster

        if result is None:
            return None
        if self._raster_of is not result:
            title = f"simulation: {result.duration_s:g} s, {len(result.spike_times_s)} spikes"
            self._raster_of, self._last_raster = result, Raster(result.spike_times_s, result.spike_index, title)
        return self._last_raster

    def close(self) -> None:
        """Stop serving and take the feeds off the devices."""
        if self.server is not None:
            self.server.stop()
        for watched in self.feeds.values():
            _let_go(watched)
        self.feeds.clear()


def _with_raw(watched: Watched, device) -> Watched:
    """``watched`` with a feed on the raw device while a chain runs on it, and without one otherwise."""
    from neuroshell.view.feed import DeviceFeed

    if watched.raw is not None:
        device.remove_listener(watched.raw)
        return watched._replace(raw=None)
    raw = DeviceFeed(device.name, device.spec.n_channels, device.spec.scale)
    device.add_listener(raw)
    return watched._replace(raw=raw)


def _let_go(watched: Watched) -> None:
    watched.pipeline.unfollow(watched.feed)
    if watched.raw is not None:
        watched.pipeline.device.remove_listener(watched.raw)


def _clock() -> float:
    from neuroshell.devices.clock import session_clock

    return session_clock()()
