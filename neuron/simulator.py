"""Running a network: compile the description into flat arrays, then advance it in chunks with the numba
kernel (progress and Ctrl-C between chunks), collecting spikes, state traces and population rates."""

import gc
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from neuroshell.neuron import kernels as k
from neuroshell.neuron.connectivity import build_csr
from neuroshell.neuron.layout import SYNAPSES
from neuroshell.neuron.models import MODELS
from neuroshell.neuron.network import Network, NetworkError, parse_rule

CHUNK_S = 0.05


@dataclass(kw_only=True)
class SimulationResult:
    """What a run produced. Spike times in s; ``state_v`` (n_steps, n_recorded) in V; rates in Hz."""

    network_json: str
    dt_s: float
    duration_s: float
    seed: int
    populations: dict[str, tuple[int, int]]  # name -> (first global index, size)
    spike_times_s: np.ndarray
    spike_index: np.ndarray  # global neuron index
    recorded_index: np.ndarray
    state_v: np.ndarray
    pop_counts: np.ndarray  # (n_steps, n_pops) spikes per step
    wall_s: float  # the simulation loop alone (the kernel is loaded before it starts)
    build_s: float
    n_synapses: int
    completed: bool = True
    synapse_bytes: int = 0
    peak_resident_bytes: int = 0  # of the process, since it started (the run's own peak is at most this)
    _by_population: tuple | None = field(default=None, repr=False, compare=False)

    def spikes_of(self, population: str) -> tuple[np.ndarray, np.ndarray]:
        """Spike times (s) and neuron indices within the population, in time order (read-only views)."""
        if self._by_population is None:
            stops = np.array([start + size for start, size in self.populations.values()], dtype=np.int64)
            self._by_population = k.group_by_population(self.spike_times_s, self.spike_index, stops)
            for array in self._by_population:
                array.flags.writeable = False
        times, local, bounds = self._by_population
        p = list(self.populations).index(population)
        return times[bounds[p] : bounds[p + 1]], local[bounds[p] : bounds[p + 1]]

    def spike_count(self, population: str) -> int:
        return int(self.pop_counts[:, list(self.populations).index(population)].sum())

    def mean_rate_hz(self, population: str) -> float:
        size = self.populations[population][1]
        return self.spike_count(population) / (size * self.duration_s) if self.duration_s else 0.0

    def rate_hz(self, population: str, bin_s: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
        """Population rate per bin: bin start times (s) and rates (Hz)."""
        names = list(self.populations)
        per_bin = max(1, round(bin_s / self.dt_s))
        counts = self.pop_counts[:, names.index(population)]
        n_bins = len(counts) // per_bin
        binned = counts[: n_bins * per_bin].reshape(n_bins, per_bin).sum(axis=1)
        return np.arange(n_bins) * per_bin * self.dt_s, binned / (self.populations[population][1] * per_bin * self.dt_s)


@dataclass
class Compiled:
    """The network as the kernel sees it (see ``kernels.run_chunk``)."""

    arrays: dict[str, np.ndarray]
    populations: dict[str, tuple[int, int]]
    n_synapses: int
    # Per projection, grouped by source population: (source, target, indptr, indices), CSR with indices
    # local to the target population.
    connectivity: list[tuple[str, str, np.ndarray, np.ndarray]]

    @property
    def synapse_bytes(self) -> int:
        """Bytes the synapses take: target indices (int32) and row starts; a static projection keeps one
        weight, not one per synapse."""
        return int(self.arrays["indices"].nbytes + self.arrays["indptr"].nbytes)


def _membrane_resistance(population: dict) -> float:
    """Ohms that turn a synaptic weight in A into volts for ``population`` (its graph attributes)."""
    return MODELS[population["model"]].resistance(population["params"])


def _exact_pmx(tau_m: float, tau_s: float, dt: float) -> float:
    """How much of a decaying synaptic x (V) reaches v over one step, solving the linear ODE exactly."""
    if abs(tau_s - tau_m) < 1e-12:
        return dt / tau_m * np.exp(-dt / tau_m)
    return tau_s / (tau_s - tau_m) * (np.exp(-dt / tau_s) - np.exp(-dt / tau_m))


def compile_network(
    network: Network,
    *,
    dt_s: float,
    seed: int,
    record: list[tuple[str, int]] | None = None,
    duration_s: float = 0.0,
    stream_loader: Callable | None = None,
) -> Compiled:
    """Flatten populations, channels (one per distinct synapse kind/tau/reversal per target), projections
    (CSR) and inputs into arrays. ``record`` names (population, neuron) pairs whose v is traced."""
    dt = dt_s
    if not network.populations():
        raise NetworkError("the network has no populations: net add POP --model lif --n 100")
    names = [name for name, _ in network.populations()]
    sizes = [attrs["n"] for _, attrs in network.populations()]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    pops = {name: (int(starts[i]), sizes[i]) for i, name in enumerate(names)}
    n_total = int(sum(sizes))
    rng = np.random.default_rng(seed)
    v, w = np.zeros(n_total), np.zeros(n_total)
    params = np.zeros((len(names), k.N_PARAMS))
    models = np.zeros(len(names), dtype=np.int64)
    for p, (name, attrs) in enumerate(network.populations()):
        model, prm = MODELS[attrs["model"]], attrs["params"]
        for column, value in model.pack(prm, dt).items():
            params[p, column] = value
        models[p] = model.update
        start, size = pops[name]
        v[start : start + size] = prm["v_init"] + rng.random(size) * prm["v_init_spread"]
        w[start : start + size] = model.initial_w(prm, v[start : start + size])

    channels: dict[tuple, int] = {}  # (population index, kind, tau, e_rev) -> channel number
    channel_rows: list[tuple] = []

    def channel(p: int, synapse: str, tau: float, e_rev: float | None) -> int:
        if synapse == "delta" and (models[p] != k.LIF or any(row[:2] == (p, "cond") for row in channel_rows)):
            raise NetworkError(f"{names[p]}: delta synapses need a LIF population without cond synapses")
        if synapse == "cond" and any(row[:2] == (p, "delta") for row in channel_rows):
            raise NetworkError(f"{names[p]}: delta synapses need a LIF population without cond synapses")
        key = (p, synapse, 0.0 if synapse == "delta" else tau, e_rev if synapse == "cond" else None)
        if key not in channels:
            channels[key] = len(channel_rows)
            channel_rows.append(key)
        return channels[key]

    projections = []
    for index, (source, target, attrs) in enumerate(network.projections()):
        p_src, p_tgt = names.index(source), names.index(target)
        c = channel(p_tgt, attrs["synapse"], attrs["tau_s"], attrs["e_rev"])
        weight = attrs["weight"]
        if attrs["weight_unit"] == "A":
            weight *= _membrane_resistance(network.graph.nodes[target])
        rule, value = parse_rule(attrs["rule"])
        try:
            indptr, indices = build_csr(rule, value, sizes[p_src], sizes[p_tgt], seed * 7919 + index + 1)
        except ValueError as error:
            raise NetworkError(f"{source} -> {target}: {error}") from None
        delay = 1 + round(attrs["delay_s"] / dt)
        projections.append((p_src, c, weight, delay, indptr, indices, source, target))

    poisson, inputs_const = [], np.zeros(n_total)
    i_column, i_gain, tables = np.full(n_total, -1, dtype=np.int64), np.zeros(n_total), []
    n_steps = round(duration_s / dt)
    for p, (name, attrs) in enumerate(network.populations()):
        start, size = pops[name]
        for spec in attrs["inputs"]:
            if spec["kind"] == "poisson":
                c = channel(p, spec.get("synapse", "exp"), spec.get("tau_s", 5e-3), spec.get("e_rev"))
                weight = spec["weight"]
                if spec.get("synapse") == "delta" and spec.get("weight_unit", "V") != "V":
                    raise NetworkError(f"{name}: a delta input takes its weight in V (a jump of the membrane)")
                if spec.get("weight_unit") == "A":
                    weight *= _membrane_resistance(attrs)
                poisson.append((p, c, spec["rate_hz"] * spec.get("n_sources", 1) * dt, weight))
            elif spec["kind"] == "current":
                begin = round(spec.get("start_s", 0.0) / dt)
                stop = spec.get("stop_s")
                if begin == 0 and stop is None:
                    inputs_const[start : start + size] += spec["amplitude_a"]
                else:
                    column = np.zeros(max(n_steps, 1))
                    column[begin : None if stop is None else round(stop / dt)] = spec["amplitude_a"]
                    tables.append((start, size, column[:, None], np.zeros(size, dtype=np.int64)))
            elif spec["kind"] == "stream":
                if stream_loader is None:
                    raise NetworkError("stream inputs need the storage layer to load them")
                table = stream_loader(spec, dt, n_steps)  # (n_steps, n_channels) in A
                tables.append((start, size, table, np.arange(size) % table.shape[1]))
    i_table = np.zeros((0, 1))
    if tables:
        width = sum(t[2].shape[1] for t in tables)
        i_table = np.zeros((max(n_steps, 1), width))
        column = 0
        for start, size, table, columns in tables:
            rows = min(len(table), len(i_table))
            i_table[:rows, column : column + table.shape[1]] = table[:rows]
            if (i_column[start : start + size] >= 0).any():
                raise NetworkError("one population can take one time-varying input (current step or stream)")
            i_column[start : start + size] = column + columns
            i_gain[start : start + size] = 1.0
            column += table.shape[1]

    order = sorted(channels.values(), key=lambda c: channel_rows[c][0])
    renumber = {old: new for new, old in enumerate(order)}
    ch_kind, ch_offset, ch_decay, ch_erev, ch_pmx = [], [], [], [], []
    pop_ch_ptr = np.zeros(len(names) + 1, dtype=np.int64)
    offset = 0
    for old in order:
        p, synapse, tau, e_rev = channel_rows[old]
        ch_kind.append(SYNAPSES.index(synapse))
        ch_offset.append(offset)
        # A delta synapse is an exponential one that hands all it received to v within the step it arrives.
        ch_decay.append(0.0 if synapse == "delta" else np.exp(-dt / tau))
        ch_erev.append(e_rev or 0.0)
        if synapse == "delta":
            ch_pmx.append(1.0)
        else:
            ch_pmx.append(_exact_pmx(params[p, k.P_TAU_M], tau, dt) if models[p] == k.LIF else 0.0)
        pop_ch_ptr[p + 1] += 1
        offset += sizes[p]
    pop_ch_ptr = np.cumsum(pop_ch_ptr)
    for p in range(len(names)):
        start, size = starts[p], sizes[p]
        if np.any(inputs_const[start : start + size]) or np.any(i_column[start : start + size] >= 0):
            params[p, k.P_HAS_CURRENT] = 1.0
    pop_cond = np.zeros(len(names), dtype=np.bool_)
    for old in order:
        if channel_rows[old][1] == "cond":
            pop_cond[channel_rows[old][0]] = True

    projections.sort(key=lambda item: item[0])
    pop_proj_ptr = np.zeros(len(names) + 1, dtype=np.int64)
    for item in projections:
        pop_proj_ptr[item[0] + 1] += 1
    pop_proj_ptr = np.cumsum(pop_proj_ptr)
    indptr_parts, indices_parts, indptr_offsets, indices_offsets = [], [], [], []
    at_indptr = at_indices = 0
    for _, _, _, _, indptr, indices, _, _ in projections:
        indptr_offsets.append(at_indptr)
        indices_offsets.append(at_indices)
        indptr_parts.append(indptr)
        indices_parts.append(indices)
        at_indptr += len(indptr)
        at_indices += len(indices)
    depth = max([2] + [item[3] + 1 for item in projections])
    records = record or []
    record_index = np.array([pops[name][0] + i for name, i in records], dtype=np.int64)
    arrays = {
        "pop_start": starts,
        "pop_stop": starts + np.array(sizes, dtype=np.int64),
        "pop_model": models,
        "pop_params": params,
        "pop_ch_ptr": pop_ch_ptr,
        "pop_cond": pop_cond,
        "pop_proj_ptr": pop_proj_ptr,
        "v": v,
        "w": w,
        # The step from which a neuron integrates again; float32 (exact to 16.7 million steps) vectorises.
        "ref_until": np.zeros(n_total, dtype=np.float32),
        "ch_kind": np.array(ch_kind, dtype=np.int64),
        "ch_offset": np.array(ch_offset, dtype=np.int64),
        "ch_decay": np.array(ch_decay, dtype=np.float64),
        "ch_erev": np.array(ch_erev, dtype=np.float64),
        "ch_pmx": np.array(ch_pmx, dtype=np.float64),
        # Synaptic state in float32 (half the memory traffic; the membrane stays float64 for exactness),
        # followed by zeros that stand in for the channels a population does not have.
        "x": np.zeros(offset + 2 * max(sizes), dtype=np.float32),
        "ring": np.zeros((depth if depth > 2 else 1, offset + 2 * max(sizes)), dtype=np.float32),
        "proj_order": np.arange(len(projections), dtype=np.int64),
        "proj_src_start": np.array([starts[item[0]] for item in projections], dtype=np.int64),
        "proj_tgt_offset": np.array([ch_offset[renumber[item[1]]] for item in projections], dtype=np.int64),
        "proj_weight": np.array([item[2] for item in projections], dtype=np.float64),
        "proj_delay": np.array([item[3] for item in projections], dtype=np.int64),
        "proj_indptr_offset": np.array(indptr_offsets, dtype=np.int64),
        "proj_indices_offset": np.array(indices_offsets, dtype=np.int64),
        "indptr": np.concatenate(indptr_parts) if indptr_parts else np.zeros(1, dtype=np.int64),
        "indices": np.concatenate(indices_parts) if indices_parts else np.zeros(1, dtype=np.int32),
        "poisson_pop": np.array([item[0] for item in poisson], dtype=np.int64),
        "poisson_channel": np.array([renumber[item[1]] for item in poisson], dtype=np.int64),
        "poisson_lambda": np.array([item[2] for item in poisson], dtype=np.float64),
        "poisson_weight": np.array([item[3] for item in poisson], dtype=np.float64),
        "i_const": inputs_const,
        "i_column": i_column,
        "i_gain": i_gain,
        "i_table": i_table,
        "record_index": record_index,
    }
    # Views into the kernel's arrays, so that no synapse is held twice.
    connectivity = [
        (
            item[6],
            item[7],
            arrays["indptr"][indptr_offsets[q] : indptr_offsets[q] + len(item[4])],
            arrays["indices"][indices_offsets[q] : indices_offsets[q] + len(item[5])],
        )
        for q, item in enumerate(projections)
    ]
    return Compiled(arrays, pops, int(at_indices), connectivity)


KERNEL_ARGS_BEFORE_BUFFERS = (
    "pop_start",
    "pop_stop",
    "pop_model",
    "pop_params",
    "pop_ch_ptr",
    "pop_cond",
    "pop_proj_ptr",
    "v",
    "w",
    "ref_until",
    "ch_kind",
    "ch_offset",
    "ch_decay",
    "ch_erev",
    "ch_pmx",
    "x",
    "ring",
    "proj_order",
    "proj_src_start",
    "proj_tgt_offset",
    "proj_weight",
    "proj_delay",
    "proj_indptr_offset",
    "proj_indices_offset",
    "indptr",
    "indices",
    "poisson_pop",
    "poisson_channel",
    "poisson_lambda",
    "poisson_weight",
    "i_const",
    "i_column",
    "i_gain",
    "i_table",
)


def _spike_times(steps: list[np.ndarray], dt: float) -> np.ndarray:
    """The kept spike steps as one array of times (s), built in place (runs can hold 10^8 spikes)."""
    times = np.empty(sum(len(chunk) for chunk in steps))
    np.concatenate(steps, out=times, casting="safe")
    times *= dt
    return times


@contextmanager
def _gc_paused():
    """Numba's first load of compiled code creates a burst of long-lived objects; without this the cyclic
    collector would run several full passes over them (a tenth of a second at start-up)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def simulate(
    network: Network,
    duration_s: float,
    *,
    dt_s: float = 1e-4,
    seed: int = 0,
    record: list[tuple[str, int]] | None = None,
    progress: Callable[[float], None] | None = None,
    stream_loader: Callable | None = None,
) -> SimulationResult:
    """Run ``network`` for ``duration_s``. ``progress(simulated seconds)`` is called between chunks; a
    KeyboardInterrupt there (or during a chunk) ends the run cleanly, keeping what was simulated."""
    dt = dt_s
    if duration_s <= 0 or dt <= 0:
        raise NetworkError("the duration and the time step must be positive")
    started = time.perf_counter()
    with _gc_paused():
        compiled = compile_network(
            network, dt_s=dt, seed=seed, record=record, duration_s=duration_s, stream_loader=stream_loader
        )
    build_s = time.perf_counter() - started
    a = compiled.arrays
    n_steps = round(duration_s / dt)
    n_total = len(a["v"])
    chunk = max(1, min(n_steps, round(CHUNK_S / dt)))
    # The kernel fills this buffer during a chunk (stopping early when another step might not fit); its
    # spikes are moved out after every chunk, so the buffer stays small and warm in cache.
    capacity = max(n_total * 4, 1 << 16)
    spike_step = np.empty(capacity, dtype=np.int64)
    spike_index = np.empty(capacity, dtype=np.int64)
    record_v = np.zeros((n_steps, len(a["record_index"])))
    pop_counts = np.zeros((n_steps, len(compiled.populations)), dtype=np.int64)
    largest = max(size for _, size in compiled.populations.values())
    scratch = np.zeros(3 * largest)
    # Membrane loops flag spikes here; the scan reads them as 64-bit words. The last byte says "any spike".
    flags = np.zeros((largest + 7) // 8 * 8 + 8, dtype=np.int8)
    # numba's generator (Poisson inputs) is one per process and thread, not per network: seeding it here at
    # the start of every run makes a run's spikes a function of its seed alone. Two runs must therefore not
    # share a thread at once (neuroshell runs one simulation at a time per session).
    k.seed(seed)
    fixed = tuple(a[name] for name in KERNEL_ARGS_BEFORE_BUFFERS)
    t, completed = 0, True
    kept_steps, kept_index = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]

    def advance(todo: int) -> tuple[int, int]:
        return k.run_chunk(
            t,
            todo,
            dt,
            *fixed,
            spike_step,
            spike_index,
            0,
            a["record_index"],
            record_v[t : t + todo],
            pop_counts[t : t + todo],
            scratch,
            flags,
        )

    with _gc_paused():
        advance(0)  # load the compiled kernel first, so wall_s times the simulation loop alone
    loop_started = time.perf_counter()
    try:
        while t < n_steps:
            todo = min(chunk, n_steps - t)
            done, n_spikes = advance(todo)
            kept_steps.append(spike_step[:n_spikes].copy())
            kept_index.append(spike_index[:n_spikes].copy())
            t += done
            if progress is not None:
                progress(t * dt)
    except KeyboardInterrupt:
        completed = False
    wall_s = time.perf_counter() - loop_started
    simulated = t * dt
    return SimulationResult(
        network_json=network.to_json(),
        dt_s=dt,
        duration_s=simulated,
        seed=seed,
        populations=compiled.populations,
        spike_times_s=_spike_times(kept_steps, dt),
        spike_index=np.concatenate(kept_index),
        recorded_index=a["record_index"],
        state_v=record_v[:t],
        pop_counts=pop_counts[:t],
        wall_s=wall_s,
        build_s=build_s,
        n_synapses=compiled.n_synapses,
        completed=completed,
        synapse_bytes=compiled.synapse_bytes,
        peak_resident_bytes=_peak_resident_bytes(),
    )


def _peak_resident_bytes() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux counts kilobytes
