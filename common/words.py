"""Counts and quantities said as a person says them: ``1 gap``, ``2 gaps``, ``250us``."""


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun, singular for exactly one (``plural`` where adding an s is wrong)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


_PREFIXES = {"G": 1e9, "M": 1e6, "k": 1e3, "": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9, "p": 1e-12}


def format_quantity(value: float, unit: str) -> str:
    """Format an SI value with a readable prefix: ``format_quantity(0.00025, "s") == "250us"``."""
    if value == 0:
        return f"0{unit}"
    for prefix in ("G", "M", "k", "", "m", "u", "n", "p"):
        scaled = value / _PREFIXES[prefix]
        if abs(scaled) >= 1:
            return f"{scaled:g}{prefix}{unit}"
    return f"{value:g}{unit}"


def shortened(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis, for a place that shows one line of it."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
