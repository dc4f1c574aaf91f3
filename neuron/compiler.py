"""From a network description to the kernels' arrays, in small steps: populations (parameters, initial
state), synaptic channels (one per distinct synapse kind, time constant and reversal potential onto a
population), projections (CSR), inputs (Poisson, currents, recorded streams), then the flat arrays. The
records the kernels take are views of these arrays (``kernel_records``)."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from neuroshell.neuron import layout
from neuroshell.neuron.connectivity import build_csr, synapse_count
from neuroshell.neuron.description import CurrentInput, PoissonInput, Population
from neuroshell.neuron.models import MODELS, check_update
from neuroshell.neuron.network import Network, NetworkError, parse_rule
from neuroshell.neuron.plastic_arrays import plastic_arrays
from neuroshell.neuron.records import Connectivity, DrawnProjection, PopulationSpan

DELTA_ONTO = "delta synapses need a LIF population without cond synapses"


@dataclass
class Compiled:
    """The network as the kernels see it (see ``kernels.run_chunk`` and ``records``)."""

    arrays: dict[str, np.ndarray]
    populations: dict[str, PopulationSpan]
    n_synapses: int
    # Per projection, grouped by source population: (source, target, indptr, indices), CSR with indices
    # local to the target population.
    connectivity: list[tuple[str, str, np.ndarray, np.ndarray]]

    @property
    def synapse_bytes(self) -> int:
        """Bytes the synapses take: target indices (int32) and row starts; a static projection keeps one
        weight, not one per synapse; a plastic one adds its weights (float32) and the incoming view of its
        synapses (synapse and source, int32, and column starts)."""
        names = ("indices", "indptr", "pl_weights", "pl_col_ptr", "pl_col_syn", "pl_col_src")
        return int(sum(self.arrays[name].nbytes for name in names))


@dataclass
class _Populations:
    names: list[str]
    sizes: list[int]
    starts: np.ndarray
    params: np.ndarray
    models: np.ndarray
    v: np.ndarray
    w: np.ndarray

    def index(self, name: str) -> int:
        return self.names.index(name)


def _exact_pmx(tau_m: float, tau_s: float, dt: float) -> float:
    """How much of a decaying synaptic x (V) reaches v over one step, solving the linear ODE exactly."""
    if abs(tau_s - tau_m) < 1e-12:
        return dt / tau_m * np.exp(-dt / tau_m)
    return tau_s / (tau_s - tau_m) * (np.exp(-dt / tau_s) - np.exp(-dt / tau_m))


def _membrane_resistance(population: Population) -> float:
    """Ohms that turn a synaptic weight in A into volts for ``population``."""
    return MODELS[population.model].resistance(population.params)


def _populations(network: Network, dt: float, rng: np.random.Generator) -> _Populations:
    if not network.populations():
        raise NetworkError("the network has no populations: net add POP --model lif --n 100")
    names = [population.name for population in network.populations()]
    sizes = [population.n for population in network.populations()]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    n_total = int(sum(sizes))
    pops = _Populations(names, sizes, starts, np.zeros((len(names), layout.N_PARAMS)),
                        np.zeros(len(names), dtype=np.int64), np.zeros(n_total), np.zeros(n_total))  # fmt: skip
    for p, population in enumerate(network.populations()):
        model, prm = MODELS[population.model], population.params
        check_update(model)  # a spec changed after it was registered
        for column, value in model.pack(prm, dt).items():
            pops.params[p, column] = value
        pops.models[p] = model.update
        start, size = starts[p], sizes[p]
        pops.v[start : start + size] = prm.get("v_init", 0.0) + rng.random(size) * prm.get("v_init_spread", 0.0)
        pops.w[start : start + size] = model.initial_w(prm, pops.v[start : start + size])
    return pops


class _Channels:
    """The synaptic channels, numbered as asked for, then laid out population by population."""

    def __init__(self, pops: _Populations) -> None:
        self.pops = pops
        self.numbers: dict[tuple, int] = {}  # (population index, kind, tau, e_rev) -> channel number
        self.rows: list[tuple] = []

    def channel(self, p: int, synapse: str, tau: float, e_rev: float | None) -> int:
        if self.pops.models[p] == layout.POISSON:
            raise NetworkError(
                f"{self.pops.names[p]} is a population of Poisson sources: it takes no synapses or inputs"
            )
        kinds_onto = {row[1] for row in self.rows if row[0] == p} | {synapse}
        if "delta" in kinds_onto and (self.pops.models[p] != layout.LIF or "cond" in kinds_onto):
            raise NetworkError(f"{self.pops.names[p]}: {DELTA_ONTO}")
        key = (p, synapse, 0.0 if synapse == "delta" else tau, e_rev if synapse == "cond" else None)
        if key not in self.numbers:
            self.numbers[key] = len(self.rows)
            self.rows.append(key)
        return self.numbers[key]

    def layout(self, dt: float) -> tuple[dict[str, np.ndarray], dict[int, int], int]:
        """The channel arrays, the renumbering (as asked -> laid out) and the length of the state x."""
        order = sorted(self.numbers.values(), key=lambda c: self.rows[c][0])
        kind, offset, decay, erev, pmx = [], [], [], [], []
        ch_ptr = np.zeros(len(self.pops.names) + 1, dtype=np.int64)
        cond = np.zeros(len(self.pops.names), dtype=np.bool_)
        at = 0
        for old in order:
            p, synapse, tau, e_rev = self.rows[old]
            kind.append(layout.SYNAPSES.index(synapse))
            offset.append(at)
            # A delta synapse is an exponential one that hands all it received to v within the step it arrives.
            decay.append(0.0 if synapse == "delta" else np.exp(-dt / tau))
            erev.append(e_rev or 0.0)
            tau_m = self.pops.params[p, layout.P_TAU_M]
            exact = self.pops.models[p] == layout.LIF
            pmx.append(1.0 if synapse == "delta" else _exact_pmx(tau_m, tau, dt) if exact else 0.0)
            ch_ptr[p + 1] += 1
            cond[p] |= synapse == "cond"
            at += self.pops.sizes[p]
        arrays = {
            "ch_kind": np.array(kind, dtype=np.int64),
            "ch_offset": np.array(offset, dtype=np.int64),
            "ch_decay": np.array(decay, dtype=np.float64),
            "ch_erev": np.array(erev, dtype=np.float64),
            "ch_pmx": np.array(pmx, dtype=np.float64),
            "pop_ch_ptr": np.cumsum(ch_ptr),
            "pop_cond": cond,
        }
        return arrays, {old: new for new, old in enumerate(order)}, at


def _projections(network: Network, pops: _Populations, channels: _Channels, dt: float, seed: int) -> tuple:
    """The projections drawn (``DrawnProjection``), by source population; and the one array all their indices
    view."""
    projections = []
    for index, made in enumerate(network.projections()):
        source, target = made.source, made.target
        p_src, p_tgt = pops.index(source), pops.index(target)
        c = channels.channel(p_tgt, made.synapse, made.tau_s, made.e_rev)
        weight = made.weight
        if made.weight_unit == "A":
            weight *= _membrane_resistance(network.population(target))
        delay = 1 + round(made.delay_s / dt)
        rule = (*parse_rule(made.rule), pops.sizes[p_src], pops.sizes[p_tgt], seed * 7919 + index + 1)
        projections.append(DrawnProjection(source, target, p_src, p_tgt, c, weight, delay, rule, made.plasticity))
    projections.sort(key=lambda item: item.p_src)
    sizes = [synapse_count(*item.rule[:4]) for item in projections]  # None: known once drawn ("p")
    drawn = [_build(item) if size is None else None for item, size in zip(projections, sizes, strict=True)]
    counts = [len(csr[1]) if size is None else size for size, csr in zip(sizes, drawn, strict=True)]
    indices = np.empty(sum(counts), dtype=np.int32) if projections else np.zeros(1, dtype=np.int32)
    at = 0
    for item, csr, count in zip(projections, drawn, counts, strict=True):
        part = indices[at : at + count]
        if csr is None:
            csr = _build(item, part)
        else:
            part[:] = csr[1]
        item.indptr, item.indices, at = csr[0], part, at + count
    return projections, indices


def _build(item: DrawnProjection, indices: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One projection's CSR (into ``indices`` where given); a rule the populations cannot satisfy is named."""
    try:
        return build_csr(*item.rule, indices)
    except ValueError as error:
        raise NetworkError(f"{item.source} -> {item.target}: {error}") from None


def _inputs(network: Network, pops: _Populations, channels: _Channels, dt: float, n_steps: int, loader) -> tuple:
    """Poisson inputs (population, channel, expected arrivals per step, weight), and the current arrays."""
    poisson, tables = [], []
    i_const, i_column, i_gain = np.zeros(len(pops.v)), np.full(len(pops.v), -1, dtype=np.int64), np.zeros(len(pops.v))
    for p, population in enumerate(network.populations()):
        start, size = pops.starts[p], pops.sizes[p]
        for item in population.inputs:
            if isinstance(item, PoissonInput):
                c = channels.channel(p, item.synapse, item.tau_s, item.e_rev)
                weight = item.weight
                if item.synapse == "delta" and item.weight_unit != "V":
                    raise NetworkError(f"{population.name}: a delta input takes its weight in V (the membrane's jump)")
                if item.weight_unit == "A":
                    weight *= _membrane_resistance(population)
                poisson.append((p, c, item.rate_hz * item.n_sources * dt, weight))
            elif isinstance(item, CurrentInput):
                begin, stop = round(item.start_s / dt), item.stop_s
                if begin == 0 and stop is None:
                    i_const[start : start + size] += item.amplitude_a
                else:
                    column = np.zeros(max(n_steps, 1))
                    column[begin : None if stop is None else round(stop / dt)] = item.amplitude_a
                    tables.append((start, size, column[:, None], np.zeros(size, dtype=np.int64)))
            else:
                if loader is None:
                    raise NetworkError("stream inputs need the storage layer to load them")
                table = loader(item, dt, n_steps)  # (n_steps, n_channels) in A
                tables.append((start, size, table, np.arange(size) % table.shape[1]))
    i_table = _current_table(tables, n_steps, i_column, i_gain)
    return poisson, {"i_const": i_const, "i_column": i_column, "i_gain": i_gain, "i_table": i_table}


def _current_table(tables: list, n_steps: int, i_column: np.ndarray, i_gain: np.ndarray) -> np.ndarray:
    """The time-varying currents side by side (n_steps, n_columns); fills each neuron's column and gain."""
    if not tables:
        return np.zeros((0, 1))
    i_table = np.zeros((max(n_steps, 1), sum(t[2].shape[1] for t in tables)))
    column = 0
    for start, size, table, columns in tables:
        rows = min(len(table), len(i_table))
        i_table[:rows, column : column + table.shape[1]] = table[:rows]
        if (i_column[start : start + size] >= 0).any():
            raise NetworkError("one population can take one time-varying input (current step or stream)")
        i_column[start : start + size] = column + columns
        i_gain[start : start + size] = 1.0
        column += table.shape[1]
    return i_table


def _projection_arrays(
    projections: list[DrawnProjection], pops: _Populations, ch: dict, renumber: dict
) -> dict[str, np.ndarray]:
    indptr_offsets = np.cumsum([0] + [len(item.indptr) for item in projections])[:-1]
    indices_offsets = np.cumsum([0] + [len(item.indices) for item in projections])[:-1]
    proj_ptr = np.zeros(len(pops.names) + 1, dtype=np.int64)
    for item in projections:
        proj_ptr[item.p_src + 1] += 1
    return {
        "pop_proj_ptr": np.cumsum(proj_ptr),
        "proj_order": np.arange(len(projections), dtype=np.int64),
        "proj_src_start": np.array([pops.starts[item.p_src] for item in projections], dtype=np.int64),
        "proj_tgt_offset": np.array([ch["ch_offset"][renumber[item.channel]] for item in projections], dtype=np.int64),
        "proj_weight": np.array([item.weight for item in projections], dtype=np.float64),
        "proj_delay": np.array([item.delay_steps for item in projections], dtype=np.int64),
        "proj_n_tgt": np.array([pops.sizes[item.p_tgt] for item in projections], dtype=np.int64),
        "proj_indptr_offset": indptr_offsets.astype(np.int64),
        "proj_indices_offset": indices_offsets.astype(np.int64),
        # One part: no row splits (``simulate`` finds them for a run in several parts).
        "proj_row_split": np.zeros(0, dtype=np.int32),
        "proj_split_offset": np.zeros(len(projections), dtype=np.int64),
        "indptr": np.concatenate([item.indptr for item in projections]) if projections else np.zeros(1, dtype=np.int64),
    }


def compile_network(
    network: Network,
    *,
    dt_s: float,
    seed: int,
    record: list[tuple[str, int]] | None = None,
    duration_s: float = 0.0,
    stream_loader: Callable | None = None,
) -> Compiled:
    """Flatten populations, channels, projections (CSR) and inputs into arrays. ``record`` names
    (population, neuron) pairs whose v is traced."""
    dt = dt_s
    pops = _populations(network, dt, np.random.default_rng(seed))
    channels = _Channels(pops)
    projections, indices = _projections(network, pops, channels, dt, seed)
    poisson, currents = _inputs(network, pops, channels, dt, round(duration_s / dt), stream_loader)
    ch, renumber, x_length = channels.layout(dt)
    for p, (start, size) in enumerate(zip(pops.starts, pops.sizes, strict=True)):
        if np.any(currents["i_const"][start : start + size]) or np.any(currents["i_column"][start : start + size] >= 0):
            pops.params[p, layout.P_HAS_CURRENT] = 1.0
    depth = max([2] + [item.delay_steps + 1 for item in projections])
    placed = {name: PopulationSpan(int(pops.starts[p]), pops.sizes[p]) for p, name in enumerate(pops.names)}
    spare = 2 * max(pops.sizes)  # zeros standing in for the channels a population does not have
    arrays = {
        "pop_start": pops.starts,
        "pop_stop": pops.starts + np.array(pops.sizes, dtype=np.int64),
        "pop_model": pops.models,
        "pop_params": pops.params,
        "v": pops.v,
        "w": pops.w,
        # The step from which a neuron integrates again; float32 (exact to 16.7 million steps) vectorises.
        "ref_until": np.zeros(len(pops.v), dtype=np.float32),
        # Synaptic state in float32 (half the memory traffic; the membrane stays float64 for exactness).
        "x": np.zeros(x_length + spare, dtype=np.float32),
        # Delayed arrivals by step, for the channels only (not x's spare zeros).
        "ring": np.zeros((depth if depth > 2 else 1, x_length), dtype=np.float32),
        **_source_blocks(pops),
        "poisson_pop": np.array([item[0] for item in poisson], dtype=np.int64),
        "poisson_channel": np.array([renumber[item[1]] for item in poisson], dtype=np.int64),
        "poisson_lambda": np.array([item[2] for item in poisson], dtype=np.float64),
        "poisson_weight": np.array([item[3] for item in poisson], dtype=np.float64),
        "record_index": np.array([placed[name].start + i for name, i in record or []], dtype=np.int64),
        **ch,
        **currents,
        **_projection_arrays(projections, pops, ch, renumber),
        "indices": indices,
        **plastic_arrays(projections, pops.sizes, pops.starts, dt, seed),
    }
    return Compiled(
        arrays, placed, int(len(arrays["indices"]) if projections else 0), _connectivity(arrays, projections)
    )


def _source_blocks(pops: _Populations) -> dict[str, np.ndarray]:
    """Where each Poisson population's blocks of sources keep their earliest next spike (-1: not drawn)."""
    poisson = pops.models == layout.POISSON
    blocks = [-(-size // layout.SOURCES_PER_BLOCK) if poisson[p] else 0 for p, size in enumerate(pops.sizes)]
    return {"pop_due_offset": np.cumsum([0, *blocks])[:-1].astype(np.int64), "due": np.full(sum(blocks), -1.0)}


def _connectivity(arrays: dict[str, np.ndarray], projections: list[DrawnProjection]) -> list[Connectivity]:
    """Views into the kernel's arrays, so that no synapse is held twice."""
    views = []
    for q, item in enumerate(projections):
        first_row, first_index = arrays["proj_indptr_offset"][q], arrays["proj_indices_offset"][q]
        indptr = arrays["indptr"][first_row : first_row + len(item.indptr)]
        indices = arrays["indices"][first_index : first_index + len(item.indices)]
        views.append(Connectivity(item.source, item.target, indptr, indices))
    return views


def kernel_records(a: dict[str, np.ndarray]) -> tuple:
    """The compiled arrays as the kernels' records (views, no copies): Populations, Channels, Projections,
    Drive, State, Plastic."""
    from neuroshell.neuron import records as r

    def record(kind, prefix: str = ""):
        return kind(*(a.get(prefix + name, a.get(name)) for name in kind._fields))

    return (
        record(r.Populations, "pop_"),
        record(r.Channels, "ch_"),
        record(r.Projections, "proj_"),
        record(r.Drive),
        record(r.State),
        record(r.Plastic, "pl_"),
    )
