"""The page one browser tab shows: a Bokeh document that follows the session through ``Snapshot``s, drawing
only what arrived since its last frame (Bokeh's streaming data sources), so the browser does the drawing."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from neuroshell.view.feed import BIN_S, KEPT_S, DeviceFeed

FRAME_MS = 100  # 10 frames a second
STATUS_EVERY = 5  # frames between status lines
PAGE_CHANNELS = 16
DECODED, RAW = "as the decoder hears it", "raw"  # the signal a page shows: filtered while a chain runs, or raw


@dataclass
class DeviceInfo:
    """What the page says about a device beside its traces."""

    rate_hz: float
    channel_names: list[str]
    channel_units: list[str]
    state: str = "streaming"
    received: int = 0
    lost: int = 0
    signal: str = "raw"  # or the online filter chain it shows
    flags: dict[int, str] = field(default_factory=dict)  # channel index -> "flat" or "saturated" (monitor's test)


class Marker(NamedTuple):
    """A marker at ``time_s`` (session clock), as typed or as a device sent it."""

    time_s: float
    label: str


class Answer(NamedTuple):
    """A decoder's prediction for the marker at ``time_s``: its class and probability; ``correct`` when the
    marker names a class, else None."""

    time_s: float
    label: str
    probability: float
    correct: bool | None


class Raster(NamedTuple):
    """The latest simulation: spike times (s) and neuron ids (global), and the title the page gives it."""

    times_s: np.ndarray
    ids: np.ndarray
    title: str


@dataclass
class Snapshot:
    """The session as the page reads it at one frame: ``feeds``/``devices`` by device name; the typed markers
    and the decoder's answers on the session clock; the latest simulation's raster, if any."""

    clock_s: float
    zero_s: float = 0.0  # the page's time axis reads seconds since this (the view's opening)
    frame: int = 0  # the page's frame number (set by the page)
    feeds: dict[str, DeviceFeed] = field(default_factory=dict)  # the signal the decoder hears
    raw_feeds: dict[str, DeviceFeed] = field(default_factory=dict)  # the raw signal, while a chain runs
    devices: dict[str, DeviceInfo] = field(default_factory=dict)
    typed_markers: list[Marker] = field(default_factory=list)
    predictions: list[Answer] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    recording: str = ""
    simulation: Raster | None = None
    simulating: tuple[float, float] | None = None  # a run going on: (simulated s, asked s)


class DevicePanel:
    """One device's traces (a page of channels), its markers and its status line."""

    def __init__(self, name: str, info: DeviceInfo, x_range) -> None:
        from bokeh.models import ColumnDataSource, Div, LabelSet, Select, Slider
        from bokeh.plotting import figure

        self.name, self.info = name, info
        self.completed = 0
        self.shown_feed: DeviceFeed | None = None
        self.typed_count = self.device_count = 0
        pages = [f"{i}-{min(i + PAGE_CHANNELS, len(info.channel_names)) - 1}" for i in
                 range(0, len(info.channel_names), PAGE_CHANNELS)]  # fmt: skip
        self.page = Select(title="channels", value=pages[0], options=pages, width=120)
        self.window = Slider(title="window (s)", start=2, end=KEPT_S, value=10, step=1, width=200)
        self.signal = Select(title="signal", value=DECODED, options=[DECODED, RAW], width=180)
        self.status = Div(text="", name=f"status-{name}")
        self.figure = figure(height=420, sizing_mode="stretch_width", x_range=x_range, title=f"{name}",
                             tools="xpan,xwheel_zoom,reset", toolbar_location="right")  # fmt: skip
        self.figure.yaxis.visible = False
        self.figure.xaxis.axis_label = "s since the view opened"
        self.source = ColumnDataSource(self._empty(), name=f"traces-{name}")
        self.markers = ColumnDataSource({"x": [], "label": [], "color": []}, name=f"markers-{name}")
        self.names = ColumnDataSource({"x": [], "y": [], "text": [], "color": []})
        for k in range(PAGE_CHANNELS):
            self.figure.varea(x="x", y1=f"lo{k}", y2=f"hi{k}", source=self.source, fill_color="#1f4e79")
        self.figure.segment(x0="x", y0=-1, x1="x", y1=PAGE_CHANNELS, color="color", source=self.markers, line_width=2)
        self.figure.add_layout(LabelSet(x="x", y=PAGE_CHANNELS - 0.6, text="label", source=self.markers,
                                        text_font_size="9pt", text_color="color"))  # fmt: skip
        self.figure.add_layout(LabelSet(x="x", y="y", text="text", source=self.names, text_font_size="8pt",
                                        text_color="color", x_units="screen"))  # fmt: skip
        self.gain = np.ones(len(info.channel_names), dtype=np.float32)
        self.centre = np.zeros(len(info.channel_names), dtype=np.float32)
        self.page.on_change("value", lambda attr, old, new: self._restart())
        self.window.on_change("value_throttled", lambda attr, old, new: self._restart())
        self.signal.on_change("value", lambda attr, old, new: self._restart())

    def _first(self) -> int:
        return int(self.page.value.split("-")[0])

    def _empty(self) -> dict:
        return {"x": [], **{f"{side}{k}": [] for k in range(PAGE_CHANNELS) for side in ("lo", "hi")}}

    def _restart(self) -> None:
        self.completed, self.gain[:] = 0, 1.0
        self.source.data = self._empty()

    def feed_of(self, snapshot: Snapshot) -> DeviceFeed:
        """The feed the page asks for: the raw signal while a chain runs and "raw" is chosen, else the decoder's."""
        raw = snapshot.raw_feeds.get(self.name)
        return raw if raw is not None and self.signal.value == RAW else snapshot.feeds[self.name]

    def frame(self, snapshot: Snapshot) -> None:
        feed = self.feed_of(snapshot)
        if feed is not self.shown_feed:  # a chain started or ended under a page showing the raw signal
            self._restart()
            self.shown_feed = feed
        envelope, self.completed = feed.since(self.completed)
        first = self._first()
        shown = slice(first, min(first + PAGE_CHANNELS, feed.n_channels))
        if len(envelope.time_s):
            low, high = envelope.low[:, shown], envelope.high[:, shown]
            self._fit_gain(low, high, shown)
            gain, centre = self.gain[shown], self.centre[shown]
            rows = {"x": envelope.time_s - snapshot.zero_s}
            for k in range(PAGE_CHANNELS):
                if k < low.shape[1]:
                    offset = PAGE_CHANNELS - 1 - k
                    rows[f"lo{k}"] = offset + (low[:, k] - centre[k]) * gain[k]
                    rows[f"hi{k}"] = offset + (high[:, k] - centre[k]) * gain[k]
                else:
                    rows[f"lo{k}"] = rows[f"hi{k}"] = np.full(len(envelope.time_s), np.nan)
            # only the window's bins stay in the browser: each frame redraws what it holds
            self.source.stream(rows, rollover=round(self.window.value / BIN_S))
        info = snapshot.devices.get(self.name, self.info)
        if len(envelope.time_s):
            self._name_channels(low, high, shown, info.flags)
        self._stream_markers(feed, snapshot)
        status = (
            f"<b>{self.name}</b>: {info.state}, {info.rate_hz:g} Hz, {len(info.channel_names)} channels, "
            f"{info.received} samples received, {info.lost} lost; showing the "
            f"{'raw' if feed is snapshot.raw_feeds.get(self.name) else info.signal} signal"
        )
        if snapshot.frame % STATUS_EVERY == 0:  # text is laid out anew each time: a few times a second
            self.status.text = status

    def _fit_gain(self, low: np.ndarray, high: np.ndarray, shown: slice) -> None:
        """Per kind of channel (its unit), one gain that fits a typical channel in 0.8 of its row; each channel
        centred on its median, once (a trace that jumped at every frame could not be read)."""
        if np.any(self.gain[shown] != 1.0):
            return
        self.centre[shown] = np.median((low + high) / 2, axis=0)
        spread = np.median(high - low, axis=0) * 4 + 1e-30
        units = np.array(self.info.channel_units[shown])
        for unit in set(units.tolist()):
            same = units == unit
            self.gain[shown][same] = 0.8 / np.median(spread[same])

    def _name_channels(self, low: np.ndarray, high: np.ndarray, shown: slice, flags: dict[int, str]) -> None:
        """Each channel's name, with "(flat)" (no change over the bins drawn) or "(saturated)" (stuck at its
        extreme, as ``monitor`` tests it over the last second) in red."""
        names = self.info.channel_names[shown]
        flat = np.all(high == low, axis=0)
        said = [flags.get(shown.start + k) or ("flat" if f else "") for k, f in enumerate(flat)]
        text = [f"{n} ({flag})" if flag else n for n, flag in zip(names, said, strict=True)]
        if list(self.names.data["text"]) == text:
            return  # unchanged: no message to the browser
        self.names.data = {"x": [4] * len(names), "y": [PAGE_CHANNELS - 1 - k + 0.2 for k in range(len(names))],
                           "text": text, "color": ["#c00000" if flag else "#444444" for flag in said]}  # fmt: skip

    def _stream_markers(self, feed: DeviceFeed, snapshot: Snapshot) -> None:
        # typed markers green and a device's red, as plot traces tells them apart
        device, self.device_count = feed.markers_since(self.device_count)
        fresh = [(t, label, "#2e8b57") for t, label in snapshot.typed_markers[self.typed_count :]]
        fresh += [(t, label, "#c00000") for t, label in device]
        if fresh:
            self.markers.stream({"x": [m[0] - snapshot.zero_s for m in fresh], "label": [m[1] for m in fresh],
                                 "color": [m[2] for m in fresh]}, rollover=2000)  # fmt: skip
        self.typed_count = len(snapshot.typed_markers)


def build(doc, snapshot_of: Callable[[], Snapshot]) -> None:
    """Fill a new tab's document and keep it current every ``FRAME_MS``."""
    from bokeh.layouts import column, row
    from bokeh.models import ColumnDataSource, Div, Range1d
    from bokeh.plotting import figure

    snapshot = snapshot_of()
    x_range = Range1d(snapshot.clock_s - snapshot.zero_s - 10, snapshot.clock_s - snapshot.zero_s)
    header = Div(text="", name="recording")
    predictions = ColumnDataSource({"x": [], "y": [], "label": [], "color": []}, name="predictions")
    decoder = figure(height=160, sizing_mode="stretch_width", x_range=x_range, title="decoder", tools="")
    decoder.scatter(x="x", y="y", source=predictions, size=9, color="color")
    accuracy = Div(text="no decoder running", name="decoder")
    spikes = ColumnDataSource({"x": [], "y": []}, name="spikes")
    raster = figure(
        height=260, sizing_mode="stretch_width", title="simulation: none yet", tools="xpan,xwheel_zoom,reset"
    )
    raster.scatter(x="x", y="y", source=spikes, size=2, color="#333333")
    panels: dict[str, DevicePanel] = {}
    devices = column(sizing_mode="stretch_width")
    doc.add_root(column(header, devices, decoder, accuracy, raster, sizing_mode="stretch_width"))
    doc.title = "neuroshell view"
    shown = {"predictions": 0, "simulation": None, "frame": -1}

    def update() -> None:
        now = snapshot_of()
        now.frame = shown["frame"] = shown["frame"] + 1
        if set(now.feeds) != set(panels):  # a device connected or left: the page follows
            for name in set(panels) - set(now.feeds):
                panels.pop(name)
            for name in set(now.feeds) - set(panels):
                panels[name] = DevicePanel(name, now.devices[name], x_range)
            devices.children = [column(row(p.page, p.window, p.signal, p.status), p.figure,
                                       sizing_mode="stretch_width") for p in panels.values()]  # fmt: skip
        window = next(iter(panels.values())).window.value if panels else 10
        x_range.start, x_range.end = now.clock_s - now.zero_s - window, now.clock_s - now.zero_s
        for panel in panels.values():
            panel.frame(now)
        if now.frame % STATUS_EVERY == 0:
            header.text = now.recording or "not recording"
        _predictions(now, predictions, decoder, accuracy, shown)
        _simulation(now, spikes, raster, shown)

    update()
    doc.add_periodic_callback(update, FRAME_MS)


def _predictions(now: Snapshot, source, decoder, accuracy, shown: dict) -> None:
    fresh = now.predictions[shown["predictions"] :]
    if not fresh:
        return
    classes = now.classes or sorted({p.label for p in now.predictions})
    decoder.yaxis.ticker = list(range(len(classes)))
    decoder.yaxis.major_label_overrides = {i: c for i, c in enumerate(classes)}
    colors = {True: "#2e8b57", False: "#c00000", None: "#1f4e79"}
    rows = [classes.index(p.label) if p.label in classes else -1 for p in fresh]
    source.stream({"x": [p.time_s - now.zero_s for p in fresh], "y": rows,
                   "label": [p.label for p in fresh], "color": [colors[p.correct] for p in fresh]})  # fmt: skip
    shown["predictions"] = len(now.predictions)
    judged = [p.correct for p in now.predictions if p.correct is not None]
    said = f"{np.mean(judged):.2f} over {len(judged)}" if judged else "n/a"
    last = now.predictions[-1]
    accuracy.text = (
        f"{len(now.predictions)} predictions; last: {last.label} (p={last.probability:.2f}); running accuracy {said}"
    )


def _simulation(now: Snapshot, source, raster, shown: dict) -> None:
    if now.simulating is not None and now.frame % STATUS_EVERY == 0:
        done, asked = now.simulating
        raster.title.text = f"simulating: {done:.2f} of {asked:g} s ({done / asked:.0%})"
        shown["simulation"] = None  # the result, when it comes, is drawn anew
    if now.simulation is None or now.simulation is shown["simulation"] or now.simulating is not None:
        return
    raster_now = now.simulation
    keep = slice(None, None, max(1, len(raster_now.times_s) // 50_000))  # the browser draws up to ~50k spikes
    source.data = {"x": np.asarray(raster_now.times_s)[keep], "y": np.asarray(raster_now.ids)[keep]}
    raster.title.text = raster_now.title
    shown["simulation"] = now.simulation
