"""Storage errors a user can act on (shown as one line by the shell)."""

from neuroshell.common.errors import UserError


class StorageError(UserError):
    """A file that is missing, damaged, not neuroshell's, being recorded, or lacks what was asked for."""
