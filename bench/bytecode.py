"""Helpers shared by the benchmarks."""


def byte_compile_neuroshell() -> None:
    """Write neuroshell's .pyc files, as pip does for an installed package; an editable checkout with
    PYTHONDONTWRITEBYTECODE set would otherwise compile every module on every start."""
    import compileall
    import importlib.util

    for package in (
        "cli",
        "sessions",
        "neuron",
        "devices",
        "storage",
        "training",
        "formats",
        "sweeps",
        "filters",
        "decoding",
    ):
        spec = importlib.util.find_spec(f"neuroshell.{package}")
        for folder in spec.submodule_search_locations:
            compileall.compile_dir(folder, quiet=1)
