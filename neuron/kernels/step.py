"""The simulation step: one call advances the whole network by a chunk of time steps.

Per step: delayed arrivals and Poisson inputs into the synaptic state (and the plastic synapses' arrivals,
``plasticity``), then each population's update (``membrane``) and the collection of its spikes
(``collect``), potentiation by those spikes, the traced potentials, then the step's spikes through the
projections (``propagate``). The large passes run in parallel parts (``threaded``). All quantities are SI
floats; the records are described in ``neuron.records``.
"""

import numba
import numpy as np

from neuroshell.neuron.kernels.collect import flagged, make_refractory, store_spikes
from neuroshell.neuron.kernels.drive import poisson_into
from neuroshell.neuron.kernels.membrane import (
    euler_population,
    lif_conductance,
    lif_exact,
    part_range,
    poisson_population,
)
from neuroshell.neuron.kernels.plasticity import arrive, on_post
from neuroshell.neuron.kernels.propagate import propagate_spikes
from neuroshell.neuron.kernels.threaded import (
    THREADED_NEURONS,
    THREADED_SPIKES,
    membrane_threaded,
    propagate_threaded,
)
from neuroshell.neuron.layout import LIF, P_REF_STEPS, POISSON


@numba.njit(cache=True, fastmath=True)
def run_chunk(t0, n_steps, dt, pops, ch, proj, drive, state, out, work, pl, n_spikes, n_parts):
    """Advance ``n_steps`` from step ``t0``. Returns (steps done, spikes stored); stops early when one
    more step's spikes might not fit in the spike buffer, so the caller can empty it and continue.
    With ``n_parts`` > 1 (``threaded.parts_for``) the large passes run in that many parts on numba's threads."""
    n_pops = pops.start.shape[0]
    capacity = out.spike_step.shape[0]
    plastic = pl.proj.shape[0] > 0
    for step in range(n_steps):
        t = t0 + step
        if n_spikes + pops.stop[n_pops - 1] > capacity:
            return step, n_spikes
        _arrivals(t, pops, drive, state, ch, work.scratch)
        if plastic:
            arrive(t, pl, proj, state.x)
        first_spike = n_spikes
        for p in range(n_pops):
            if pops.model[p] == LIF:
                n_spikes = lif_population(p, t, dt, pops, ch, drive, state, out, work, n_spikes, n_parts)
            elif pops.model[p] == POISSON:
                n_spikes = poisson_population(p, t, dt, pops, state, out, n_spikes)
            else:
                n_spikes = euler_population(p, t, dt, pops, ch, drive, state, out, n_spikes)
        if plastic and n_spikes > first_spike:
            on_post(t, first_spike, n_spikes, pops.stop, pl, out.spike_index)
        for r in range(out.record_index.shape[0]):
            out.record_v[step, r] = state.v[out.record_index[r]]
        if n_parts > 1 and n_spikes - first_spike >= THREADED_SPIKES:
            propagate_threaded(t, step, first_spike, n_spikes, pops, proj, state, out, pl, n_parts)
        elif n_spikes > first_spike:  # taking the projections' arrays out costs more than an empty step
            propagate_spikes(t, step, first_spike, n_spikes, pops, proj, state, out, pl, 0, 1)
    return n_steps, n_spikes


@numba.njit(inline="always")
def lif_population(p, t, dt, pops, ch, drive, state, out, work, n_spikes, n_parts):
    """Update LIF population ``p`` (in parallel parts when large) and store its spikes in index order."""
    start, n, ref_steps = pops.start[p], pops.stop[p] - pops.start[p], pops.params[p, P_REF_STEPS]
    if n_parts > 1 and n >= THREADED_NEURONS:
        counts = membrane_threaded(p, t, dt, pops, ch, drive, state, work, n_parts)
        for part in range(n_parts):
            lo = part_range(n, part, n_parts)[0]
            n_spikes = store_spikes(t, start, work.found, lo, counts[part], out, n_spikes)
        return n_spikes
    if pops.cond[p]:
        count = lif_conductance(p, t, dt, pops, ch, drive, state, work, 0, 1)
    else:
        count = lif_exact(p, t, pops, ch, drive, state, work, 0, 1)
    if count:
        count = flagged(work.flags, 0, n, work.found)
        make_refractory(t, start, work.found, 0, count, ref_steps, state.ref_until)
    return store_spikes(t, start, work.found, 0, count, out, n_spikes)


@numba.njit(inline="always")
def _arrivals(t, pops, drive, state, ch, scratch):
    """What arrives in step ``t``: delayed spikes from the ring buffer, then Poisson input spikes."""
    x, ring = state.x, state.ring
    depth = ring.shape[0]
    if depth > 2:
        slot = t % depth
        for k in range(ring.shape[1]):
            x[k] += ring[slot, k]
            ring[slot, k] = 0.0
    for q in range(drive.poisson_pop.shape[0]):
        p = drive.poisson_pop[q]
        base = ch.offset[drive.poisson_channel[q]]
        poisson_into(x, base, pops.stop[p] - pops.start[p], drive.poisson_lambda[q], drive.poisson_weight[q], scratch)


@numba.njit(cache=True)
def seed(value):
    np.random.seed(value)
