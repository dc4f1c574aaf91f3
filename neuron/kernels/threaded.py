"""The step's two heavy passes spread over threads: a population's membrane update and the step's spike
propagation, each cut into parts that touch disjoint neurons (``membrane.part_range``: a part delivers
spikes to the neurons its membrane pass updates, so their state stays in one core's cache). Which part a
neuron falls in does not change its arithmetic, so a run's spikes are the same for any number of parts.
The rest of the step (inputs, Poisson sources, storing the spikes in order, plasticity) stays on one
thread: its random draws and its spike order must not depend on threads.
"""

import numba
import numpy as np

from neuroshell.neuron.kernels.collect import flagged, make_refractory
from neuroshell.neuron.kernels.membrane import lif_conductance, lif_exact, part_range
from neuroshell.neuron.kernels.propagate import propagate_spikes
from neuroshell.neuron.layout import P_REF_STEPS

# Below these a pass is shorter than waking the other threads (a few microseconds).
THREADED_NEURONS = 32768
THREADED_SPIKES = 32


def parts_for(largest_population: int, threads: int) -> int:
    """How many parallel parts a step is cut into: ``threads``, or 1 where no population reaches
    THREADED_NEURONS. Only a population that large updates its membranes on several threads, and
    delivering spikes on another core than the one updating their targets moves the targets' cache lines
    between cores every step, which cost more than it saved (COBA at 40k: 0.76x on 2 threads)."""
    return threads if largest_population >= THREADED_NEURONS else 1


# The parallel passes are not cached on their own (no cache=True): they are compiled into run_chunk, whose
# cache entry holds them. A cached parallel kernel linked into a newly compiled caller made the next process
# loading that caller crash (a segfault); a first compile stopped part way, or two processes compiling at
# once, left such a cache (tests/test_threads.py).


@numba.njit(fastmath=True, parallel=True)
def membrane_threaded(p, t, dt, pops, ch, drive, state, work, n_parts):
    """``lif_exact`` or ``lif_conductance`` of population ``p`` in ``n_parts`` parallel parts, each of which
    then lists its spikes (``collect.flagged``) and makes them refractory. Returns each part's spike count."""
    counts = np.zeros(n_parts, dtype=np.int64)  # a += reduction across parts compiles to far slower code
    n = pops.stop[p] - pops.start[p]
    for part in numba.prange(n_parts):
        if pops.cond[p]:
            count = lif_conductance(p, t, dt, pops, ch, drive, state, work, part, n_parts)
        else:
            count = lif_exact(p, t, pops, ch, drive, state, work, part, n_parts)
        if count:
            lo, hi = part_range(n, part, n_parts)
            counts[part] = flagged(work.flags, lo, hi, work.found)
            make_refractory(
                t, pops.start[p], work.found, lo, counts[part], pops.params[p, P_REF_STEPS], state.ref_until
            )
    return counts


@numba.njit(fastmath=True, parallel=True)
def propagate_threaded(t, step, first_spike, n_spikes, pops, proj, state, out, pl, n_parts):
    """``propagate_spikes`` in ``n_parts`` parallel parts, each over its share of the targets."""
    for part in numba.prange(n_parts):
        propagate_spikes(t, step, first_spike, n_spikes, pops, proj, state, out, pl, part, n_parts)
