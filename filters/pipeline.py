"""A connected device and what its signal feeds, in one place: the online filter chain and the followers of
the signal (a decoder, the live view's feeds). The recording listens to the device itself and keeps it raw."""

from typing import Any

import numpy as np

from neuroshell.devices.base import Device
from neuroshell.filters.chain import ChainSpec
from neuroshell.filters.online import OnlineFilter


class LivePipeline:
    """``device``'s signal path. Followers hear the filtered signal while a chain runs (``unit_samples``:
    float64 in the channels' units) and the raw one otherwise (``samples``: the source's own format), with its
    markers and gaps. The chain changes under them in one step (``set_filter``), so no block reaches a follower
    twice or not at all; ``close`` is the one teardown (the decoder stopped, the device closed).

    The pipeline is the device's listener; lists are replaced, never changed in place, because the device's
    reader thread walks them while the prompt changes them."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.filter: OnlineFilter | None = None
        self.followers: list = []
        self.decoding: Any = None  # a decoding.live.LiveDecoding while one runs on this device
        device.add_listener(self)

    @property
    def chain(self) -> ChainSpec | None:
        return self.filter.chain if self.filter is not None else None

    def describe(self) -> str:
        """``filtered (bandpass ...)`` or ``raw``: what the followers hear."""
        return f"filtered ({self.filter.chain.describe()})" if self.filter is not None else "raw"

    def set_filter(self, online: OnlineFilter | None) -> None:
        """Run ``online`` from the next block on (None: the raw signal again); its state starts from zero."""
        self.filter = online

    def follow(self, listener) -> None:
        self.followers = [*self.followers, listener]

    def unfollow(self, listener) -> None:
        self.followers = [item for item in self.followers if item is not listener]

    def attach_decoding(self, live: Any) -> None:
        """Decode this device's signal with ``live`` (a ``decoding.live.LiveDecoding``)."""
        self.decoding = live
        self.follow(live.decoder)

    def detach_decoding(self) -> dict | None:
        """Stop the decoder (if one runs); returns its figures (``DecoderOutputs.status``)."""
        live, self.decoding = self.decoding, None
        if live is None:
            return None
        self.unfollow(live.decoder)
        return live.finish()

    def close(self) -> None:
        """Stop the decoder, let go of the device and close it (a recording must have stopped first)."""
        self.detach_decoding()
        self.followers = []
        self.device.remove_listener(self)
        self.device.close()

    # The device's listener: called from its reader thread.
    def samples(self, device: Device, data: np.ndarray, times: np.ndarray) -> None:
        online, followers = self.filter, self.followers
        if online is None:
            for listener in followers:
                listener.samples(device, data, times)
            return
        filtered = online.process(device, data, times)
        for listener in followers:
            listener.unit_samples(device, filtered, times)

    def gap(self, device: Device, start_s: float, stop_s: float) -> None:
        online = self.filter
        if online is not None:
            online.reset()
        for listener in self.followers:
            listener.gap(device, start_s, stop_s)

    def marker(self, device: Device, time_s: float, label: str) -> None:
        for listener in self.followers:
            listener.marker(device, time_s, label)

    def clock_offset(self, device: Device, local_time_s: float, offset_s: float) -> None:
        pass
