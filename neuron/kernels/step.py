"""The simulation step: one call advances the whole network by a chunk of time steps.

Per step, on one thread: the keys of the Poisson inputs' draws (``drive``) and the plastic synapses'
arrivals into the synaptic state (random draws and plasticity keep one order). Then, in parallel parts
(``threaded``; inline for one part): the previous step's spikes through the static projections
(``propagate``), the ring's delayed arrivals and the Poisson inputs, each LIF population's update
(``membrane``) and the listing of its spikes (``collect``). Then, on one thread again: the other
populations' updates, the spikes stored in population and index order, their potentiation and queueing on
plastic projections, and the traced potentials. The last step's spikes are delivered before the call
returns. All quantities are SI floats; the records are described in ``neuron.records``.
"""

import numba
import numpy as np

from neuroshell.neuron.kernels.collect import store_spikes
from neuroshell.neuron.kernels.drive import TABLED, draw_key, poisson_serial
from neuroshell.neuron.kernels.membrane import euler_population, part_range, poisson_population
from neuroshell.neuron.kernels.plasticity import arrive, on_post, queue_spikes
from neuroshell.neuron.kernels.propagate import propagate_spikes
from neuroshell.neuron.kernels.threaded import population_work, propagate_threaded, step_part, step_threaded
from neuroshell.neuron.layout import LIF, POISSON


@numba.njit(cache=True, fastmath=True, nogil=True)
def run_chunk(t0, n_steps, dt, pops, ch, proj, drive, state, out, work, pl, n_spikes, n_parts):
    """Advance ``n_steps`` from step ``t0``. Returns (steps done, spikes stored); stops early when one
    more step's spikes might not fit in the spike buffer, so the caller can empty it and continue.
    With ``n_parts`` > 1 (``threaded.parts_for``) the parts of each step run on numba's threads."""
    n_pops = pops.start.shape[0]
    capacity = out.spike_step.shape[0]
    plastic = pl.proj.shape[0] > 0
    # Delays through the ring (one-step ones go straight into the state) and Poisson inputs, if any
    inputs = (state.ring.shape[0] > 2, drive.poisson_pop.shape[0] > 0)
    previous = (n_spikes, n_spikes)
    for step in range(n_steps):
        t = t0 + step
        if n_spikes + pops.stop[n_pops - 1] > capacity:
            _deliver(t - 1, previous, pops, proj, state, out.spike_index, n_parts)
            return step, n_spikes
        if inputs[1]:
            _poisson_drive(pops, drive, state, ch, work.keys)
        if plastic:
            arrive(t, pl, proj, state.x)
        if n_parts > 1:
            step_threaded(t, previous, dt, pops, ch, proj, drive, state, out.spike_index, work, inputs, n_parts)
        else:
            step_part(t, previous, dt, pops, ch, proj, drive, state, out.spike_index, work, inputs, 0, 1)
        first_spike = n_spikes
        n_spikes = _store(t, step, dt, pops, ch, drive, state, out, work, n_spikes, n_parts)
        if plastic and n_spikes > first_spike:
            on_post(t, first_spike, n_spikes, pops.stop, pl, out.spike_index)
            queue_spikes(t, first_spike, n_spikes, pops, proj, pl, out.spike_index)
        for r in range(out.record_index.shape[0]):
            out.record_v[step, r] = state.v[out.record_index[r]]
        previous = (first_spike, n_spikes)
    _deliver(t0 + n_steps - 1, previous, pops, proj, state, out.spike_index, n_parts)
    return n_steps, n_spikes


@numba.njit(inline="always")
def _store(t, step, dt, pops, ch, drive, state, out, work, n_spikes, n_parts):
    """Store step ``t``'s spikes population by population, in index order: a LIF population's as its parts
    listed them, the others' as their (single-threaded) update finds them; count them per population."""
    for p in range(pops.start.shape[0]):
        before = n_spikes
        if pops.model[p] == LIF:
            start, n = pops.start[p], pops.stop[p] - pops.start[p]
            found = population_work(work, p).found
            for part in range(n_parts):
                lo = part_range(n, part, n_parts)[0]
                n_spikes = store_spikes(t, start, found, lo, work.counts[part, p], out, n_spikes)
        elif pops.model[p] == POISSON:
            n_spikes = poisson_population(p, t, dt, pops, state, out, n_spikes)
        else:
            n_spikes = euler_population(p, t, dt, pops, ch, drive, state, out, n_spikes)
        out.pop_counts[step, p] = n_spikes - before
    return n_spikes


@numba.njit(inline="always")
def _deliver(t, spikes, pops, proj, state, spike_index, n_parts):
    """Deliver the spikes of step ``t`` (``spikes``: their span) before the chunk returns."""
    first, end = spikes
    if end <= first:
        return
    if n_parts > 1:
        propagate_threaded(t, first, end, pops, proj, state, spike_index, n_parts)
    else:
        propagate_spikes(t, first, end, pops, proj, state, spike_index, 0, 1)


@numba.njit(inline="always")
def _poisson_drive(pops, drive, state, ch, keys):
    """This step's keys for the Poisson inputs the parts draw (``drive.poisson_share``), in input order;
    an input of more than TABLED arrivals per neuron and step is drawn here, neuron after neuron."""
    for q in range(drive.poisson_pop.shape[0]):
        expected = drive.poisson_lambda[q]
        if expected <= TABLED:
            keys[q] = draw_key()
        else:
            p = drive.poisson_pop[q]
            base = ch.offset[drive.poisson_channel[q]]
            poisson_serial(state.x, base, pops.stop[p] - pops.start[p], expected, drive.poisson_weight[q])


@numba.njit(cache=True)
def seed(value):
    np.random.seed(value)
