"""The step's parallel part: one region per step on numba's threads. Part ``k`` of ``n`` owns the same
share of every population (``membrane.part_range``) and, for those neurons only, delivers the previous
step's spikes (``propagate``), adds their delayed arrivals and Poisson inputs (``drive``), updates their
membranes and lists their spikes.
A neuron's state therefore stays in one core's cache, no two parts write the same value, and one fork and
join per step is all the threads cost. Which part a neuron falls in does not change its arithmetic, so a
run's spikes are the same for any number of parts. What needs one order (the draws' keys, storing the
spikes in order, plasticity) stays on one thread (``step``).
"""

import numba

from neuroshell.neuron.kernels.collect import flagged, make_refractory
from neuroshell.neuron.kernels.drive import TABLED, poisson_share
from neuroshell.neuron.kernels.membrane import lif_conductance, lif_exact, part_range
from neuroshell.neuron.kernels.propagate import propagate_spikes
from neuroshell.neuron.layout import LIF, P_REF_STEPS
from neuroshell.neuron.records import Work

# Below this many neurons a step is shorter than the few microseconds a parallel region costs (CUBA, 2
# threads against 1: 0.75x at 10,000 neurons, 0.97x at 20,000, 1.2-1.4x at 40,000).
THREADED_NEURONS = 20_000


def parts_for(n_neurons: int, threads: int) -> int:
    """How many parallel parts a step is cut into: ``threads``, or 1 for a network under THREADED_NEURONS."""
    return threads if n_neurons >= THREADED_NEURONS else 1


@numba.njit(inline="always")
def step_part(t, previous, dt, pops, ch, proj, drive, state, spike_index, work, inputs, part, n_parts):
    """Part ``part`` of step ``t`` for its neurons: the spikes of step t - 1 (``previous``: their span in
    ``spike_index``), the ring's arrivals and the Poisson inputs into the synaptic state, then each LIF
    population's update; its spike counts go to ``work.counts[part]``, the spikes to ``work.found``
    (``population_work``). ``inputs``: whether the network has delays through the ring and Poisson inputs
    (a call with nothing to do still cost ~0.1 us a step, a fifth of a small network's step)."""
    first, end = previous
    if end > first:
        propagate_spikes(t - 1, first, end, pops, proj, state, spike_index, part, n_parts)
    delayed, driven = inputs
    if delayed:
        ring_arrivals(t, pops, ch, state, part, n_parts)
    if driven:
        poisson_arrivals(pops, ch, drive, state, work, part, n_parts)
    counts = work.counts  # written through the record's field inside numba.prange, the counts were lost
    for p in range(pops.start.shape[0]):
        if pops.model[p] == LIF:
            counts[part, p] = lif_part(p, t, dt, pops, ch, drive, state, population_work(work, p), part, n_parts)


# The parallel kernels are not cached on their own (no cache=True): they are compiled into run_chunk, whose
# cache entry holds them. A cached parallel kernel linked into a newly compiled caller made the next process
# loading that caller crash (a segfault); a first compile stopped part way, or two processes compiling at
# once, left such a cache (tests/test_threads.py).


@numba.njit(fastmath=True, parallel=True)
def step_threaded(t, previous, dt, pops, ch, proj, drive, state, spike_index, work, inputs, n_parts):
    """``step_part`` for every part, in parallel."""
    for part in numba.prange(n_parts):
        step_part(t, previous, dt, pops, ch, proj, drive, state, spike_index, work, inputs, part, n_parts)


@numba.njit(fastmath=True, parallel=True)
def propagate_threaded(t, first_spike, n_spikes, pops, proj, state, spike_index, n_parts):
    """``propagate_spikes`` of step ``t`` in ``n_parts`` parallel parts (the last step of a chunk)."""
    for part in numba.prange(n_parts):
        propagate_spikes(t, first_spike, n_spikes, pops, proj, state, spike_index, part, n_parts)


@numba.njit(inline="always")
def lif_part(p, t, dt, pops, ch, drive, state, own, part, n_parts):
    """``lif_exact`` or ``lif_conductance`` of the part's neurons of population ``p``, then the listing of
    their spikes (``collect.flagged``), made refractory. Returns how many spiked."""
    if pops.cond[p]:
        count = lif_conductance(p, t, dt, pops, ch, drive, state, own, part, n_parts)
    else:
        count = lif_exact(p, t, pops, ch, drive, state, own, part, n_parts)
    if count:
        lo, hi = part_range(pops.stop[p] - pops.start[p], part, n_parts)
        count = flagged(own.flags, lo, hi, own.found)
        make_refractory(t, pops.start[p], own.found, lo, count, pops.params[p, P_REF_STEPS], state.ref_until)
    return count


@numba.njit(inline="always")
def population_work(work, p):
    """Population ``p``'s own stretch of the work arrays, so parts updating different populations at once
    never share one (its scratch holds 3 values per neuron)."""
    at = work.offset[p]
    return Work(work.scratch[3 * at :], work.flags[at:], work.found[at:], work.offset, work.counts, work.keys)


@numba.njit(inline="always")
def ring_arrivals(t, pops, ch, state, part, n_parts):
    """Add the delayed spikes due in step ``t`` to the part's neurons' synaptic state, emptying their slot."""
    x, ring = state.x, state.ring
    slot = t % ring.shape[0]
    for p in range(pops.start.shape[0]):
        lo, hi = part_range(pops.stop[p] - pops.start[p], part, n_parts)
        for c in range(pops.ch_ptr[p], pops.ch_ptr[p + 1]):
            base = ch.offset[c]
            arrived, channel = ring[slot, base + lo : base + hi], x[base + lo : base + hi]
            for j in range(hi - lo):
                channel[j] += arrived[j]
                arrived[j] = 0.0


@numba.njit(inline="always")
def poisson_arrivals(pops, ch, drive, state, work, part, n_parts):
    """The part's share of this step's Poisson inputs, under the keys drawn for them (``work.keys``)."""
    for q in range(drive.poisson_pop.shape[0]):
        expected = drive.poisson_lambda[q]
        if expected > TABLED:  # drawn on one thread
            continue
        p = drive.poisson_pop[q]
        lo, hi = part_range(pops.stop[p] - pops.start[p], part, n_parts)
        base = ch.offset[drive.poisson_channel[q]]
        scratch = population_work(work, p).scratch
        poisson_share(state.x, base, lo, hi, expected, drive.poisson_weight[q], work.keys[q], scratch)
