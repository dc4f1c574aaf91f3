"""The installed neuroshell's version, as the files it writes and ``neuroshell --version`` report it."""


def neuroshell_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("neuroshell")
    except PackageNotFoundError:
        return "unknown"
