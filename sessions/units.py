"""Quantities with units, parsed once for every verb: ``250ms`` -> 0.25 (seconds).

Every quantity is returned as a float in the SI base unit of its dimension (s, Hz, V, A, S, F, Ohm),
so engines only ever see plain SI numbers; amounts of data are in bytes (``500MB``).
"""

import math
import re

from neuroshell.sessions.errors import UsageError

PREFIXES = {
    "G": 1e9,
    "M": 1e6,
    "k": 1e3,
    "": 1.0,
    "m": 1e-3,
    "u": 1e-6,
    "µ": 1e-6,
    "n": 1e-9,
    "p": 1e-12,
    "f": 1e-15,
}

# Base symbol of each unit this language knows, and a few aliases (min, h) with their factor to SI.
BASE_UNITS = {"s": "s", "Hz": "Hz", "V": "V", "A": "A", "S": "S", "F": "F", "Ohm": "Ohm", "B": "B", "T": "T"}
ALIASES = {"min": ("s", 60.0), "h": ("s", 3600.0)}
EXAMPLES = {
    "s": "250ms",
    "Hz": "10Hz",
    "V": "-65mV",
    "A": "1nA",
    "S": "10nS",
    "F": "200pF",
    "Ohm": "100MOhm",
    "B": "500MB",
    "T": "3000fT",
}

_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-zµ]*)\s*$")


def split_quantity(text: str) -> tuple[float, str]:
    """Split ``"-65mV"`` into ``(-65.0, "mV")``; raise UsageError when it is not a number with a unit."""
    match = _QUANTITY.match(text)
    if not match:
        raise UsageError(f"'{text}' is not a number (with an optional unit, e.g. 10ms)")
    value = float(match.group(1))
    if not math.isfinite(value):
        raise UsageError(f"'{text}' is too large: give a finite number")
    return value, match.group(2)


def unit_factor(symbol: str) -> tuple[str, float]:
    """Return the base unit and the factor to SI of a unit symbol such as ``ms`` or ``kHz``."""
    if symbol in ALIASES:
        return ALIASES[symbol]
    for base in sorted(BASE_UNITS, key=len, reverse=True):
        if symbol.endswith(base):
            prefix = symbol[: -len(base)]
            if prefix in PREFIXES:
                return base, PREFIXES[prefix]
    raise UsageError(f"unknown unit '{symbol}'")


SPELLED_OUT = {"s": ("seconds", "second", "secs", "sec")}  # what people type for a unit's symbol


def closest_unit(symbol: str, unit: str) -> str | None:
    """The symbol of ``unit``'s dimension that a mistyped ``symbol`` most likely meant (``hz`` -> ``Hz``,
    ``msec`` -> ``ms``, ``10sec`` -> ``10s``), or None."""
    from difflib import get_close_matches

    candidates = [prefix + unit for prefix in PREFIXES if prefix != "µ"]
    candidates += [alias for alias, (base, _) in ALIASES.items() if base == unit]
    lowered = symbol.lower()
    for spelled in SPELLED_OUT.get(unit, ()):
        if lowered.endswith(spelled) and symbol[: -len(spelled)] + unit in candidates:
            return symbol[: -len(spelled)] + unit
    same_letters = [c for c in candidates if c.lower() == lowered]
    if same_letters:  # mv: the prefix as typed (milli), the unit's own case
        kept_prefix = [c for c in same_letters if c[: len(c) - len(unit)] == symbol[: len(symbol) - len(unit)]]
        return (kept_prefix or same_letters)[0]
    close = get_close_matches(symbol, candidates, n=1, cutoff=0.5)
    return close[0] if close else None


def parse_quantity(text: str, unit: str, *, allow_bare: bool = False) -> float:
    """Parse ``text`` as a quantity of ``unit`` (a base symbol such as ``"s"``), returned in SI.

    A bare number is accepted only when ``allow_bare`` is set, and is then read in the base unit.
    """
    value, symbol = split_quantity(text)
    example = EXAMPLES.get(unit, f"1{unit}")
    if not symbol:
        if allow_bare:
            return value
        raise UsageError(f"'{text}' needs a unit: expected {unit_name(unit)}, e.g. {example}")
    try:
        base, factor = unit_factor(symbol)
    except UsageError:
        close = closest_unit(symbol, unit)
        guess = f" (did you mean {text[: len(text) - len(symbol)]}{close}?)" if close else ""
        raise UsageError(f"unknown unit in '{text}': expected {unit_name(unit)}, e.g. {example}{guess}") from None
    if base != unit:
        raise UsageError(f"wrong unit in '{text}': expected {unit_name(unit)}, e.g. {example}")
    return value * factor


def unit_name(unit: str) -> str:
    """What a base unit measures, for messages: ``s`` -> ``a time (s)``."""
    names = {
        "s": "a time (s)",
        "Hz": "a frequency (Hz)",
        "V": "a voltage (V)",
        "A": "a current (A)",
        "S": "a conductance (S)",
        "F": "a capacitance (F)",
        "Ohm": "a resistance (Ohm)",
        "B": "an amount of data (B)",
        "T": "a magnetic field (T)",
    }
    return names.get(unit, unit)
