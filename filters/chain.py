"""A chain of filter stages for one stream: the description (plain data, JSON in files) apart from the state
that runs it (second-order sections and their memory).

Stages, in the order they run: ``reref`` (common average: each sample minus the mean over channels), then
the temporal ones (``highpass``, ``lowpass``, ``bandpass``: Butterworth; ``notch``: an IIR notch at a
frequency and its harmonics below Nyquist), each causal (scipy.signal.sosfilt with its state kept).
"""

import json
from dataclasses import asdict, dataclass, field

import numpy as np

from neuroshell.common.errors import UserError

ORDER = 4  # Butterworth order of high-, low- and band-pass stages
NOTCH_Q = 30.0  # quality factor of each notch: -3 dB width = frequency / Q
KINDS = ("highpass", "lowpass", "bandpass", "notch", "reref")


class FilterError(UserError):
    """A filter that cannot be built for this stream (a frequency at or above Nyquist, an unknown kind)."""


@dataclass(frozen=True)
class Stage:
    """One stage: ``kind`` and its frequencies in Hz (``low``, ``high``; a notch uses ``low`` as its base)."""

    kind: str
    low_hz: float | None = None
    high_hz: float | None = None

    def describe(self) -> str:
        if self.kind == "bandpass":
            return f"bandpass {self.low_hz:g}-{self.high_hz:g} Hz (order {ORDER})"
        if self.kind == "highpass":
            return f"highpass {self.low_hz:g} Hz (order {ORDER})"
        if self.kind == "lowpass":
            return f"lowpass {self.high_hz:g} Hz (order {ORDER})"
        if self.kind == "notch":
            return f"notch {self.low_hz:g} Hz and harmonics (Q {NOTCH_Q:g})"
        return "common average reference"


@dataclass(frozen=True)
class ChainSpec:
    """The stages of a chain, in the order given; JSON for files and for any reader who redoes them."""

    stages: tuple[Stage, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        return "; ".join(stage.describe() for stage in self.ordered()) or "none"

    def ordered(self) -> list[Stage]:
        """Spatial first (reref), then the temporal stages as given."""
        return sorted(self.stages, key=lambda stage: stage.kind != "reref")

    def to_json(self) -> str:
        return json.dumps({"stages": [asdict(s) for s in self.ordered()], "order": ORDER, "notch_q": NOTCH_Q})

    @classmethod
    def from_json(cls, text: str) -> "ChainSpec":
        """The chain ``to_json`` wrote (as a file keeps it)."""
        return cls(tuple(Stage(**stage) for stage in json.loads(text)["stages"]))

    def with_stage(self, stage: Stage) -> "ChainSpec":
        """This chain with ``stage`` added (replacing one of the same kind, except notches at other bases)."""
        kept = [s for s in self.stages if s.kind != stage.kind or (s.kind == "notch" and s.low_hz != stage.low_hz)]
        return ChainSpec((*kept, stage))


def sections(spec: ChainSpec, rate_hz: float) -> np.ndarray:
    """The chain's temporal stages as one (n_sections, 6) array of second-order sections."""
    from scipy import signal

    nyquist = rate_hz / 2
    parts = []
    for stage in spec.ordered():
        for frequency in (stage.low_hz, stage.high_hz):
            if frequency is not None and not 0 < frequency < nyquist:
                limit = f"Nyquist ({nyquist:g} Hz at {rate_hz:g} Hz)"
                raise FilterError(f"{stage.describe()}: {frequency:g} Hz must lie between 0 and {limit}")
        if stage.kind == "bandpass":
            if stage.low_hz >= stage.high_hz:
                raise FilterError(
                    f"bandpass {stage.low_hz:g}-{stage.high_hz:g} Hz: the low edge must be below the high"
                )
            parts.append(signal.butter(ORDER, [stage.low_hz, stage.high_hz], "bandpass", fs=rate_hz, output="sos"))
        elif stage.kind == "highpass":
            parts.append(signal.butter(ORDER, stage.low_hz, "highpass", fs=rate_hz, output="sos"))
        elif stage.kind == "lowpass":
            parts.append(signal.butter(ORDER, stage.high_hz, "lowpass", fs=rate_hz, output="sos"))
        elif stage.kind == "notch":
            harmonics = np.arange(stage.low_hz, nyquist, stage.low_hz)
            for frequency in harmonics[harmonics < nyquist * 0.98]:
                b, a = signal.iirnotch(frequency, NOTCH_Q, fs=rate_hz)
                parts.append(signal.tf2sos(b, a))
    return np.concatenate(parts) if parts else np.zeros((0, 6))


class ChainState:
    """A chain running on one stream: ``process`` filters a block (n, n_channels) of samples in their unit
    (float64) and keeps the sections' state for the next block; ``reset`` forgets it (after a gap)."""

    def __init__(self, spec: ChainSpec, rate_hz: float, n_channels: int) -> None:
        self.spec = spec
        self.sos = sections(spec, rate_hz)
        self.reref = any(stage.kind == "reref" for stage in spec.stages)
        self.n_channels = n_channels
        self.reset()

    def reset(self) -> None:
        self.zi = np.zeros((len(self.sos), 2, self.n_channels))

    def process(self, block: np.ndarray) -> np.ndarray:
        from scipy import signal

        out = np.asarray(block, dtype=np.float64)
        if self.reref:
            out = out - out.mean(axis=1, keepdims=True)
        if len(self.sos) and len(out):
            out, self.zi = signal.sosfilt(self.sos, out, axis=0, zi=self.zi)
        return out
