"""Replay a recorded stream (and its markers) as a live device, in real time or faster."""

import dataclasses

import numpy as np

from neuroshell.devices.base import Device, DeviceError
from neuroshell.storage.spec import StreamSpec

READ_INTERVAL_S = 0.02


class ReplayDevice(Device):
    """Plays ``/streams/<name>`` of a neuroshell file; sample times are mapped onto the session clock.

    A sample recorded at ``t`` plays at ``start + (t - t0) / speed``; with ``loop`` the stream starts over
    when it ends, continuing the session times. Samples keep their stored type, scale and offset, and the
    recording's gaps play as gaps.
    """

    source = "replay"

    def __init__(self, name: str, clock, path, stream: str, speed: float = 1.0, loop: bool = False) -> None:
        super().__init__(name, clock)
        if speed <= 0:
            raise DeviceError("--speed must be greater than zero")
        from neuroshell.storage.files import open_file

        self.file = open_file(path)
        self.view = self.file.stream(stream)
        if self.view.n_samples == 0:
            self.file.close()
            raise DeviceError(f"{path}:/streams/{stream} holds no samples to replay")
        self.speed, self.loop = speed, loop
        self.spec: StreamSpec = dataclasses.replace(
            self.view.spec, name=name, source="replay", info={"replay_of": f"{path}:/streams/{stream}"}
        )
        self.times = self.view.time[: self.view.n_samples]
        self.source_gaps = self.view.gaps()
        times, labels, _ = self.file.markers()
        inside = (times >= self.times[0]) & (times <= self.times[-1])
        self.marker_times, self.marker_labels = (
            times[inside],
            [lab for lab, ok in zip(labels, inside, strict=True) if ok],
        )
        self.position = 0
        self.base_time = 0.0
        self.start_clock = 0.0
        self.finished = False

    def _connect(self) -> None:
        self.start_clock = self.clock()

    def _session_time(self, recorded: np.ndarray) -> np.ndarray:
        return self.start_clock + (self.base_time + recorded - self.times[0]) / self.speed

    def _read(self) -> None:
        if self.finished:
            self._stop.wait(READ_INTERVAL_S)
            return
        elapsed = (self.clock() - self.start_clock) * self.speed - self.base_time
        stop = int(np.searchsorted(self.times, self.times[0] + elapsed, side="right"))
        if stop > self.position:
            data = self.view.data[self.position : stop]
            recorded = self.times[self.position : stop]
            last = recorded[-1]
            self._deliver_samples(np.asarray(data), self._session_time(recorded), self._gap_before(self.position))
            # Markers up to this block's end since the last one delivered: those inside a gap come too.
            after = -np.inf if self.position == 0 else self.times[self.position - 1]
            chosen = (self.marker_times > after) & (self.marker_times <= last)
            for when, label in zip(self.marker_times[chosen], np.array(self.marker_labels)[chosen], strict=True):
                self._deliver_marker(float(self._session_time(np.array([when]))[0]), str(label))
            self.position = stop
        if self.position >= len(self.times):
            if self.loop:
                period = 1.0 / self.spec.sampling_rate_hz if self.spec.sampling_rate_hz else 0.0
                self.base_time += self.times[-1] - self.times[0] + period
                self.position = 0
            else:
                self.finished = True
                self.state = "finished"
        self._stop.wait(READ_INTERVAL_S)

    def _gap_before(self, index: int) -> tuple[float, float] | None:
        """The recording's gap between sample ``index`` and the one before it, in session time."""
        if index == 0 or not len(self.source_gaps):
            return None
        before, after = self.times[index - 1], self.times[index]
        inside = (self.source_gaps[:, 0] >= before) & (self.source_gaps[:, 1] <= after)
        if not inside.any():
            return None
        start, stop = self._session_time(np.array([before, after]))
        return float(start), float(stop)

    def _disconnect(self) -> None:
        pass

    def close(self) -> None:
        super().close()
        self.file.close()
