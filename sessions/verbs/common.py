"""Argument helpers shared by several verb modules."""

from pathlib import Path


def source_path(session, location) -> Path:
    """The file of a ``FILE:/path`` location: an open file's path by its session name, or the path given."""
    return session.files[location.file].path if location.file in session.files else Path(location.file)
