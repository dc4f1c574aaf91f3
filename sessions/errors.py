"""Errors a user sees as one clear line."""


class NeuroshellError(Exception):
    """A failure the user can act on; its message is shown as one line, without a traceback."""


class UsageError(NeuroshellError):
    """A command line that does not match its verb's declaration."""


class ScriptError(NeuroshellError):
    """A script line failed; the message carries FILE:LINE."""
