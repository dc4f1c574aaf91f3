"""What a stream is, independent of where it comes from or goes (no HDF5 import here)."""

from dataclasses import dataclass, field
from typing import Any


@dataclass
class StreamSpec:
    """A stream's name, channels, units, sampling rate (Hz, 0 if irregular) and sample dtype."""

    name: str
    channel_names: list[str]
    sampling_rate_hz: float
    channel_units: list[str] | None = None
    dtype: str = "float32"
    source: str = "unknown"
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_channels(self) -> int:
        return len(self.channel_names)
