"""Verbs, one module per engine. Each module declares a ``verbs`` VerbSet; importing it must stay cheap
(engines are imported inside the verb functions), so the prompt comes up fast."""

from importlib import import_module

from neuroshell.sessions.registry import Registry

MODULES = (
    "core", "storage", "devices", "net", "simulate", "kernels", "datasets", "training", "plot", "formats", "sweep",
    "filters", "decode", "view",
)  # fmt: skip


def build_registry() -> Registry:
    """A registry with every verb module's verbs."""
    registry = Registry()
    for name in MODULES:
        import_module(f"neuroshell.sessions.verbs.{name}").verbs.install(registry)
    return registry
