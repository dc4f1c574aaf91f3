"""Errors a user sees as one clear line: the session's own, on the shared ``UserError`` base."""

from neuroshell.common.errors import UserError


class NeuroshellError(UserError):
    """A failure the user can act on; its message is shown as one line, without a traceback."""


class UsageError(NeuroshellError):
    """A command line that does not match its verb's declaration."""


class ScriptError(NeuroshellError):
    """A script line failed; the message carries FILE:LINE."""
