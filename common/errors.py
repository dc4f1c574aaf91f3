"""The one kind of error a user can fix.

Raise a ``UserError`` (or a subclass: each engine has its own, e.g. ``StorageError``) when the user can act
on the message: a wrong name, a file that is not there, a device that does not answer. The shell shows its
message as one line, with no traceback (``--debug`` adds it), and the session stays as it was. Any other
exception is a bug: the shell says which verb failed and where the log with the traceback is.
"""


class UserError(Exception):
    """A failure the user can act on; its message is one line that says what was wrong and what to do."""


def did_you_mean(word: str, candidates) -> str:
    """`` (did you mean simulate?)`` for the closest of ``candidates`` to a mistyped ``word``, else ``""``."""
    from difflib import get_close_matches

    close = get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""
