"""Argument types: how a word typed at the prompt becomes a value, and what completes it."""

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neuroshell.common.errors import did_you_mean
from neuroshell.common.words import format_quantity
from neuroshell.sessions.errors import UsageError
from neuroshell.sessions.units import EXAMPLES, parse_quantity, split_quantity, unit_factor, unit_name


@dataclass(eq=False)
class ArgType:
    """A plain word; subclasses convert and validate."""

    label: str = "TEXT"
    completes: str | None = None  # "file", "h5" or "choice": what the completer offers

    def convert(self, text: str) -> Any:
        return text

    def describe(self) -> str:
        return self.label

    def shown(self, value: Any) -> str:
        """A value of this type written as a user would type it (for defaults in help)."""
        if isinstance(value, str):
            return value
        if isinstance(value, list | tuple):
            return ",".join(
                self.shown(item) if isinstance(item, str) else f"{item:g}" if isinstance(item, float) else str(item)
                for item in value
            )
        if isinstance(value, float):
            return f"{value:g}"
        return str(value)


@dataclass(eq=False)
class Int(ArgType):
    """A whole number, optionally bounded below."""

    label: str = "N"
    minimum: int | None = None
    maximum: int | None = None

    def convert(self, text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise UsageError(f"'{text}' is not a whole number") from None
        if self.minimum is not None and value < self.minimum:
            raise UsageError(f"{value} is too small: the least allowed is {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise UsageError(f"{value} is too large: the most allowed is {self.maximum}")
        return value


@dataclass(eq=False)
class ThreadCount(ArgType):
    """``auto`` or a whole number of threads, at least 1."""

    label: str = "N|auto"

    def convert(self, text: str) -> int | str:
        if text == "auto":
            return text
        if not text.isdigit() or int(text) < 1:
            raise UsageError(f"'{text}' is not a thread count: give a whole number from 1, or auto")
        return int(text)


@dataclass(eq=False)
class Float(ArgType):
    """A finite number, optionally bounded below."""

    label: str = "X"
    minimum: float | None = None

    def convert(self, text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise UsageError(f"'{text}' is not a number") from None
        if not math.isfinite(value):
            raise UsageError(f"'{text}' is not a finite number")
        if self.minimum is not None and value < self.minimum:
            raise UsageError(f"{value:g} is too small: the least allowed is {self.minimum:g}")
        return value


@dataclass(eq=False)
class Quantity(ArgType):
    """A number with a unit, converted to SI (seconds, hertz, volts, amperes, ...)."""

    unit: str = "s"
    label: str = "QUANTITY"
    positive: bool = False
    allow_bare: bool = False
    minimum: float | None = None

    def convert(self, text: str) -> float:
        value = parse_quantity(text, self.unit, allow_bare=self.allow_bare)
        if self.positive and value <= 0:
            raise UsageError(f"'{text}' must be greater than zero")
        if self.minimum is not None and value < self.minimum:
            raise UsageError(f"'{text}' must be at least {format_quantity(self.minimum, self.unit)}")
        return value

    def describe(self) -> str:
        return f"{unit_name(self.unit)}, e.g. {EXAMPLES.get(self.unit, '1' + self.unit)}"

    def shown(self, value: Any) -> str:
        return value if isinstance(value, str) else format_quantity(value, self.unit)


@dataclass(eq=False)
class Weight(ArgType):
    """A synaptic weight in one of several units: returns (SI value, base unit), e.g. (0.00027, "V")."""

    units: tuple[str, ...] = ("V", "A", "S")
    label: str = "WEIGHT"

    def convert(self, text: str) -> tuple[float, str]:
        value, symbol = split_quantity(text)
        if not symbol:
            raise UsageError(f"'{text}' needs a unit ({'/'.join(self.units)}), e.g. 0.27mV, 1nA or 6nS")
        base, factor = unit_factor(symbol)
        if base not in self.units:
            raise UsageError(f"wrong unit in '{text}': expected one of {', '.join(self.units)}")
        return value * factor, base

    def describe(self) -> str:
        return "a weight in " + " or ".join(self.units)

    def shown(self, value: Any) -> str:
        return value if isinstance(value, str) else format_quantity(*value)


@dataclass(eq=False)
class Choice(ArgType):
    """One of a fixed set of words."""

    choices: tuple[str, ...] = ()
    label: str = "CHOICE"
    completes: str | None = "choice"

    def convert(self, text: str) -> str:
        if text not in self.choices:
            raise UsageError(f"'{text}' is not one of: {', '.join(self.choices)}{did_you_mean(text, self.choices)}")
        return text

    def describe(self) -> str:
        return "|".join(self.choices)


@dataclass(eq=False)
class LiveChoice(ArgType):
    """A choice among names read when needed, so names registered while the shell runs (a neuron model
    added by a module) are offered, checked and completed like the rest."""

    source: Callable[[], Iterable[str]] = tuple
    label: str = "CHOICE"
    completes: str | None = "choice"

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(self.source())

    def convert(self, text: str) -> str:
        return Choice(choices=self.choices).convert(text)

    def describe(self) -> str:
        return "|".join(self.choices)


@dataclass(eq=False)
class SessionName(ArgType):
    """The name of something the session holds (``kind``: population, dataset, model, device); completed
    from the session's live names, checked by the verb that uses it."""

    kind: str = "population"
    label: str = "NAME"

    def __post_init__(self) -> None:
        self.completes = f"session:{self.kind}"


@dataclass(eq=False)
class Bool(ArgType):
    """on/off (also true/false, yes/no, 1/0)."""

    label: str = "on|off"
    completes: str | None = "choice"
    choices: tuple[str, ...] = ("on", "off")

    def convert(self, text: str) -> bool:
        lowered = text.lower()
        if lowered in ("on", "true", "yes", "1"):
            return True
        if lowered in ("off", "false", "no", "0"):
            return False
        raise UsageError(f"'{text}' is not on/off")


def checking_script() -> bool:
    """Whether a script is being read through before it runs (``scriptcheck``): its files may not exist yet."""
    from neuroshell.sessions.scriptcheck import CHECKING

    return CHECKING.get()


@dataclass(eq=False)
class FilePath(ArgType):
    """A path on disk (``~`` expanded); completes file names (with ``suffixes``: folders, files with one of
    them, and the name being typed with each of them)."""

    label: str = "FILE"
    completes: str | None = "file"
    must_exist: bool = False
    suffixes: tuple[str, ...] = ()

    def convert(self, text: str) -> Path:
        path = Path(text).expanduser()
        if self.must_exist and not path.exists() and not checking_script():
            raise UsageError(f"no such file: {text}")
        return path


@dataclass
class H5Location:
    """A place inside an HDF5 file, written ``FILE:/group/dataset`` at the prompt."""

    file: str
    path: str = "/"

    def __str__(self) -> str:
        return f"{self.file}:{self.path}"


def split_h5_location(text: str) -> H5Location:
    """``"rec.h5:/streams/sim"`` -> H5Location("rec.h5", "/streams/sim"); a bare file means its root."""
    head, sep, tail = text.rpartition(":")
    if sep and tail.startswith("/") and head:
        return H5Location(head, tail.rstrip("/") or "/")
    return H5Location(text, "/")


@dataclass(eq=False)
class H5Path(ArgType):
    """``FILE:/group/dataset``; with ``under`` (e.g. ``/streams/``), the path must lie below it."""

    label: str = "FILE:/PATH"
    completes: str | None = "h5"
    under: str | None = None

    def convert(self, text: str) -> H5Location:
        location = split_h5_location(text)
        if self.under and not location.path.startswith(self.under):
            raise UsageError(f"'{text}' is not under {self.under}: give FILE:{self.under}NAME")
        return location


@dataclass(eq=False)
class Span(ArgType):
    """``START:STOP`` quantities (``-100ms:500ms``) -> (start, stop) in SI, the stop after the start."""

    unit: str = "s"
    label: str = "START:STOP"

    def convert(self, text: str) -> tuple[float, float]:
        first, sep, last = text.partition(":")
        if not sep:
            raise UsageError(f"'{text}' is not a span: write START:STOP, e.g. {_span_example(self.unit)}")
        start, stop = parse_quantity(first, self.unit), parse_quantity(last, self.unit)
        if not stop > start:
            raise UsageError(f"'{text}': the end must come after the start")
        return start, stop

    def describe(self) -> str:
        return f"START:STOP, {unit_name(self.unit)} each, e.g. {_span_example(self.unit)}"


def _span_example(unit: str) -> str:
    return "-100ms:500ms" if unit == "s" else f"{EXAMPLES.get(unit, '1' + unit)}:{EXAMPLES.get(unit, '2' + unit)}"


@dataclass(eq=False)
class CsvList(ArgType):
    """Comma-separated items, each converted by ``item`` (text by default); ``length`` fixes how many."""

    item: ArgType | None = None
    length: int | None = None
    label: str = "A,B,..."
    meaning: str = ""  # what the values are, for the message when there are not ``length`` of them

    def convert(self, text: str) -> list[Any]:
        parts = [part.strip() for part in text.split(",") if part.strip()]
        if not parts:
            raise UsageError("give at least one item, comma-separated")
        if self.length is not None and len(parts) != self.length:
            raise UsageError(
                f"'{text}': give {self.length} comma-separated values{': ' if self.meaning else ''}{self.meaning}"
            )
        return [self.item.convert(part) if self.item else part for part in parts]

    def describe(self) -> str:
        inner = self.item.describe() if self.item else "text"
        return f"comma-separated: {inner}" + (f" ({self.length} of them)" if self.length else "")


@dataclass(eq=False)
class LabelledSpan(ArgType):
    """``START:STOP=LABEL`` -> (start, stop, label), the span in SI units."""

    unit: str = "s"
    label: str = "START:STOP=LABEL"

    def convert(self, text: str) -> tuple[float, float, str]:
        span, _, name = text.partition("=")
        if not name:
            raise UsageError(f"'{text}': write START:STOP=LABEL, e.g. 0s:1s=rest")
        return (*Span(unit=self.unit).convert(span), name)


@dataclass(eq=False)
class NeuronRef(ArgType):
    """``POP:INDEX`` -> (population, index): one neuron of a population."""

    label: str = "POP:INDEX"

    def convert(self, text: str) -> tuple[str, int]:
        population, _, index = text.partition(":")
        if not population or not index.isdigit():
            raise UsageError(f"'{text}': write POP:INDEX, e.g. exc:0")
        return population, int(index)


@dataclass(frozen=True)
class FromSetting:
    """An option's default read from a session setting when the line runs (``--seed`` from ``seed``)."""

    key: str

    def __str__(self) -> str:
        return f"the {self.key} setting"


TEXT = ArgType()


@dataclass(eq=False)
class SettingKey(ArgType):
    """The name of a setting; completes the declared keys."""

    label: str = "KEY"
    completes: str | None = "setting"


@dataclass(eq=False)
class VerbName(ArgType):
    """The name of a command; completes verbs."""

    label: str = "COMMAND"
    completes: str | None = "verb"
