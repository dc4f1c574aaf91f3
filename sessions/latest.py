"""The session's latest result of a kind, for verbs given no target: the file just recorded is the one a
user plots next. A verb that takes it says which it took."""

from neuroshell.sessions.argtypes import H5Location
from neuroshell.sessions.errors import NeuroshellError

RECORDINGS = ("recording", "file")  # `record` and `import` make files with streams


def latest_location(session, kind: str, what: str, how: str) -> H5Location:
    """The newest ``FILE:/path`` this session wrote of ``kind`` (``simulation``, ``sweep``), or an error that
    says how to make or name one."""
    for made in reversed(session.outputs):
        if made.kind == kind:
            return H5Location(made.file, made.inside)
    raise NeuroshellError(f"no {what} made in this session yet: give one, or make one with {how}")


def latest_stream(session) -> H5Location:
    """The first stream of the newest recording (or import) of this session."""
    for made in reversed(session.outputs):
        if made.kind in RECORDINGS:
            with session.workspace.readable(made.file) as file:
                names = file.stream_names()
            if names:
                return H5Location(made.file, f"/streams/{names[0]}")
    raise NeuroshellError("no recording made in this session yet: give FILE:/streams/NAME, or record start FILE first")


def said(location: H5Location) -> str:
    return f" (the latest: {location})"
