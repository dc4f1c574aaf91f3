"""Running a network: compile the description into flat arrays, then advance it in chunks with the numba
kernel (progress and Ctrl-C between chunks), collecting spikes, state traces and population rates."""

import gc
import os
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import numba
import numpy as np

from neuroshell.neuron import kernels as k
from neuroshell.neuron.compiler import Compiled, compile_network, kernel_records
from neuroshell.neuron.kernels.membrane import ALIGN
from neuroshell.neuron.kernels.propagate import row_splits
from neuroshell.neuron.kernels.threaded import parts_for
from neuroshell.neuron.network import Network, NetworkError
from neuroshell.neuron.records import Output, PopulationSpan, WeightHistory, Work
from neuroshell.neuron.threadchoice import AUTO, MachineLoad, ThreadChoice

__all__ = ["Compiled", "SimulationResult", "compile_network", "simulate"]

CHUNK_S = 0.05


@dataclass(kw_only=True)
class SimulationResult:
    """What a run produced. Spike times in s; ``state_v`` (n_steps, n_recorded) in V; rates in Hz."""

    network_json: str
    dt_s: float
    duration_s: float
    seed: int
    populations: dict[str, PopulationSpan]
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
    # Plastic projections ("SRC->DST"): weight snapshots over the run, and the final weights.
    weights: dict[str, WeightHistory] = field(default_factory=dict)
    learned: dict[str, np.ndarray] = field(default_factory=dict)
    peak_resident_bytes: int = 0  # of the process, since it started (the run's own peak is at most this)
    threads: int | str = 1  # asked for: a count or "auto"
    threads_used: int = 1  # parts most steps ran in (``kernels.threaded.parts_for``), on at most the cores
    threads_said: str = "1 thread"  # what ran and, with "auto", why (``ThreadChoice.describe``)
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
        size = self.populations[population].size
        return self.spike_count(population) / (size * self.duration_s) if self.duration_s else 0.0

    def rate_hz(self, population: str, bin_s: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
        """Population rate per bin: bin start times (s) and rates (Hz)."""
        names = list(self.populations)
        per_bin = max(1, round(bin_s / self.dt_s))
        counts = self.pop_counts[:, names.index(population)]
        n_bins = len(counts) // per_bin
        binned = counts[: n_bins * per_bin].reshape(n_bins, per_bin).sum(axis=1)
        bin_s = per_bin * self.dt_s
        return np.arange(n_bins) * bin_s, binned / (self.populations[population].size * bin_s)


def _spike_times(steps: list[np.ndarray], dt: float) -> np.ndarray:
    """The kept spike steps as one array of times (s), built in place (runs can hold 10^8 spikes)."""
    times = np.empty(sum(len(chunk) for chunk in steps))
    np.concatenate(steps, out=times, casting="safe")
    times *= dt
    return times


def _work(sizes: list[int], parts: int, n_poisson: int) -> Work:
    """The step's work arrays: a stretch per population, starting on a multiple of ALIGN neurons (as a
    part's share does) and padded, as the spike scan reads flags 8 at a time."""
    stretches = [(size + ALIGN - 1) // ALIGN * ALIGN + ALIGN for size in sizes]
    offset = np.concatenate([[0], np.cumsum(stretches)[:-1]]).astype(np.int64)
    total = sum(stretches)
    return Work(
        np.zeros(3 * total),
        np.zeros(total, dtype=np.int8),
        np.zeros(total, dtype=np.int32),
        offset,
        np.zeros((parts, len(sizes)), dtype=np.int64),
        np.zeros(n_poisson, dtype=np.uint64),
    )


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
    weights_every_s: float | None = None,
    threads: int | str | ThreadChoice = AUTO,
    cores: int | None = None,
    stop: threading.Event | None = None,
) -> SimulationResult:
    """Run ``network`` for ``duration_s``. ``progress(simulated seconds)`` is called between chunks; a
    KeyboardInterrupt there (or during a chunk) ends the run cleanly, keeping what was simulated. With
    ``weights_every_s``, the plastic projections' weights are kept at the start, that often, and at the end.
    ``threads`` share each step (``kernels.threaded``): a count, or ``"auto"`` (every core this process may
    use, or ``cores`` of them, or one, whichever the chunks' timings find faster: ``threadchoice``), or a
    ``ThreadChoice`` that decides. The spikes do not depend on it. ``stop`` (set from another thread) ends the
    run after the chunk running, as a KeyboardInterrupt does."""
    dt = dt_s
    if duration_s <= 0 or dt <= 0:
        raise NetworkError("the duration and the time step must be positive")
    if not isinstance(threads, ThreadChoice) and threads != AUTO and threads < 1:
        raise NetworkError(f"threads must be at least 1 or 'auto', not {threads}")
    started = time.perf_counter()
    load = MachineLoad()  # measured from here: by the first probe, the build has given it a window
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
    _check_memory(n_steps, len(a["record_index"]) + len(compiled.populations), duration_s)
    record_v = np.zeros((n_steps, len(a["record_index"])))
    pop_counts = np.zeros((n_steps, len(compiled.populations)), dtype=np.int64)
    choice = _thread_choice(threads, n_total, cores or available_cores())
    parts = choice.most
    # numba's generator (Poisson inputs) is one per process and thread, not per network: seeding it here at
    # the start of every run makes a run's spikes a function of its seed alone. Two runs must therefore not
    # share a thread at once (neuroshell runs one simulation at a time per session).
    k.seed(seed)
    pops, channels, projections, drive, state, plastic = kernel_records(a)
    if parts > 1:
        row_split, split_offset = row_splits(projections, parts)
        projections = projections._replace(row_split=row_split, split_offset=split_offset)
    work = _work([size for _, size in compiled.populations.values()], parts, len(a["poisson_pop"]))
    every = max(1, round(weights_every_s / dt)) if weights_every_s else None
    snapshots = WeightSnapshots(compiled, every)
    t, completed = 0, True
    kept_steps, kept_index = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]

    def advance(todo: int, n_parts: int) -> tuple[int, int]:
        out = Output(spike_step, spike_index, a["record_index"], record_v[t : t + todo], pop_counts[t : t + todo])
        return k.run_chunk(t, todo, dt, pops, channels, projections, drive, state, out, work, plastic, 0, n_parts)

    with _gc_paused():
        advance(0, parts)  # load the compiled kernel first, so wall_s times the simulation loop alone
    # numba's thread count belongs to the calling thread; more parts than its pool holds share its threads
    numba_threads = numba.get_num_threads()
    numba.set_num_threads(min(parts, numba.config.NUMBA_NUM_THREADS))
    loop_started = time.perf_counter()
    try:
        while t < n_steps:
            if stop is not None and stop.is_set():
                completed = False
                break
            n_parts, todo = choice.next_chunk(min(chunk, n_steps - t, snapshots.steps_to_next(t)))
            chunk_started = time.perf_counter()
            done, n_spikes = advance(todo, n_parts)
            choice.observe(n_parts, done, time.perf_counter() - chunk_started, load.others_busy())
            kept_steps.append(spike_step[:n_spikes].copy())
            kept_index.append(spike_index[:n_spikes].copy())
            t += done
            snapshots.maybe_take(t, dt)
            if progress is not None:
                progress(t * dt)
    except KeyboardInterrupt:
        completed = False
    finally:
        numba.set_num_threads(numba_threads)
    wall_s = time.perf_counter() - loop_started
    simulated = t * dt
    snapshots.take_last(t, dt)
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
        weights=snapshots.by_projection(network),
        learned=snapshots.final(),
        threads=threads if not isinstance(threads, ThreadChoice) else AUTO,
        threads_used=min(choice.mostly(), numba.config.NUMBA_NUM_THREADS),
        threads_said=choice.describe(),
    )


class WeightSnapshots:
    """The plastic projections' weights over a run: every ``every`` steps (None: only the final ones)."""

    def __init__(self, compiled: Compiled, every: int | None) -> None:
        a = compiled.arrays
        self.weights, self.every = a["pl_weights"], every
        self.names = [f"{compiled.connectivity[q].source}->{compiled.connectivity[q].target}" for q in a["pl_proj"]]
        starts = a["pl_w_offset"]
        self.spans = list(zip(starts, [*starts[1:], len(self.weights)][: len(starts)], strict=True))
        self.times: list[float] = []
        self.kept: list[np.ndarray] = []
        if every is not None and self.names:
            self.maybe_take(0, 0.0)

    def steps_to_next(self, t: int) -> int:
        return self.every - t % self.every if self.every and self.names else 1 << 62

    def maybe_take(self, t: int, dt: float) -> None:
        if self.every and self.names and t % self.every == 0:
            self.times.append(t * dt)
            self.kept.append(self.weights.copy())

    def take_last(self, t: int, dt: float) -> None:
        if self.every and self.names and (not self.times or self.times[-1] != t * dt):
            self.times.append(t * dt)
            self.kept.append(self.weights.copy())

    def by_projection(self, network) -> dict[str, WeightHistory]:
        """Per projection (``SRC->DST`` of ``network``): its weights at each snapshot."""
        if not self.kept:
            return {}
        stacked, times = np.stack(self.kept), np.array(self.times)
        found = {}
        for name, (a, b) in zip(self.names, self.spans, strict=True):
            made = network.projection(*name.split("->"))
            found[name] = WeightHistory(times, stacked[:, a:b], made.weight_unit, made.plasticity.wmax)
        return found

    def final(self) -> dict[str, np.ndarray]:
        return {name: self.weights[a:b].copy() for name, (a, b) in zip(self.names, self.spans, strict=True)}


def _thread_choice(threads: int | str | ThreadChoice, n_neurons: int, cores: int) -> ThreadChoice:
    """A fixed count is a choice that never probes; "auto" chooses between one thread and ``cores``."""
    if isinstance(threads, ThreadChoice):
        return threads
    if threads == AUTO:
        return ThreadChoice(parts_for(n_neurons, cores), cores=cores)
    parts = parts_for(n_neurons, threads)
    return ThreadChoice(parts, current=parts, fixed=True)


def _check_memory(n_steps: int, values_per_step: int, duration_s: float) -> None:
    """Refuse a run whose per-step records (traced potentials, population counts: 8 bytes each) cannot fit in
    the memory free now, before it starts (it ended in a MemoryError part way)."""
    needed = n_steps * values_per_step * 8
    free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    if needed > free / 2:
        raise NetworkError(
            f"simulating {duration_s:g} s keeps {needed / 1e9:.1f} GB of traces and counts per step, and "
            f"{free / 1e9:.1f} GB of memory is free: simulate less at a time, or use a larger --dt"
        )


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, which a cluster's job may narrow)."""
    return len(os.sched_getaffinity(0))


def _peak_resident_bytes() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux counts kilobytes
