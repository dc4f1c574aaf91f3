"""The network description: a networkx DiGraph whose nodes are populations and edges projections.

Everything is plain data in SI units, so a network saves to JSON (and GraphML) and loads back exactly.
Node attributes: ``model``, ``n``, ``params`` (SI), ``inputs`` (list of dicts). Edge attributes:
``rule`` (``p=0.02``, ``indegree=80``, ``one2one``, ``all``), ``weight`` with ``weight_unit`` (V for
voltage-like current-based synapses, A for currents, S for conductances), ``delay_s``, ``synapse``
(``exp``: current-based exponential; ``cond``: conductance-based exponential; ``delta``: the membrane jumps
by the weight, as NEST's iaf_psc_delta), ``tau_s`` (not used by ``delta``) and, for ``cond``, ``e_rev`` (V).
"""

import json
from pathlib import Path
from typing import Any

import networkx as nx

from neuroshell.common.errors import UserError, did_you_mean
from neuroshell.common.words import counted
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


TIME_VARYING = ("current", "stream")  # input kinds a population takes one of


class Network:
    """Populations and projections; see the module docstring for the attributes."""

    def __init__(self, name: str = "net") -> None:
        self.graph = nx.DiGraph(name=name)

    @property
    def name(self) -> str:
        return self.graph.graph["name"]

    def add_population(self, name: str, model: str, n: int, params: dict[str, float] | None = None) -> None:
        if not name or not name.replace("_", "").isalnum():
            raise NetworkError(f"population name '{name}': use letters, digits and _")
        if name in self.graph:
            raise NetworkError(f"population '{name}' exists already")
        if n < 1:
            raise NetworkError(f"population '{name}' needs at least one neuron (got {n})")
        self.graph.add_node(name, model=model, n=int(n), params=model_params(model, params or {}), inputs=[])

    def population(self, name: str) -> dict[str, Any]:
        if name not in self.graph:
            known = ", ".join(self.graph.nodes) or "none"
            raise NetworkError(f"no population '{name}'{did_you_mean(name, self.graph.nodes)} (populations: {known})")
        return self.graph.nodes[name]

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
        plasticity: dict | None = None,
    ) -> bool:
        """Add (or replace) the projection source -> target; returns whether one was replaced.
        ``plasticity``: a description from ``neuron.plasticity.stdp``, or None for static synapses."""
        self.population(source), self.population(target)
        kind, value = parse_rule(rule)
        if kind == "indegree" and value > self.graph.nodes[source]["n"]:
            raise NetworkError(
                f"rule {rule}: {source} has only {self.graph.nodes[source]['n']} neurons to draw {value:g} inputs from"
            )
        if synapse not in SYNAPSES:
            raise NetworkError(f"unknown synapse '{synapse}' ({', '.join(SYNAPSES)})")
        if weight_unit not in WEIGHT_UNITS[synapse]:
            wanted = " or ".join(WEIGHT_UNITS[synapse])
            raise NetworkError(f"a {synapse} synapse takes a weight in {wanted}, not {weight_unit}")
        if delay_s < 0 or tau_s <= 0:
            raise NetworkError("delays must not be negative and time constants must be positive")
        if rule == "one2one" and self.graph.nodes[source]["n"] != self.graph.nodes[target]["n"]:
            raise NetworkError(f"one2one needs populations of equal size ({source} and {target} differ)")
        if synapse == "cond" and e_rev is None:
            e_rev = 0.0
        if plasticity is not None and synapse == "delta":
            raise NetworkError("STDP runs on exp and cond synapses, not delta")
        replaced = self.graph.has_edge(source, target)
        self.graph.add_edge(
            source,
            target,
            rule=rule,
            weight=float(weight),
            weight_unit=weight_unit,
            delay_s=float(delay_s),
            synapse=synapse,
            tau_s=float(tau_s),
            e_rev=None if e_rev is None else float(e_rev),
            plasticity=plasticity,
        )
        return replaced

    def replace_projection(self, source: str, target: str, **changes: Any) -> None:
        """Change attributes of the projection ``source -> target`` (``rule``, ``weight``, ``delay_s``, ``tau_s``,
        ``e_rev``, ...) through ``connect``'s checks, keeping everything else, its plasticity included. Weights
        it learnt are kept unless the change redraws its synapses or their initial weight (rule, weight)."""
        if not self.graph.has_edge(source, target):
            raise NetworkError(f"no projection {source}->{target}")
        attrs = {**self.graph.edges[source, target], **changes}
        unknown = set(changes) - set(self.graph.edges[source, target])
        if unknown:
            raise NetworkError(f"a projection has no attribute {', '.join(sorted(unknown))}")
        plasticity = attrs.pop("plasticity")
        if plasticity is not None and {"rule", "weight"} & set(changes):
            plasticity = {key: value for key, value in plasticity.items() if key != "learned"}
        self.connect(source, target, plasticity=plasticity, **attrs)

    def keep_learned(self, learned: dict[str, Any], seed: int) -> None:
        """Plastic projections (``SRC->DST``: weights at the end of a run) keep the weights they ended with,
        and the seed whose connectivity they fit; the next run goes on from them."""
        for name, weights in learned.items():
            source, target = name.split("->")
            plasticity = self.graph.edges[source, target]["plasticity"]
            plasticity["learned"] = {"seed": seed, "weights": weights.astype(float).tolist()}

    def add_input(self, population: str, spec: dict[str, Any]) -> None:
        self.population(population)["inputs"].append(dict(spec))

    def replace_input(self, population: str, spec: dict[str, Any]) -> list[dict[str, Any]]:
        """Give ``population`` the input ``spec`` in place of those of its kind (a current and a stream are one
        kind: a population takes one time-varying input); returns the inputs it replaced."""
        inputs = self.population(population)["inputs"]
        kinds = TIME_VARYING if spec["kind"] in TIME_VARYING else (spec["kind"],)
        replaced = [item for item in inputs if item["kind"] in kinds]
        inputs[:] = [item for item in inputs if item["kind"] not in kinds] + [dict(spec)]
        return replaced

    def clear_inputs(self, population: str) -> list[dict[str, Any]]:
        """Remove every input of ``population``; returns them."""
        inputs = self.population(population)["inputs"]
        removed, inputs[:] = list(inputs), []
        return removed

    def remove_population(self, name: str) -> list[str]:
        """Remove ``name`` with its inputs and every projection to or from it; returns those (``SRC->DST``)."""
        self.population(name)
        edges = [f"{a}->{b}" for a, b in [*self.graph.in_edges(name), *self.graph.out_edges(name)]]
        self.graph.remove_node(name)
        return sorted(set(edges))  # a self-projection is both in and out

    def remove_projection(self, source: str, target: str) -> dict[str, Any]:
        """Remove the projection ``source -> target``; returns its attributes."""
        self.population(source), self.population(target)
        if not self.graph.has_edge(source, target):
            known = ", ".join(f"{a}->{b}" for a, b in self.graph.edges) or "none"
            raise NetworkError(f"no projection {source}->{target} (projections: {known})")
        attrs = dict(self.graph.edges[source, target])
        self.graph.remove_edge(source, target)
        return attrs

    def learned_projections(self) -> list[str]:
        """``SRC->DST`` of the plastic projections that keep weights learnt in a run."""
        return [f"{a}->{b}" for a, b, attrs in self.projections() if (attrs.get("plasticity") or {}).get("learned")]

    def populations(self) -> list[tuple[str, dict[str, Any]]]:
        return list(self.graph.nodes(data=True))

    def projections(self) -> list[tuple[str, str, dict[str, Any]]]:
        return list(self.graph.edges(data=True))

    @property
    def n_neurons(self) -> int:
        return sum(attrs["n"] for _, attrs in self.populations())

    def summary(self) -> str:
        parts = (counted(len(self.graph), "population"), counted(self.n_neurons, "neuron"))
        return f"{self.name}: {', '.join(parts)}, {counted(self.graph.number_of_edges(), 'projection')}"

    # Saving and loading.
    def to_dict(self) -> dict[str, Any]:
        return nx.node_link_data(self.graph, edges="edges")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Network":
        network = cls()
        try:
            network.graph = nx.node_link_graph(data, directed=True, edges="edges")
        except (KeyError, TypeError, nx.NetworkXError) as error:
            raise NetworkError(f"not a neuroshell network description ({error})") from None
        network._validate()
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
                return cls._from_flat(nx.read_graphml(path))
            return cls.from_json(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, SyntaxError, nx.NetworkXError, KeyError, TypeError, ValueError) as error:
            if isinstance(error, NetworkError):
                raise
            raise NetworkError(f"{path} is not a network saved by neuroshell (JSON or GraphML): {error}") from None

    def _flat_graph(self) -> nx.DiGraph:
        """GraphML holds only scalars: nested attributes travel as JSON text (floats keep every digit)."""
        flat = nx.DiGraph(name=self.name)
        for name, attrs in self.populations():
            flat.add_node(
                name,
                model=attrs["model"],
                n=attrs["n"],
                params=json.dumps(attrs["params"]),
                inputs=json.dumps(attrs["inputs"]),
            )
        for source, target, attrs in self.projections():
            flat.add_edge(source, target, **{k: json.dumps(v) for k, v in attrs.items()})
        return flat

    @classmethod
    def _from_flat(cls, flat: nx.DiGraph) -> "Network":
        network = cls(flat.graph.get("name", "net"))
        for name, attrs in flat.nodes(data=True):
            network.graph.add_node(
                name,
                model=attrs["model"],
                n=int(attrs["n"]),
                params=json.loads(attrs["params"]),
                inputs=json.loads(attrs["inputs"]),
            )
        for source, target, attrs in flat.edges(data=True):
            network.graph.add_edge(source, target, **{k: json.loads(v) for k, v in attrs.items()})
        network._validate()
        return network

    def _validate(self) -> None:
        for name, attrs in self.populations():
            if attrs.get("model") not in MODELS or int(attrs.get("n", 0)) < 1:
                raise NetworkError(f"population '{name}' is not valid (model {attrs.get('model')}, n {attrs.get('n')})")
        for _, _, attrs in self.projections():
            parse_rule(attrs["rule"])


def cuba(n: int = 4000, name: str = "cuba") -> Network:
    """Vogels & Abbott (2005) / Brette et al. (2007) CUBA: 80% excitatory, 20% inhibitory LIF neurons with
    current-based exponential synapses, connection probability 80/n (0.02 at n = 4000)."""
    network = Network(name)
    lif = {
        "tau_m": 20e-3,
        "e_l": -49e-3,
        "v_th": -50e-3,
        "v_reset": -60e-3,
        "t_ref": 5e-3,
        "v_init": -60e-3,
        "v_init_spread": 10e-3,
    }
    n_exc = round(0.8 * n)
    network.add_population("exc", "lif", n_exc, lif)
    network.add_population("inh", "lif", n - n_exc, lif)
    p = f"p={80 / n:.10g}"
    for target in ("exc", "inh"):
        network.connect("exc", target, p, 1.62e-3, "V", synapse="exp", tau_s=5e-3)
        network.connect("inh", target, p, -9e-3, "V", synapse="exp", tau_s=10e-3)
    return network


def coba(n: int = 4000, name: str = "coba") -> Network:
    """Brette et al. (2007) COBA benchmark: conductance-based exponential synapses (E_e 0 mV, E_i -80 mV,
    6 nS and 67 nS, taus 5 and 10 ms), g_L 10 nS, C 200 pF, with a Poisson drive to start activity."""
    network = Network(name)
    lif = {
        "tau_m": 20e-3,
        "c_m": 200e-12,
        "e_l": -60e-3,
        "v_th": -50e-3,
        "v_reset": -60e-3,
        "t_ref": 5e-3,
        "v_init": -60e-3,
        "v_init_spread": 10e-3,
    }
    n_exc = round(0.8 * n)
    network.add_population("exc", "lif", n_exc, lif)
    network.add_population("inh", "lif", n - n_exc, lif)
    p = f"p={80 / n:.10g}"
    for target in ("exc", "inh"):
        network.connect("exc", target, p, 6e-9, "S", synapse="cond", tau_s=5e-3, e_rev=0.0)
        network.connect("inh", target, p, 67e-9, "S", synapse="cond", tau_s=10e-3, e_rev=-80e-3)
        network.add_input(
            target,
            {
                "kind": "poisson",
                "rate_hz": 20.0,
                "n_sources": 20,
                "weight": 6e-9,
                "weight_unit": "S",
                "synapse": "cond",
                "tau_s": 5e-3,
                "e_rev": 0.0,
            },
        )
    return network


def brunel(n: int = 12500, name: str = "brunel", g: float = 5.0, eta: float = 2.0) -> Network:
    """Brunel (2000) sparse excitatory-inhibitory network, model A, as NEST's brunel_delta_nest: delta
    synapses (J 0.1 mV, inhibition -g J), in-degree 10% of each population, delay 1.5 ms, threshold 20 mV
    above rest, reset 10 mV, refractory 2 ms, and C_E external Poisson inputs at eta times the threshold
    rate."""
    network = Network(name)
    tau_m, j_psp = 20e-3, 0.1e-3
    lif = {"tau_m": tau_m, "e_l": 0.0, "v_th": 20e-3, "v_reset": 10e-3, "t_ref": 2e-3, "v_init": 0.0}
    lif["v_init_spread"] = 20e-3
    n_exc = round(0.8 * n)
    network.add_population("exc", "lif", n_exc, lif)
    network.add_population("inh", "lif", n - n_exc, lif)
    c_e, c_i = int(0.1 * n_exc), int(0.1 * (n - n_exc))
    nu_threshold = 20e-3 / (j_psp * c_e * tau_m)
    for target in ("exc", "inh"):
        network.connect("exc", target, f"indegree={c_e}", j_psp, "V", 1.5e-3, "delta")
        network.connect("inh", target, f"indegree={c_i}", -g * j_psp, "V", 1.5e-3, "delta")
        poisson = {"kind": "poisson", "rate_hz": eta * nu_threshold, "n_sources": c_e, "weight": j_psp}
        network.add_input(target, {**poisson, "weight_unit": "V", "synapse": "delta"})
    return network


def song_abbott(n: int = 1000, name: str = "stdp") -> Network:
    """Song, Miller and Abbott (2000) as Brian2's STDP example: ``n`` Poisson inputs at 15 Hz onto one LIF
    neuron (tau_m 10 ms, rest -74 mV, threshold -54 mV, reset -60 mV) through plastic synapses whose
    conductance drives it at the fixed driving force Ee - v_reset = 60 mV (the example's ``ge * (Ee - vr)``):
    exp synapses of 5 ms, wmax 0.01 x 60 mV, weights uniform in [0, wmax) at first, additive STDP with
    apre 0.01 and apost -0.0105. The weights become bimodal, most near 0 or near wmax."""
    from neuroshell.neuron.plasticity import stdp

    network = Network(name)
    network.add_population("input", "poisson", n, {"rate_hz": 15.0})
    cell = {"tau_m": 10e-3, "e_l": -74e-3, "v_th": -54e-3, "v_reset": -60e-3, "t_ref": 0.0, "v_init": -60e-3}
    network.add_population("neuron", "lif", 1, cell)
    wmax = 0.01 * 60e-3
    plasticity = stdp(wmax, wmax, 20e-3, 20e-3, 0.01, -0.0105, "additive", "uniform")
    network.connect("input", "neuron", "all", wmax, "V", 0.0, "exp", 5e-3, None, plasticity)
    return network


EXAMPLES = {"cuba": cuba, "coba": coba, "brunel": brunel, "stdp": song_abbott}
