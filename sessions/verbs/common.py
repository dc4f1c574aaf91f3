"""Argument helpers shared by several verb modules."""

from pathlib import Path

from neuroshell.sessions.errors import NeuroshellError
from neuroshell.sessions.units import parse_quantity


def parse_span(text: str, what: str) -> tuple[float, float]:
    """``-100ms:500ms`` -> (-0.1, 0.5)."""
    first, sep, last = text.partition(":")
    if not sep:
        raise NeuroshellError(f"{what} {text}: write START:STOP, e.g. -100ms:500ms")
    start, stop = parse_quantity(first, "s"), parse_quantity(last, "s")
    if stop <= start:
        raise NeuroshellError(f"{what} {text}: the end must come after the start")
    return start, stop


def channel_indices(text: str | None, names: list[str]) -> list[int] | None:
    """``0:16``, ``3,5,8`` or ``MEG001,MEG002`` -> channel indices; None selects every channel."""
    if not text:
        return None
    if ":" in text and all(part.isdigit() for part in text.split(":")):
        first, last = (int(v) for v in text.split(":"))
        chosen = list(range(first, min(last, len(names))))
        if not chosen:
            raise NeuroshellError(f"--channels {text}: the stream has {len(names)} channels")
        return chosen
    chosen = []
    for part in text.split(","):
        if part.isdigit() and int(part) < len(names):
            chosen.append(int(part))
        elif part in names:
            chosen.append(names.index(part))
        else:
            raise NeuroshellError(f"--channels: no channel '{part}' (channels {names[0]} .. {names[-1]})")
    return chosen


def source_path(session, location) -> Path:
    """The file of a ``FILE:/path`` location: an open file's path by its session name, or the path given."""
    return session.files[location.file].path if location.file in session.files else Path(location.file)
