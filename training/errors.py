"""Training errors a user can act on (shown as one line by the shell)."""


class TrainingError(Exception):
    user_error = True
