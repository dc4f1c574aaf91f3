"""Lab Streaming Layer inlets: resolve streams, read data in its own sample type with LSL clock
synchronisation, and read marker (string) streams into markers. LSL timestamps, once clock-synchronised,
are on the local LSL clock, which is the session clock. Regular streams are dejittered by neuroshell's
``StreamClock`` (the same for every device kind) rather than by liblsl, whose mean fit would place samples
late by the mean delay and may step."""

import threading
from dataclasses import dataclass

import numpy as np

from neuroshell.common.channels import declared_type
from neuroshell.devices.base import Device, DeviceError, DeviceLost
from neuroshell.devices.dejitter import StreamClock
from neuroshell.storage.spec import StreamSpec

OFFSET_INTERVAL_S = 5.0
PULL_TIMEOUT_S = 0.05
WAIT_S = 0.05  # how often connect lsl's wait for the search lets a Ctrl-C in


@dataclass
class LslStreamSummary:
    name: str
    type: str
    channels: int
    rate_hz: float
    format: str
    source_id: str
    hostname: str


def _pylsl():
    import pylsl

    return pylsl


def predicate(**properties: str | None) -> str:
    """An XPath predicate such as ``name='X' and type='Y'`` from the given stream properties."""
    parts = [f"{key}='{value}'" for key, value in properties.items() if value]
    return " and ".join(parts)


def resolve(timeout_s: float, **properties: str | None) -> list:
    """Stream infos matching the properties (name, type, source_id), waiting up to ``timeout_s``."""
    pylsl = _pylsl()
    query = predicate(**properties)
    if query:
        return pylsl.resolve_bypred(query, 1, timeout_s)
    return pylsl.resolve_streams(timeout_s)


def channel_format_name(channel_format: int) -> str:
    """The sample type of an LSL channel format: float32, float64, int8/16/32/64 or string."""
    pylsl = _pylsl()
    formats = {
        pylsl.cf_float32: "float32",
        pylsl.cf_double64: "float64",
        pylsl.cf_string: "string",
        pylsl.cf_int32: "int32",
        pylsl.cf_int16: "int16",
        pylsl.cf_int8: "int8",
        pylsl.cf_int64: "int64",
    }
    return formats.get(channel_format, "?")


def list_streams(timeout_s: float = 1.0) -> list[LslStreamSummary]:
    pylsl = _pylsl()
    return [
        LslStreamSummary(
            i.name(),
            i.type(),
            i.channel_count(),
            i.nominal_srate(),
            channel_format_name(i.channel_format()),
            i.source_id(),
            i.hostname(),
        )
        for i in pylsl.resolve_streams(timeout_s)
    ]


def _channel_labels(info, count: int) -> tuple[list[str], list[str], list[str]]:
    """Labels, units and MNE types of a stream's channels from its <desc><channels> (XDF's metadata
    conventions); a channel with no type takes its stream's (``EEG``)."""
    names, units, types = [], [], []
    channel = info.desc().child("channels").child("channel")
    while not channel.empty() and len(names) < count:
        names.append(channel.child_value("label") or f"ch{len(names):03d}")
        units.append(channel.child_value("unit") or "unknown")
        types.append(channel.child_value("type"))
        channel = channel.next_sibling()
    if len(names) != count:
        names, units, types = [f"ch{c:03d}" for c in range(count)], ["unknown"] * count, [""] * count
    return names, units, [declared_type(kind, info.type(), unit) for kind, unit in zip(types, units, strict=True)]


class LslDevice(Device):
    """One LSL stream, plus optionally its marker stream. A string stream is a marker-only device."""

    source = "lsl"

    def __init__(self, name: str, clock, info, marker_info=None) -> None:
        super().__init__(name, clock)
        self.info = info
        self.marker_info = marker_info
        self.inlet = None
        self.marker_inlet = None
        pylsl = _pylsl()
        self.markers_only = info.channel_format() == pylsl.cf_string
        rate = info.nominal_srate()
        # LSL numbers nothing, but its timestamps come from the source: a jump in them is a real one
        self.stream_clock = StreamClock(rate, numbered=False) if rate > 0 and not self.markers_only else None
        self.next_index = 0
        self._next_offset = 0.0

    def _open(self, info):
        pylsl = _pylsl()
        inlet = pylsl.StreamInlet(info, max_buflen=360, recover=False, processing_flags=pylsl.proc_clocksync)
        try:
            inlet.open_stream(timeout=5.0)
        except Exception as error:
            raise DeviceLost(f"cannot open LSL stream '{info.name()}': {error}") from None
        inlet.flush()  # start from fresh data: nothing buffered before connect
        return inlet

    def _connect(self) -> None:
        if self.state != "connecting":
            found = resolve(1.0, source_id=self.info.source_id()) if self.info.source_id() else []
            if not found:
                raise DeviceLost(f"LSL stream '{self.info.name()}' is not on the network")
            self.info = found[0]
        self.inlet = self._open(self.info)
        self.marker_inlet = self._open(self.marker_info) if self.marker_info is not None else None
        if self.spec is None:
            full = self.inlet.info(timeout=5.0)
            count = 0 if self.markers_only else full.channel_count()
            names, units, types = _channel_labels(full, count)
            self.spec = StreamSpec(
                self.name,
                names,
                full.nominal_srate(),
                units,
                dtype="float32" if self.markers_only else channel_format_name(full.channel_format()),
                source="lsl",
                info={
                    "lsl_name": full.name(),
                    "lsl_type": full.type(),
                    "lsl_source_id": full.source_id(),
                    "hostname": full.hostname(),
                },
                channel_types=types,
            )
        self._next_offset = 0.0
        self.next_index = 0
        if self.stream_clock is not None:
            self.stream_clock.reset()

    def _read(self) -> None:
        pylsl = _pylsl()
        try:
            if self.markers_only:
                self._pull_markers(self.inlet, PULL_TIMEOUT_S)
            else:
                data, times = self.inlet.pull_chunk(timeout=PULL_TIMEOUT_S, max_samples=65536, as_numpy=True)
                if len(times):
                    self._samples(np.asarray(data), np.asarray(times, dtype=np.float64))
            if self.marker_inlet is not None:
                self._pull_markers(self.marker_inlet, 0.0)
            now = self.clock()
            if now >= self._next_offset:
                self._next_offset = now + OFFSET_INTERVAL_S
                self._deliver_clock_offset(now, self.inlet.time_correction(timeout=1.0))
        except pylsl.util.LostError:
            raise DeviceLost(f"LSL stream '{self.info.name()}' is gone") from None
        except pylsl.util.TimeoutError:
            pass

    def _samples(self, data: np.ndarray, lsl_times: np.ndarray) -> None:
        n = len(lsl_times)
        if self.stream_clock is None:
            self._deliver_samples(data, self._irregular_times(lsl_times))
            return
        placed = self.stream_clock.place(self.next_index, n, lsl_times)
        self.next_index += n
        self._deliver_samples(data, placed.times, placed.gap)

    def _pull_markers(self, inlet, timeout_s: float) -> None:
        samples, times = inlet.pull_chunk(timeout=timeout_s)
        for sample, time_s in zip(samples, times, strict=True):
            self._deliver_marker(float(time_s), str(sample[0]))

    def _disconnect(self) -> None:
        for inlet in (self.inlet, self.marker_inlet):
            if inlet is not None:
                inlet.close_stream()
        self.inlet = self.marker_inlet = None


def connect_lsl(device_name: str, clock, timeout_s: float, properties: dict[str, str]) -> LslDevice:
    """Resolve one stream by its properties (name, type, source_id) and connect to it as ``device_name``.
    liblsl searches in a helper thread while this one waits in short joins: a Ctrl-C reaches Python only
    between calls into liblsl, whose search (here at least 5 s, whatever the timeout) it would otherwise wait
    for."""
    found: list = []
    done = threading.Event()

    def search() -> None:
        try:
            found.extend(resolve(timeout_s, **properties))
        finally:
            done.set()

    threading.Thread(target=search, name="lsl resolve", daemon=True).start()
    while not done.wait(WAIT_S):  # an Event, not Thread.join, which a Ctrl-C can leave half done
        pass
    query = predicate(**properties) or "any stream"
    if not found:
        raise DeviceError(f"no LSL stream matching {query} found within {timeout_s:g} s (see 'lsl streams')")
    if len(found) > 1:
        names = ", ".join(f"{i.name()} ({i.type()})" for i in found)
        raise DeviceError(f"{len(found)} LSL streams match {query}: {names}; add name=... or type=...")
    return LslDevice(device_name, clock, found[0]).start()
