"""Typed session settings: every key is declared once with its type, default and help."""

from dataclasses import dataclass
from typing import Any

from neuroshell.common.words import format_quantity
from neuroshell.sessions.argtypes import TEXT, ArgType, Bool, Choice, Int, Quantity, ThreadCount
from neuroshell.sessions.errors import UsageError


@dataclass
class Setting:
    """One setting: its key, type, default and help."""

    key: str
    type: ArgType
    default: Any
    help: str

    def format(self, value: Any) -> str:
        if isinstance(self.type, Quantity):
            return format_quantity(value, self.type.unit)
        if isinstance(self.type, Bool):
            return "on" if value else "off"
        return str(value)


DECLARED = (
    Setting("plot.dir", TEXT, "plots", "folder where plot files are written"),
    Setting("plot.format", Choice(choices=("png", "svg", "pdf")), "png", "file format of plots"),
    Setting("plot.show", Bool(), True, "also open plots in a window when a display exists"),
    Setting("storage.flush_interval", Quantity(unit="s", positive=True), 1.0, "longest time between flushes"),
    Setting("storage.compression", Choice(choices=("none", "lzf", "gzip")), "none", "compression of new streams"),
    Setting("record.queue_blocks", Int(minimum=16), 4096, "blocks the recorder queue holds before it drops"),
    Setting(
        "record.min_free",
        Quantity(unit="B", minimum=0),
        200e6,
        "a recording stops cleanly when its disk has less free space than this",
    ),
    Setting("lsl.timeout", Quantity(unit="s", positive=True), 5.0, "how long connect lsl looks for a stream"),
    Setting("sim.dt", Quantity(unit="s", positive=True), 1e-4, "simulation time step"),
    Setting(
        "sim.threads",
        ThreadCount(),
        "auto",
        "threads a simulation uses: auto (one or all cores, whichever runs faster now) or N (same spikes)",
    ),
    Setting("seed", Int(minimum=0), 0, "default random seed for simulations, splits and training"),
    Setting("sweep.scheduler", TEXT, "", "Dask scheduler sweeps run on (tcp://HOST:8786); empty: a local cluster"),
    Setting("torch.threads", Int(minimum=1), 1, "threads torch may use for training"),
    Setting("models.dir", TEXT, "models", "folder where trained models (safetensors + JSON) are saved"),
    Setting("color", Bool(), True, "coloured output on a terminal"),
)


class Settings:
    """The session's settings; unknown keys and wrongly typed values are clear errors."""

    def __init__(self) -> None:
        self.declared = {s.key: s for s in DECLARED}
        self.values: dict[str, Any] = {}

    def setting(self, key: str) -> Setting:
        """The declaration of ``key``; an unknown key is a clear error naming the close ones."""
        if key not in self.declared:
            near = [k for k in self.declared if k.split(".")[0] == key.split(".")[0]] or list(self.declared)
            raise UsageError(f"unknown setting '{key}' (known: {', '.join(near)})")
        return self.declared[key]

    def __getitem__(self, key: str) -> Any:
        setting = self.setting(key)
        return self.values.get(key, setting.default)

    def set(self, key: str, text: str) -> Any:
        """Set ``key`` from the text a user typed, converted by its type; returns the value."""
        value = self.convert(key, text)
        self.values[key] = value
        return value

    def convert(self, key: str, text: str) -> Any:
        """The value ``text`` gives ``key``, or a UsageError naming the key (nothing is set)."""
        setting = self.setting(key)
        try:
            return setting.type.convert(text)
        except UsageError as error:
            raise UsageError(f"{key}: {error}") from None

    def unset(self, key: str) -> None:
        """Return ``key`` to its default."""
        self.setting(key)
        self.values.pop(key, None)

    def rows(self, key: str | None = None) -> list[tuple[str, str, str]]:
        """(key, value, help) of one setting or of all, for the ``get`` table."""
        keys = [self.setting(key).key] if key else list(self.declared)
        return [(k, self.declared[k].format(self[k]), self.declared[k].help) for k in keys]
