"""What a stream is, independent of where it comes from or goes (no HDF5 import here)."""

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neuroshell.common.channels import type_of_unit


@dataclass
class StreamSpec:
    """A stream's name, channels, units, types, sampling rate (Hz, 0 if irregular) and sample dtype.

    Samples are kept in the source's own ``dtype`` (raw ADC counts stay integers); ``scale`` and ``offset``
    (one number, or one per channel) turn them into the channel's unit: value = sample * scale + offset.
    ``channel_types`` are MNE's channel types (eeg, mag, grad, stim, ...); by default the units say them
    (``common.channels.type_of_unit``).
    """

    name: str
    channel_names: list[str]
    sampling_rate_hz: float
    channel_units: list[str] | None = None
    dtype: str = "float32"
    source: str = "unknown"
    info: dict[str, Any] = field(default_factory=dict)
    scale: float | list[float] = 1.0
    offset: float | list[float] = 0.0
    channel_types: list[str] | None = None

    def __post_init__(self) -> None:
        # A file written before channel types were kept: its import recorded MNE's types, else the units say.
        recorded = self.info.get("mne_channel_types")
        if self.channel_types is None and recorded is not None and len(recorded) == self.n_channels:
            self.channel_types = [kind.decode() if isinstance(kind, bytes) else str(kind) for kind in recorded]
        if self.channel_types is None:
            self.channel_types = [type_of_unit(unit) for unit in self.channel_units or ["unknown"] * self.n_channels]
        if len(self.channel_types) != self.n_channels:
            raise ValueError(f"{self.name}: {len(self.channel_types)} channel types for {self.n_channels} channels")

    @property
    def n_channels(self) -> int:
        return len(self.channel_names)

    @property
    def is_scaled(self) -> bool:
        """Whether samples need ``scale`` and ``offset`` (or a conversion to float) to be in their unit."""
        plain = np.all(np.asarray(self.scale) == 1.0) and np.all(np.asarray(self.offset) == 0.0)
        return not plain or np.dtype(self.dtype).kind != "f"

    def to_unit(self, samples: np.ndarray, channels: list[int] | None = None) -> np.ndarray:
        """Samples (n, n_channels), or (n, len(channels)) of the given channels, in the channels' units:
        float64 for scaled or integer streams; float streams with unit scale come back as they are."""
        if not self.is_scaled:
            return samples
        scale, offset = np.asarray(self.scale, np.float64), np.asarray(self.offset, np.float64)
        if channels is not None:
            scale = scale[channels] if scale.ndim else scale
            offset = offset[channels] if offset.ndim else offset
        return samples.astype(np.float64) * scale + offset
