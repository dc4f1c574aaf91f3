"""The network description as types: populations, projections (with their plasticity) and inputs, frozen and
in SI units. ``network.Network`` holds them and changes them only through its methods; each type reads and
writes the plain dict of the saved JSON (``to_dict`` / ``from_dict``), which stays as it was."""

from dataclasses import asdict, dataclass, field, fields
from types import MappingProxyType
from typing import Any


def _frozen_mapping(values: dict[str, float]) -> MappingProxyType:
    return MappingProxyType(dict(values))


@dataclass(frozen=True)
class Learned:
    """Weights a plastic projection ended a run with (its CSR order), and the seed whose connectivity they fit."""

    seed: int
    weights: tuple[float, ...]


@dataclass(frozen=True)
class Stdp:
    """Spike-timing-dependent plasticity (``neuron.plasticity``): trace time constants (s), jumps (fractions of
    ``wmax``), ``wmax`` (the projection's weight unit), ``rule`` (additive, multiplicative), ``w_init`` (fixed,
    uniform) and what a run ``learned``."""

    taupre_s: float
    taupost_s: float
    apre: float
    apost: float
    wmax: float
    rule: str
    w_init: str
    learned: Learned | None = None

    def to_dict(self) -> dict[str, Any]:
        found = {"kind": "stdp", **{f.name: getattr(self, f.name) for f in fields(self) if f.name != "learned"}}
        if self.learned is not None:
            found["learned"] = {"seed": self.learned.seed, "weights": list(self.learned.weights)}
        return found

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Stdp":
        learned = data.get("learned")
        kept = Learned(int(learned["seed"]), tuple(map(float, learned["weights"]))) if learned else None
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name != "learned"}, learned=kept)


@dataclass(frozen=True)
class PoissonInput:
    """``n_sources`` Poisson sources at ``rate_hz`` each, through synapses of ``weight`` (``weight_unit``)."""

    rate_hz: float
    n_sources: int = 1
    weight: float = 0.0
    weight_unit: str = "V"
    synapse: str = "exp"
    tau_s: float = 5e-3
    e_rev: float | None = None
    kind: str = field(default="poisson", init=False)


@dataclass(frozen=True)
class CurrentInput:
    """A current of ``amplitude_a`` (A) from ``start_s`` to ``stop_s`` (None: to the end)."""

    amplitude_a: float
    start_s: float = 0.0
    stop_s: float | None = None
    kind: str = field(default="current", init=False)


@dataclass(frozen=True)
class StreamInput:
    """A recorded stream's ``channels`` (None: all) as currents, each standardised and scaled by ``scale_a``."""

    file: str
    stream: str
    channels: tuple[int, ...] | None = None
    scale_a: float = 1e-9
    kind: str = field(default="stream", init=False)


Input = PoissonInput | CurrentInput | StreamInput
INPUT_KINDS = {"poisson": PoissonInput, "current": CurrentInput, "stream": StreamInput}
TIME_VARYING = ("current", "stream")  # input kinds a population takes one of


def input_to_dict(item: Input) -> dict[str, Any]:
    found = {"kind": item.kind, **{k: v for k, v in asdict(item).items() if k != "kind"}}
    if isinstance(item, StreamInput) and item.channels is not None:
        found["channels"] = list(item.channels)
    return found


def input_from_dict(data: dict[str, Any]) -> Input:
    kind = INPUT_KINDS.get(data.get("kind", ""))
    if kind is None:
        raise ValueError(f"unknown input kind {data.get('kind')!r} ({', '.join(INPUT_KINDS)})")
    values = {f.name: data[f.name] for f in fields(kind) if f.init and f.name in data}
    if kind is StreamInput and values.get("channels") is not None:
        values["channels"] = tuple(values["channels"])
    return kind(**values)


@dataclass(frozen=True)
class Population:
    """``n`` neurons of ``model`` with its ``params`` (SI, every parameter of the model) and their inputs."""

    name: str
    model: str
    n: int
    params: MappingProxyType = field(default_factory=lambda: _frozen_mapping({}))
    inputs: tuple[Input, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.params, MappingProxyType):
            object.__setattr__(self, "params", _frozen_mapping(self.params))

    def to_dict(self) -> dict[str, Any]:
        inputs = [input_to_dict(item) for item in self.inputs]
        return {"model": self.model, "n": self.n, "params": dict(self.params), "inputs": inputs}

    @classmethod
    def from_dict(cls, name: str, data: dict[str, Any]) -> "Population":
        inputs = tuple(input_from_dict(item) for item in data.get("inputs", []))
        return cls(name, str(data["model"]), int(data["n"]), _frozen_mapping(data.get("params", {})), inputs)


@dataclass(frozen=True)
class Projection:
    """Synapses from ``source`` to ``target`` drawn by ``rule`` (``p=0.02``, ``indegree=80``, ``one2one``,
    ``all``), of ``weight`` in ``weight_unit`` (V, A or S), ``delay_s``, ``synapse`` (exp, cond, delta) with
    ``tau_s`` and, for cond, ``e_rev`` (V); ``plasticity``: None for static synapses."""

    source: str
    target: str
    rule: str
    weight: float
    weight_unit: str
    delay_s: float = 0.0
    synapse: str = "exp"
    tau_s: float = 5e-3
    e_rev: float | None = None
    plasticity: Stdp | None = None

    @property
    def name(self) -> str:
        return f"{self.source}->{self.target}"

    def to_dict(self) -> dict[str, Any]:
        found = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("source", "target")}
        found["plasticity"] = self.plasticity.to_dict() if self.plasticity is not None else None
        return found

    @classmethod
    def from_dict(cls, source: str, target: str, data: dict[str, Any]) -> "Projection":
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data and f.name not in ("source", "target")}
        plasticity = values.pop("plasticity", None)
        return cls(source, target, **values, plasticity=Stdp.from_dict(plasticity) if plasticity else None)
