"""Argument types for signals: channel selections (by name, index, range or type) and amplitude limits."""

from dataclasses import dataclass

from neuroshell.sessions.argtypes import ArgType
from neuroshell.sessions.errors import UsageError

# Channel types an item of --channels may name, and the MNE channel types each takes.
CHANNEL_TYPES = {
    "eeg": ("eeg",),
    "meg": ("mag", "grad"),
    "mag": ("mag",),
    "grad": ("grad",),
    "eog": ("eog",),
    "ecg": ("ecg",),
    "emg": ("emg",),
    "seeg": ("seeg",),
    "misc": ("misc",),
    "stim": ("stim",),
}


@dataclass
class ChannelSelection:
    """Channels as typed: a range ``first:stop`` of indices, or indices and names; ``indices(names)``
    resolves them against a stream's (or a population's) channels."""

    text: str
    first: int | None = None
    stop: int | None = None
    items: tuple[str, ...] = ()

    def indices(self, names: list[str], types: list[str] | None = None) -> list[int]:
        """The channel indices this selection names among ``names``; a clear error for any it cannot find.
        With the channels' ``types`` (MNE's: eeg, mag, grad, stim, ...), an item may be a type (``meg`` is
        mag and grad), which picks every channel of it."""
        if self.first is not None:
            if self.stop > len(names) or self.first >= len(names):
                raise UsageError(
                    f"--channels {self.text}: there are {len(names)} channels, 0:{len(names)} (the stop is excluded)"
                )
            return list(range(self.first, self.stop))
        chosen = []
        for item in self.items:
            if item.isdigit() and int(item) < len(names):
                chosen.append(int(item))
            elif item in names:
                chosen.append(names.index(item))
            elif types is not None and item.lower() in CHANNEL_TYPES:
                wanted = CHANNEL_TYPES[item.lower()]
                picked = [c for c, kind in enumerate(types) if kind in wanted]
                if not picked:
                    present = ", ".join(sorted(set(types))) or "none"
                    raise UsageError(f"--channels {item}: no channel of that type (types here: {present})")
                chosen += [c for c in picked if c not in chosen]
            else:
                last = f"{names[0]} .. {names[-1]}, or 0:{len(names)}" if names else "none"
                raise UsageError(f"--channels: no channel '{item}' (channels {last})")
        return chosen


@dataclass(eq=False)
class Channels(ArgType):
    """``0:16``, ``3,5,8`` or ``MEG001,MEG002``."""

    label: str = "CHANNELS"

    def convert(self, text: str) -> ChannelSelection:
        first, sep, stop = text.partition(":")
        if sep:
            if not (first.isdigit() and stop.isdigit()) or int(stop) <= int(first):
                raise UsageError(f"'{text}' is not a channel range: write FIRST:STOP, e.g. 0:16")
            return ChannelSelection(text, int(first), int(stop))
        items = tuple(part.strip() for part in text.split(",") if part.strip())
        if not items:
            raise UsageError("no channels given: e.g. 0:16, 3,5,8 or MEG001,MEG002")
        return ChannelSelection(text, items=items)

    def describe(self) -> str:
        return "a range 0:16, indices and names 3,5,MEG008, or types eeg, meg, mag, grad"


@dataclass(eq=False)
class Amplitudes(ArgType):
    """``100uV`` or ``100uV,3000fT`` -> {"V": 1e-4, "T": 3e-12}: limits in SI by dimension."""

    label: str = "AMPLITUDE"

    def convert(self, text: str) -> dict[str, float]:
        from neuroshell.sessions.units import split_quantity, unit_factor

        limits = {}
        for part in (p.strip() for p in text.split(",") if p.strip()):
            value, symbol = split_quantity(part)
            base, factor = unit_factor(symbol) if symbol else ("", 1.0)
            if base not in ("V", "T") or value <= 0:
                raise UsageError(f"'{part}': give a positive amplitude in volts or teslas, e.g. 100uV or 3000fT")
            limits[base] = value * factor
        if not limits:
            raise UsageError("give an amplitude, e.g. 100uV or 100uV,3000fT")
        return limits

    def describe(self) -> str:
        return "peak-to-peak limits, one per kind of channel: 100uV (EEG), 3000fT (magnetometers)"
