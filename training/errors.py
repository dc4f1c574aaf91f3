"""Training errors a user can act on (shown as one line by the shell)."""

from neuroshell.common.errors import UserError


class TrainingError(UserError):
    """A dataset, model or recipe that cannot be used as asked."""
