"""Storage errors a user can act on (shown as one line by the shell)."""


class StorageError(Exception):
    user_error = True
