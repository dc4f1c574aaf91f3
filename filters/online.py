"""A chain running on a live device: a device listener that filters each block as it arrives, keeps the last
seconds filtered (what ``monitor`` shows) and hands the filtered blocks on. The recording, a listener of its
own, keeps the raw samples."""

import dataclasses

import numpy as np

from neuroshell.devices.base import Device, RecentSamples
from neuroshell.filters.chain import ChainSpec, ChainState, FilterError


class OnlineFilter:
    """``chain`` on ``device``'s stream since session time ``since_s``; ``listeners`` get filtered blocks
    (``unit_samples(device, data (n, n_channels) float64 in the channels' units, times)``), markers and gaps.
    ``first_time_s`` is the time of the first sample filtered (the state starts from zero there);
    ``on_start(first_time_s)`` is called with it once, from the device's reader thread."""

    def __init__(self, device: Device, chain: ChainSpec, since_s: float, on_start=None) -> None:
        spec = device.spec
        if not spec.sampling_rate_hz:
            raise FilterError(f"{device.name} has no regular rate: filters need one")
        self.device, self.chain, self.since_s = device, chain, since_s
        self.state = ChainState(chain, spec.sampling_rate_hz, spec.n_channels)
        # Filtered samples are in the channels' units already: stored as float64, read back as they are.
        self.recent = RecentSamples(dataclasses.replace(spec, dtype="float64", scale=1.0, offset=0.0))
        self.listeners: list = []
        self.first_time_s: float | None = None
        self.on_start = on_start

    def add_listener(self, listener) -> None:
        self.listeners = [*self.listeners, listener]

    def remove_listener(self, listener) -> None:
        self.listeners = [item for item in self.listeners if item is not listener]

    def samples(self, device: Device, data: np.ndarray, times: np.ndarray) -> None:
        filtered = self.state.process(device.spec.to_unit(data))
        if self.first_time_s is None:
            self.first_time_s = float(times[0])
            if self.on_start is not None:
                self.on_start(self.first_time_s)
        self.recent.add(filtered, times)
        for listener in self.listeners:
            listener.unit_samples(device, filtered, times)

    def gap(self, device: Device, start_s: float, stop_s: float) -> None:
        # Across a gap the signal is not continuous: the filter starts afresh, as it did at the start.
        self.state.reset()
        for listener in self.listeners:
            listener.gap(device, start_s, stop_s)

    def marker(self, device: Device, time_s: float, label: str) -> None:
        for listener in self.listeners:
            listener.marker(device, time_s, label)

    def clock_offset(self, device: Device, local_time_s: float, offset_s: float) -> None:
        pass
