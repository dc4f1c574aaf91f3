"""What a stream is, independent of where it comes from or goes (no HDF5 import here)."""

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class StreamSpec:
    """A stream's name, channels, units, sampling rate (Hz, 0 if irregular) and sample dtype.

    Samples are kept in the source's own ``dtype`` (raw ADC counts stay integers); ``scale`` and ``offset``
    (one number, or one per channel) turn them into the channel's unit: value = sample * scale + offset.
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

    @property
    def n_channels(self) -> int:
        return len(self.channel_names)

    @property
    def is_scaled(self) -> bool:
        """Whether samples need ``scale`` and ``offset`` (or a conversion to float) to be in their unit."""
        plain = np.all(np.asarray(self.scale) == 1.0) and np.all(np.asarray(self.offset) == 0.0)
        return not plain or np.dtype(self.dtype).kind != "f"

    def channel_types(self) -> list[str]:
        """MNE's channel type of each channel: as an imported file recorded them, else from the unit (fT,
        pT, T: mag; fT/cm: grad; volts: eeg; anything else: misc)."""
        recorded = self.info.get("mne_channel_types")
        if recorded is not None and len(recorded) == self.n_channels:
            return [kind.decode() if isinstance(kind, bytes) else str(kind) for kind in recorded]
        by_unit = {"fT": "mag", "pT": "mag", "T": "mag", "fT/cm": "grad", "T/m": "grad"}
        by_unit |= {unit: "eeg" for unit in ("V", "mV", "uV", "µV", "microvolts", "nV")}
        return [by_unit.get(unit, "misc") for unit in self.channel_units or ["misc"] * self.n_channels]

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
