"""Live health of a device: effective sample rate, losses, per-channel RMS, flat and saturated channels."""

from dataclasses import dataclass

import numpy as np

from neuroshell.devices.base import Device

SATURATION_FRACTION = 0.05  # share of a window stuck at the channel's extreme value


@dataclass
class ChannelHealth:
    name: str
    rms: float
    unit: str
    flag: str  # "" | "flat" | "saturated"


@dataclass
class Snapshot:
    device: str
    state: str
    nominal_rate_hz: float
    effective_rate_hz: float
    received: int
    lost: int
    corrupt: int
    reconnects: int
    channels: list[ChannelHealth]
    markers: list[tuple[float, str]]
    now_s: float  # the session clock when the snapshot was taken
    filtered: str = ""  # the filter chain the channels' figures are of ("" for the raw signal)


def snapshot(device: Device, window_s: float = 1.0, recent=None, filtered: str = "") -> Snapshot:
    """Health over the last ``window_s`` seconds of samples the device delivered (of ``recent``, a
    ``RecentSamples`` of the filtered signal, when given, with ``filtered`` naming its chain)."""
    spec = device.spec
    recent = recent if recent is not None else device.recent
    data, times = recent.last(window_s) if recent is not None else (np.zeros((0, 0)), np.zeros(0))
    effective = 0.0
    if len(times) > 1 and times[-1] > times[0]:
        effective = (len(times) - 1) / (times[-1] - times[0])
    channels = []
    if len(times):
        centred = data - data.mean(axis=0)
        rms = np.sqrt((centred**2).mean(axis=0))
        extreme = np.abs(data).max(axis=0)
        stuck = (np.abs(data) == extreme).mean(axis=0)
        for c, name in enumerate(spec.channel_names):
            flag = "flat" if np.ptp(data[:, c]) == 0 else ""
            if not flag and extreme[c] > 0 and stuck[c] >= SATURATION_FRACTION and len(times) >= 20:
                flag = "saturated"
            unit = spec.channel_units[c] if spec.channel_units else ""
            channels.append(ChannelHealth(name, float(rms[c]), unit, flag))
    return Snapshot(
        device.name,
        device.state,
        spec.sampling_rate_hz,
        effective,
        device.samples_received,
        device.samples_lost,
        device.corrupt_frames,
        device.reconnects,
        channels,
        list(device.recent_markers)[-5:],
        device.clock(),
        filtered,
    )
