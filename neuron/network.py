"""The network description: populations and projections (the frozen types of ``neuron.description``) held
by a ``Network``, which changes them only through its checked methods (the classic networks: ``examples``).

Everything is in SI units, so a network saves to JSON (networkx's node-link form: populations as nodes with
``model``, ``n``, ``params``, ``inputs``; projections as edges with ``rule``, ``weight``, ``weight_unit``,
``delay_s``, ``synapse``, ``tau_s``, ``e_rev``, ``plasticity``) and GraphML, and loads back exactly. Synapses:
``exp`` (current-based exponential; weights in V or A), ``cond`` (conductance-based exponential; S, with
``e_rev``), ``delta`` (the membrane jumps by the weight, as NEST's iaf_psc_delta; V).
"""

import json
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import networkx as nx

from neuroshell.common.errors import UserError, did_you_mean
from neuroshell.common.words import counted
from neuroshell.neuron.description import (
    TIME_VARYING,
    Input,
    Learned,
    Population,
    Projection,
    Stdp,
)
from neuroshell.neuron.layout import SYNAPSES
from neuroshell.neuron.models import MODELS, model_params

WEIGHT_UNITS = {"exp": ("V", "A"), "cond": ("S",), "delta": ("V",)}


class NetworkError(UserError):
    """A network description that cannot be built as asked (names, rules, sizes)."""


def parse_rule(rule: str) -> tuple[str, float]:
    """``"p=0.02"`` -> ("p", 0.02); ``"indegree=80"`` -> ("indegree", 80); ``"one2one"``, ``"all"``."""
    kind, _, value = rule.partition("=")
    if kind in ("one2one", "all") and not value:
        return kind, 0.0
    if kind in ("p", "indegree") and value:
        try:
            number = float(value)
        except ValueError:
            raise NetworkError(f"rule {rule}: '{value}' is not a number") from None
        if kind == "p" and not 0 <= number <= 1:
            raise NetworkError(f"rule {rule}: a probability lies between 0 and 1")
        if kind == "indegree" and (number < 1 or number != int(number)):
            raise NetworkError(f"rule {rule}: the in-degree is a whole number of at least 1")
        return kind, number
    raise NetworkError(f"unknown connection rule '{rule}' (p=0.02, indegree=80, one2one or all)")


class Network:
    """Populations and projections (``neuron.description`` types), in the order they were added. Every change
    goes through a method, with ``net``'s checks, so nothing is dropped on the way."""

    def __init__(self, name: str = "net") -> None:
        self.name = name
        self._populations: dict[str, Population] = {}
        self._projections: dict[tuple[str, str], Projection] = {}

    def add_population(self, name: str, model: str, n: int, params: dict[str, float] | None = None) -> None:
        if not name or not name.replace("_", "").isalnum():
            raise NetworkError(f"population name '{name}': use letters, digits and _")
        if name in self._populations:
            raise NetworkError(f"population '{name}' exists already")
        _check_size(name, n)
        self._populations[name] = Population(name, model, int(n), model_params(model, params or {}))

    def population(self, name: str) -> Population:
        if name not in self._populations:
            known = ", ".join(self._populations) or "none"
            raise NetworkError(f"no population '{name}'{did_you_mean(name, self._populations)} (populations: {known})")
        return self._populations[name]

    def projection(self, source: str, target: str) -> Projection:
        self.population(source), self.population(target)
        if (source, target) not in self._projections:
            known = ", ".join(p.name for p in self.projections()) or "none"
            raise NetworkError(f"no projection {source}->{target} (projections: {known})")
        return self._projections[source, target]

    def has_projection(self, source: str, target: str) -> bool:
        return (source, target) in self._projections

    def connect(
        self,
        source: str,
        target: str,
        rule: str,
        weight: float,
        weight_unit: str,
        delay_s: float = 0.0,
        synapse: str = "exp",
        tau_s: float = 5e-3,
        e_rev: float | None = None,
        plasticity: Stdp | None = None,
    ) -> bool:
        """Add (or replace) the projection source -> target; returns whether one was replaced.
        ``plasticity``: ``neuron.plasticity.stdp(...)``, or None for static synapses."""
        if synapse == "cond" and e_rev is None:
            e_rev = 0.0
        made = Projection(
            source, target, rule, float(weight), weight_unit, float(delay_s), synapse, float(tau_s),
            None if e_rev is None else float(e_rev), plasticity,
        )  # fmt: skip
        self._check_projection(made)
        replaced = (source, target) in self._projections
        self._projections[source, target] = made
        return replaced

    def _check_projection(self, made: Projection) -> None:
        source, target, rule = made.source, made.target, made.rule
        n_source, n_target = self.population(source).n, self.population(target).n
        kind, value = parse_rule(rule)
        if kind == "indegree" and value > n_source:
            raise NetworkError(f"rule {rule}: {source} has only {n_source} neurons to draw {value:g} inputs from")
        if made.synapse not in SYNAPSES:
            raise NetworkError(f"unknown synapse '{made.synapse}' ({', '.join(SYNAPSES)})")
        if made.weight_unit not in WEIGHT_UNITS[made.synapse]:
            wanted = " or ".join(WEIGHT_UNITS[made.synapse])
            raise NetworkError(f"a {made.synapse} synapse takes a weight in {wanted}, not {made.weight_unit}")
        if made.delay_s < 0 or made.tau_s <= 0:
            raise NetworkError("delays must not be negative and time constants must be positive")
        if rule == "one2one" and n_source != n_target:
            raise NetworkError(f"one2one needs populations of equal size ({source} and {target} differ)")
        if made.plasticity is not None and made.synapse == "delta":
            raise NetworkError("STDP runs on exp and cond synapses, not delta")

    def replace_projection(self, source: str, target: str, **changes: Any) -> None:
        """Change attributes of the projection ``source -> target`` (``rule``, ``weight``, ``delay_s``, ``tau_s``,
        ``e_rev``, ...) through ``connect``'s checks, keeping everything else, its plasticity included. Weights
        it learnt are kept unless the change redraws its synapses or their initial weight (rule, weight)."""
        current = self.projection(source, target)
        unknown = set(changes) - {f.name for f in fields(Projection)} | ({"source", "target"} & set(changes))
        if unknown:
            raise NetworkError(f"a projection has no attribute {', '.join(sorted(unknown))}")
        made = replace(current, **changes)
        if made.plasticity is not None and {"rule", "weight"} & set(changes):
            made = replace(made, plasticity=replace(made.plasticity, learned=None))
        self._check_projection(made)
        self._projections[source, target] = made

    def replace_population(self, name: str, n: int | None = None, **params: float) -> None:
        """Give population ``name`` another size and/or parameter values (checked by its model)."""
        current = self.population(name)
        size = current.n if n is None else int(n)
        _check_size(name, size)
        merged = model_params(current.model, {**current.params, **params})
        self._populations[name] = replace(current, n=size, params=merged)
        for projection in [p for p in self.projections() if name in (p.source, p.target)]:
            self._check_projection(projection)

    def keep_learned(self, learned: dict[str, Any], seed: int) -> None:
        """Plastic projections (``SRC->DST``: weights at the end of a run) keep the weights they ended with,
        and the seed whose connectivity they fit; the next run goes on from them."""
        for name, weights in learned.items():
            projection = self.projection(*name.split("->"))
            kept = Learned(seed, tuple(weights.astype(float).tolist()))
            self._projections[projection.source, projection.target] = replace(
                projection, plasticity=replace(projection.plasticity, learned=kept)
            )

    def replace_input(self, population: str, item: Input) -> list[Input]:
        """Give ``population`` the input ``item`` in place of those of its kind (a current and a stream are one
        kind: a population takes one time-varying input); returns the inputs it replaced."""
        current = self.population(population)
        kinds = TIME_VARYING if item.kind in TIME_VARYING else (item.kind,)
        replaced = [old for old in current.inputs if old.kind in kinds]
        kept = tuple(old for old in current.inputs if old.kind not in kinds)
        self._populations[population] = replace(current, inputs=(*kept, item))
        return replaced

    def vary_inputs(self, population: str, key: str, value: float) -> int:
        """Set ``key`` to ``value`` in each input of ``population`` that has it; returns how many changed."""
        current = self.population(population)
        changed = [replace(i, **{key: value}) if hasattr(i, key) else i for i in current.inputs]
        self._populations[population] = replace(current, inputs=tuple(changed))
        return sum(hasattr(i, key) for i in current.inputs)

    def clear_inputs(self, population: str) -> list[Input]:
        """Remove every input of ``population``; returns them."""
        current = self.population(population)
        self._populations[population] = replace(current, inputs=())
        return list(current.inputs)

    def remove_population(self, name: str) -> list[str]:
        """Remove ``name`` with its inputs and every projection to or from it; returns those (``SRC->DST``)."""
        self.population(name)
        gone = [key for key in self._projections if name in key]
        for key in gone:
            del self._projections[key]
        del self._populations[name]
        return sorted(f"{a}->{b}" for a, b in gone)

    def remove_projection(self, source: str, target: str) -> Projection:
        """Remove the projection ``source -> target``; returns it."""
        self.projection(source, target)  # a clear error for one that is not there
        return self._projections.pop((source, target))

    def learned_projections(self) -> list[str]:
        """``SRC->DST`` of the plastic projections that keep weights learnt in a run."""
        return [p.name for p in self.projections() if p.plasticity is not None and p.plasticity.learned is not None]

    def populations(self) -> list[Population]:
        return list(self._populations.values())

    def projections(self) -> list[Projection]:
        """By source population (in the order populations were added), then in the order they were made: the
        order each projection's seed follows (``compiler``), as networkx's adjacency gave it before."""
        order = {name: index for index, name in enumerate(self._populations)}
        return sorted(self._projections.values(), key=lambda made: order[made.source])

    @property
    def n_neurons(self) -> int:
        return sum(p.n for p in self.populations())

    def summary(self) -> str:
        parts = (counted(len(self._populations), "population"), counted(self.n_neurons, "neuron"))
        return f"{self.name}: {', '.join(parts)}, {counted(len(self._projections), 'projection')}"

    def as_graph(self) -> nx.DiGraph:
        """The network as a networkx DiGraph: populations as nodes, projections as edges, with the saved
        JSON's attributes (for drawing, GraphML and the JSON itself)."""
        graph = nx.DiGraph(name=self.name)
        for population in self.populations():
            graph.add_node(population.name, **population.to_dict())
        for projection in self.projections():
            graph.add_edge(projection.source, projection.target, **projection.to_dict())
        return graph

    # Saving and loading.
    def to_dict(self) -> dict[str, Any]:
        return nx.node_link_data(self.as_graph(), edges="edges")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Network":
        try:
            return cls._from_graph(nx.node_link_graph(data, directed=True, edges="edges"))
        except (KeyError, TypeError, ValueError, nx.NetworkXError) as error:
            if isinstance(error, NetworkError):
                raise
            raise NetworkError(f"not a neuroshell network description ({error})") from None

    @classmethod
    def _from_graph(cls, graph: nx.DiGraph) -> "Network":
        network = cls(graph.graph.get("name", "net"))
        for name, attrs in graph.nodes(data=True):
            population = Population.from_dict(name, attrs)
            if population.model not in MODELS or population.n < 1:
                raise NetworkError(f"population '{name}' is not valid (model {population.model}, n {population.n})")
            network._populations[name] = population
        for source, target, attrs in graph.edges(data=True):
            made = Projection.from_dict(source, target, attrs)
            parse_rule(made.rule)
            network._projections[source, target] = made
        return network

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_json(cls, text: str) -> "Network":
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as error:
            raise NetworkError(f"not valid JSON: {error}") from None

    def save(self, path: Path, overwrite: bool = False) -> None:
        """Write the network as JSON, or GraphML for a ``.graphml`` name; an existing file only with
        ``overwrite`` (it may be a recording)."""
        path = Path(path)
        if path.exists() and not overwrite:
            raise NetworkError(f"{path} exists: choose another name or add --overwrite")
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".graphml":
            nx.write_graphml(self._flat_graph(), path)
        else:
            path.write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "Network":
        path = Path(path)
        if not path.is_file():
            raise NetworkError(f"no such file: {path}")
        try:
            if path.suffix.lower() == ".graphml":
                flat = nx.read_graphml(path)
                return cls._from_graph(_unflattened(flat))
            return cls.from_json(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, SyntaxError, nx.NetworkXError, KeyError, TypeError, ValueError) as error:
            if isinstance(error, NetworkError):
                raise
            raise NetworkError(f"{path} is not a network saved by neuroshell (JSON or GraphML): {error}") from None

    def _flat_graph(self) -> nx.DiGraph:
        """GraphML holds only scalars: nested attributes travel as JSON text (floats keep every digit)."""
        flat = nx.DiGraph(name=self.name)
        for population in self.populations():
            attrs = population.to_dict()
            flat.add_node(population.name, model=attrs["model"], n=attrs["n"],
                          params=json.dumps(attrs["params"]), inputs=json.dumps(attrs["inputs"]))  # fmt: skip
        for projection in self.projections():
            attrs = {k: json.dumps(v) for k, v in projection.to_dict().items()}
            flat.add_edge(projection.source, projection.target, **attrs)
        return flat


def _unflattened(flat: nx.DiGraph) -> nx.DiGraph:
    graph = nx.DiGraph(name=flat.graph.get("name", "net"))
    for name, attrs in flat.nodes(data=True):
        graph.add_node(name, model=attrs["model"], n=int(attrs["n"]), params=json.loads(attrs["params"]),
                       inputs=json.loads(attrs["inputs"]))  # fmt: skip
    for source, target, attrs in flat.edges(data=True):
        graph.add_edge(source, target, **{k: json.loads(v) for k, v in attrs.items()})
    return graph


def _check_size(name: str, n: int) -> None:
    if n < 1:
        raise NetworkError(f"population '{name}' needs at least one neuron (got {n})")
