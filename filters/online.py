"""A chain running on a live device: filters each block as it arrives (its state carried across blocks) and
keeps the last seconds filtered (what ``monitor`` shows). A ``filters.pipeline.LivePipeline`` runs it and
hands the filtered blocks on; the recording, a listener of its own, keeps the raw samples."""

import dataclasses

import numpy as np

from neuroshell.devices.base import Device, RecentSamples
from neuroshell.filters.chain import ChainSpec, ChainState, FilterError


class OnlineFilter:
    """``chain`` on ``device``'s stream since session time ``since_s``. ``first_time_s`` is the time of the
    first sample filtered (the state starts from zero there); ``on_start(first_time_s)`` is called with it
    once, from the device's reader thread."""

    def __init__(self, device: Device, chain: ChainSpec, since_s: float, on_start=None) -> None:
        spec = device.spec
        if not spec.sampling_rate_hz:
            raise FilterError(f"{device.name} has no regular rate: filters need one")
        self.device, self.chain, self.since_s = device, chain, since_s
        self.state = ChainState(chain, spec.sampling_rate_hz, spec.n_channels)
        # Filtered samples are in the channels' units already: stored as float64, read back as they are.
        self.recent = RecentSamples(dataclasses.replace(spec, dtype="float64", scale=1.0, offset=0.0))
        self.first_time_s: float | None = None
        self.on_start = on_start

    def process(self, device: Device, data: np.ndarray, times: np.ndarray) -> np.ndarray:
        """The block filtered: (n, n_channels) float64 in the channels' units."""
        filtered = self.state.process(device.spec.to_unit(data))
        if self.first_time_s is None:
            self.first_time_s = float(times[0])
            if self.on_start is not None:
                self.on_start(self.first_time_s)
        self.recent.add(filtered, times)
        return filtered

    def reset(self) -> None:
        """Across a gap the signal is not continuous: the filter starts afresh, as it did at the start."""
        self.state.reset()
