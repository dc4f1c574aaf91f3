"""A recording of live devices: every chosen device into one file on one clock, plus the session's markers.
``LiveRecording`` is the bridge from the devices to the file's writer (``storage.recorder.Recorder``)."""

import threading
from collections.abc import Callable
from pathlib import Path

from loguru import logger

from neuroshell.common.words import counted
from neuroshell.devices.base import Device
from neuroshell.storage.layout import clock_zero_unix_s
from neuroshell.storage.recorder import Recorder, RecorderStats
from neuroshell.storage.records import MarkerItem


class LiveRecording:
    """Listens to devices and hands their blocks, markers, gaps and clock offsets to a Recorder.

    When the recorder stops by itself (disk full, a failing write) the recording lets go of the devices,
    which stay connected, and ``notify(message)`` tells the user; ``notify(summary, False)`` when
    ``duration_s`` ends it. ``on_end(path)`` is called once, however it ends (stopped, timed, a fault).
    """

    def __init__(
        self,
        path: Path,
        devices: list[Device],
        clock,
        *,
        flush_interval_s: float = 1.0,
        queue_blocks: int = 4096,
        overwrite: bool = False,
        compression: str | None = None,
        duration_s: float | None = None,
        min_free_bytes: float = 0.0,
        notify: Callable[..., None] | None = None,
        filter_chains: dict[str, str] | None = None,
        on_end: Callable[[Path], None] | None = None,
        sources: list | None = None,
    ) -> None:
        self.path = Path(path)
        self.on_end = on_end
        self._ended = False
        self.lost_at_end: dict[str, float] = {}  # devices lost and not back at the end: since when (session s)
        self.typed_markers: list[MarkerItem] = []  # what mark() wrote, for the live view
        self.clock = clock
        self.devices = list(devices)
        # What it listens to for each device: the device itself, or what hands on its raw signal (the
        # session's filters.pipeline.LivePipeline); either has add_listener and remove_listener.
        self.sources = list(sources) if sources is not None else list(self.devices)
        self.notify = notify
        self.fault: str | None = None
        data_devices = [d for d in self.devices if d.spec.n_channels > 0]
        self.recorder = Recorder(
            self.path,
            [d.spec for d in data_devices],
            clock,
            flush_interval_s=flush_interval_s,
            queue_blocks=queue_blocks,
            overwrite=overwrite,
            compression=compression,
            min_free_bytes=min_free_bytes,
            on_stop=self._recorder_stopped,
            filter_chains=filter_chains,
        )
        self.streams = {d.name for d in data_devices}
        self.started = clock()
        self.clock_zero_unix_s = clock_zero_unix_s(clock)  # for wall-clock times a person reads
        self.final: RecorderStats | None = None
        self.stopped_at: float | None = None
        self._lock = threading.Lock()
        self._timer = None
        for source in self.sources:
            source.add_listener(self)
        self.summary_shown = False  # told the user already (a timed end), so `record stop` need not repeat it
        if duration_s is not None:
            self._timer = threading.Timer(duration_s, self._stop_on_time)
            self._timer.daemon = True
            self._timer.start()

    @property
    def running(self) -> bool:
        return self.final is None and self.fault is None

    def _recorder_stopped(self, reason: str) -> None:
        """Called from the writer thread when it stopped by itself: keep the devices, say what happened."""
        self.fault = reason
        self.stopped_at = self.clock()
        for source in self.sources:
            source.remove_listener(self)
        logger.info("recording stopped: {}", reason)
        self._end()
        if self.notify is not None:
            self.notify(f"{reason}; devices stay connected; {self.summary()}")

    # DeviceListener: called from device reader threads.
    def samples(self, device: Device, data, times) -> None:
        if device.name in self.streams:
            self.recorder.put(device.name, data, times)

    def marker(self, device: Device, time_s: float, label: str) -> None:
        if self.running:
            self.recorder.mark(time_s, label, device.name)

    def gap(self, device: Device, start_s: float, stop_s: float) -> None:
        if device.name in self.streams:
            self.recorder.gap(device.name, start_s, stop_s)

    def clock_offset(self, device: Device, local_time_s: float, offset_s: float) -> None:
        if device.name in self.streams and self.running:
            self.recorder.clock_offset(device.name, local_time_s, offset_s)

    def filter_changed(self, device_name: str, chain_json: str, time_s: float | None = None) -> None:
        """Note in the file that ``device_name``'s online filter chain changed at ``time_s`` (default: now);
        its data stay raw."""
        if device_name in self.streams and self.running:
            self.recorder.filter_changed(device_name, self.clock() if time_s is None else time_s, chain_json)

    def mark(self, label: str, source: str = "user") -> float:
        """A marker now, on the session clock; returns its time."""
        when = self.clock()
        self.recorder.mark(when, label, source)
        self.typed_markers.append(MarkerItem(when, label, source))
        return when

    def _stop_on_time(self) -> None:
        self.summary_shown = self.notify is not None
        self.stop()
        if self.notify is not None:  # the session's notice line: shown at once, or before the next prompt
            self.notify(self.summary(), False)

    def stop(self) -> RecorderStats:
        """Stop listening, write everything received, close the file. Safe to call twice."""
        with self._lock:
            if self.final is None:
                if self._timer is not None:
                    self._timer.cancel()
                for source in self.sources:
                    source.remove_listener(self)
                self._gaps_of_lost_devices()
                self.final = self.recorder.stop()
                self.stopped_at = self.stopped_at or self.clock()
                self._end()
            return self.final

    def _gaps_of_lost_devices(self) -> None:
        """A device lost and not back when the recording ends: its stream has no data from its last sample to
        the end, which the file says as a gap (the gap is written when a device returns, so never otherwise)."""
        end = self.clock()
        for device in self.devices:
            since = device.lost_since
            if since is not None and device.name in self.streams and self.fault is None:
                self.recorder.gap(device.name, since, end)
                self.lost_at_end[device.name] = since

    def _end(self) -> None:
        if not self._ended and self.on_end is not None:
            self._ended = True
            self.on_end(self.path)

    def stats(self) -> RecorderStats:
        return self.final or self.recorder.stats()

    def summary(self) -> str:
        """One line for the end of a recording: how long, to which file (and its size), samples and losses
        per stream, markers, gaps."""
        stats = self.stats()
        minutes, seconds = divmod((self.stopped_at or self.clock()) - self.started, 60)
        size = self.path.stat().st_size / 1e6 if self.path.exists() else 0.0
        streams = ", ".join(
            f"{name} {c.samples_written} samples ({c.samples_dropped} lost)" for name, c in stats.streams.items()
        )
        gaps = sum(c.gaps_written for c in stats.streams.values())
        lost = "".join(
            f"; {name} lost at t={since - self.started:.1f} s and not back by the end (a gap to the end)"
            for name, since in self.lost_at_end.items()
        )
        return (
            f"recorded {int(minutes)} min {seconds:.1f} s to {self.path} ({size:.1f} MB): {streams or 'no streams'}; "
            f"{counted(stats.markers_written, 'marker')}; {counted(gaps, 'gap')}{lost}"
        )

    def describe(self, short: bool = False) -> str:
        stats = self.stats()
        written = sum(s.samples_written for s in stats.streams.values())
        lost = sum(s.samples_dropped for s in stats.streams.values())
        elapsed = (self.stopped_at or self.clock()) - self.started
        if short:  # beside the toolbar's "rec:" label
            state = "" if self.running else (" FAILED" if self.fault else " done")
            return f"{self.path.name} {elapsed:.0f}s{state}"
        state = "recording to" if self.running else ("stopped by a fault: recording" if self.fault else "recorded")
        return f"{state} {self.path}: {written} samples, {counted(stats.markers_written, 'marker')}, {lost} dropped"
