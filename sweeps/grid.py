"""What a sweep varies: parameter addresses in a network description (``POP.param``, ``SRC->DST.param``,
``POP.input.param``), the grid of their values, and a network with one point's values applied.

Values are SI numbers; the caller turns the text a user typed into them, in the unit ``Address.unit`` names.
"""

import itertools
from dataclasses import dataclass

from neuroshell.common.errors import UserError, did_you_mean
from neuroshell.neuron.models import model as neuron_model
from neuroshell.neuron.network import Network, NetworkError

# `net connect` option -> (edge attribute, unit); the weight's unit is the projection's own.
PROJECTION_PARAMS = {"w": ("weight", None), "delay": ("delay_s", "s"), "tau": ("tau_s", "s"), "erev": ("e_rev", "V")}
PROJECTION_RULES = {"p": "", "indegree": ""}  # the connection rule's number
# `net input` option -> (input attribute, unit); the weight's unit is the input's own.
INPUT_PARAMS = {
    "poisson": ("rate_hz", "Hz"),
    "sources": ("n_sources", ""),
    "w": ("weight", None),
    "tau": ("tau_s", "s"),
    "current": ("amplitude_a", "A"),
    "start": ("start_s", "s"),
    "stop": ("stop_s", "s"),
    "scale": ("scale_a", "A"),
}
WHOLE = {"n", "sources", "indegree"}  # counts: whole numbers


class SweepError(UserError):
    """A sweep that cannot run as asked (an unknown parameter, a grid without points)."""


@dataclass(frozen=True)
class Address:
    """One varied parameter: ``text`` as typed, its ``kind`` (population, projection, input, rule), where it
    lives (``population`` or ``source``/``target``), the attribute ``key`` and its SI ``unit``."""

    text: str
    kind: str
    key: str
    unit: str
    population: str = ""
    source: str = ""
    target: str = ""

    @property
    def whole(self) -> bool:
        return self.text.rsplit(".", 1)[-1] in WHOLE


def resolve(network: Network, text: str) -> Address:
    """The address ``text`` names in ``network``, or a SweepError that says which part is unknown."""
    if "->" in text:
        return _projection(network, text)
    parts = text.split(".")
    if len(parts) == 3 and parts[1] == "input":
        return _input(network, text, parts[0], parts[2])
    if len(parts) != 2:
        raise SweepError(f"'{text}' is not a parameter address: POP.param, SRC->DST.param or POP.input.param")
    population, name = parts
    model = network.population(population).model
    if name == "n":
        return Address(text, "population", "n", "", population=population)
    params = neuron_model(model).params
    if name not in params:
        hint = did_you_mean(name, [*list(params), "n"])
        raise SweepError(f"{population} ({model}) has no parameter '{name}'{hint} (parameters: n, {', '.join(params)})")
    return Address(text, "population", name, params[name].unit, population=population)


def _projection(network: Network, text: str) -> Address:
    pair, _, name = text.rpartition(".")
    source, _, target = pair.partition("->")
    network.population(source), network.population(target)
    if not network.has_projection(source, target):
        raise SweepError(f"no projection {source}->{target}: add it with net connect first")
    edge = network.projection(source, target)
    if name in PROJECTION_RULES:
        kind, _, _ = edge.rule.partition("=")
        if kind != name:
            raise SweepError(f"{source}->{target} connects by '{edge.rule}': vary {pair}.{kind}, not .{name}")
        return Address(text, "rule", name, "", source=source, target=target)
    if name not in PROJECTION_PARAMS:
        known = ", ".join([*PROJECTION_PARAMS, *PROJECTION_RULES])
        raise SweepError(f"a projection has no parameter '{name}'{did_you_mean(name, known.split(', '))} ({known})")
    key, unit = PROJECTION_PARAMS[name]
    return Address(text, "projection", key, unit or edge.weight_unit, source=source, target=target)


def _input(network: Network, text: str, population: str, name: str) -> Address:
    inputs = network.population(population).inputs
    if not inputs:
        raise SweepError(f"{population} has no input: add one with net input first")
    if name not in INPUT_PARAMS:
        known = ", ".join(INPUT_PARAMS)
        raise SweepError(f"an input has no parameter '{name}'{did_you_mean(name, list(INPUT_PARAMS))} ({known})")
    key, unit = INPUT_PARAMS[name]
    having = [item for item in inputs if hasattr(item, key)]
    if not having:
        kinds = ", ".join(sorted({item.kind for item in inputs}))
        raise SweepError(f"the inputs of {population} ({kinds}) have no '{name}'")
    return Address(text, "input", key, unit or having[0].weight_unit, population=population)


def apply(network: Network, address: Address, value: float) -> None:
    """Set the parameter ``address`` names to ``value`` (SI) in ``network``, in place, through the checks
    ``net add``, ``net connect`` and ``net input`` make (a NetworkError for a value they refuse)."""
    value = round(value) if address.whole else float(value)
    if address.kind == "population":
        if address.key == "n":
            network.replace_population(address.population, n=value)
        else:
            network.replace_population(address.population, **{address.key: value})
    elif address.kind == "input":
        if (address.key in ("rate_hz", "tau_s") and value <= 0) or (address.key == "n_sources" and value < 1):
            raise NetworkError(f"{address.text} must be positive (got {value:g})")
        network.vary_inputs(address.population, address.key, value)
    elif address.kind == "rule":
        network.replace_projection(address.source, address.target, rule=f"{address.key}={value:.10g}")
    else:
        network.replace_projection(address.source, address.target, **{address.key: value})


@dataclass(frozen=True)
class Point:
    """One point of a grid: its index, one value per axis (SI), and its seed."""

    index: int
    values: tuple[float, ...]
    seed: int


def grid(axes: list[tuple[str, list[float]]], seeds: list[int]) -> list[Point]:
    """Every combination of the axes' values, each with every seed (the seed varies fastest)."""
    if not axes:
        raise SweepError("a sweep needs at least one --vary PARAM=VALUES")
    names = [name for name, _ in axes]
    if len(set(names)) != len(names):
        raise SweepError(f"a parameter is varied twice: {', '.join(names)}")
    combos = itertools.product(*(values for _, values in axes), seeds)
    return [Point(i, tuple(combo[:-1]), int(combo[-1])) for i, combo in enumerate(combos)]
