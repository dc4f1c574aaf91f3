"""A connected device and what its signal feeds, in one place: the raw signal's listeners (the recording), the
online filter chain, and the followers of the signal (a decoder, the live view's feeds)."""

from typing import Any

import numpy as np
from loguru import logger

from neuroshell.devices.base import Device
from neuroshell.filters.chain import ChainSpec
from neuroshell.filters.online import OnlineFilter


class LivePipeline:
    """``device``'s signal path. Raw listeners (``add_listener``: a recording) hear every block as the device
    gives it, first. Followers hear the filtered signal while a chain runs (``unit_samples``: float64 in the
    channels' units) and the raw one otherwise (``samples``: the source's own format), with its markers and
    gaps. The chain changes under them in one step (``set_filter``), so no block reaches a follower twice or
    not at all; ``close`` is the one teardown (the decoder stopped, the device closed).

    The pipeline is the device's listener; lists are replaced, never changed in place, because the device's
    reader thread walks them while the prompt changes them."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.filter: OnlineFilter | None = None
        self.followers: list = []
        self.raw_listeners: list = []
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

    def add_listener(self, listener) -> None:
        """Hand ``listener`` (a ``devices.base.DeviceListener``, e.g. a recording) the raw signal."""
        self.raw_listeners = [*self.raw_listeners, listener]

    def remove_listener(self, listener) -> None:
        self.raw_listeners = [item for item in self.raw_listeners if item is not listener]

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
        self.followers, self.raw_listeners = [], []
        self.device.remove_listener(self)
        self.device.close()

    # The device's listener: called from its reader thread.
    def samples(self, device: Device, data: np.ndarray, times: np.ndarray) -> None:
        _each(self.raw_listeners, "samples", device, data, times)
        online, followers = self.filter, self.followers
        if online is None:
            _each(followers, "samples", device, data, times)
        else:  # filtered even with no follower: monitor shows the chain's recent samples
            _each(followers, "unit_samples", device, online.process(device, data, times), times)

    def gap(self, device: Device, start_s: float, stop_s: float) -> None:
        _each(self.raw_listeners, "gap", device, start_s, stop_s)
        online = self.filter
        if online is not None:
            online.reset()
        _each(self.followers, "gap", device, start_s, stop_s)

    def marker(self, device: Device, time_s: float, label: str) -> None:
        _each([*self.raw_listeners, *self.followers], "marker", device, time_s, label)

    def clock_offset(self, device: Device, local_time_s: float, offset_s: float) -> None:
        _each(self.raw_listeners, "clock_offset", device, local_time_s, offset_s)


def _each(listeners: list, method: str, device: Device, *args) -> None:
    """Call ``method`` of every listener; one that fails is logged and never stops the others (a decoder's
    error must not cost the recording a block, nor the recording's the decoder)."""
    for listener in listeners:
        try:
            getattr(listener, method)(device, *args)
        except Exception as error:
            logger.opt(exception=error).error("{}: {} failed in {}", device.name, method, type(listener).__name__)
