"""Session state, the verb registry and dispatcher, and command scripts."""

from neuroshell.sessions.errors import NeuroshellError, UsageError
from neuroshell.sessions.session import Session

__all__ = ["NeuroshellError", "Session", "UsageError"]
