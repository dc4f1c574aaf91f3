"""Spike collection: the neurons a membrane pass flagged, listed (by each thread for its part) and then
stored in the chunk's spike buffer in index order; and the regrouping of a run's spikes by population."""

import numba
import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

WORDS_PER_BLOCK = 32  # spike flags are tested 256 neurons at a time: most blocks are empty


@numba.njit(inline="always")
def population_of(i, pop_stop):
    """The population holding neuron ``i``: how many populations end at or before it (no branches, as
    consecutive spikes come from populations in no predictable order)."""
    p = 0
    for q in range(pop_stop.shape[0] - 1):
        p += pop_stop[q] <= i
    return p


@numba.njit(inline="always")
def flagged(flags, lo, hi, found):
    """The neurons ``lo:hi`` (lo a multiple of 8) a membrane pass flagged, in ascending order, written to
    ``found[lo:]``; returns how many. Empty blocks of flags are skipped (spikes are sparse); the array must
    hold ``hi`` rounded up to a multiple of 8."""
    words = flags[lo : lo + (hi - lo + 7) // 8 * 8].view(np.uint64)
    n_words = words.shape[0]
    full_blocks = n_words // WORDS_PER_BLOCK
    tail = (hi - lo) % 8
    count = 0
    for block in range(full_blocks + 1):
        first = block * WORDS_PER_BLOCK
        if block < full_blocks:
            any_flag = np.uint64(0)
            for word in range(first, first + WORDS_PER_BLOCK):  # a fixed count: LLVM vectorises the OR
                any_flag |= words[word]
            if any_flag == 0:
                continue
        for word in range(first, min(first + WORDS_PER_BLOCK, n_words)):
            # A flag is a byte of 0 or 1: each set bit is a spike, found by counting trailing zeros (testing
            # the word's 8 bytes one by one cost ~75 ns a spike in mispredicted branches).
            bits = words[word]
            if word == n_words - 1 and tail:  # the bytes past ``hi`` are not this part's
                bits &= (np.uint64(1) << np.uint64(8 * tail)) - np.uint64(1)
            while bits:
                found[lo + count] = lo + word * 8 + (np.int64(trailing_zeros(bits)) >> 3)
                count += 1
                bits &= bits - np.uint64(1)
    return count


@numba.njit(inline="always")
def make_refractory(t, start, found, lo, count, ref_steps, ref_until):
    """The ``count`` neurons listed at ``found[lo:]`` (population starting at global index ``start``) spiked
    in step ``t``: they integrate again from step ``t + ref_steps``. Done by the part that found them, on
    the core whose cache holds their state (from the storing thread, each spike moved a cache line)."""
    for k in range(count):
        ref_until[start + found[lo + k]] = t + ref_steps


@numba.njit(inline="always")
def store_spikes(t, start, found, lo, count, out, n_spikes):
    """Append the ``count`` spikes listed at ``found[lo:]`` (indices within the population starting at global
    index ``start``) to the chunk's spike buffer."""
    spike_step, spike_index = out.spike_step, out.spike_index
    for k in range(count):
        spike_step[n_spikes] = t
        spike_index[n_spikes] = start + found[lo + k]
        n_spikes += 1
    return n_spikes


@numba.njit(cache=True)
def group_by_population(spike_times, spike_index, pop_stop):
    """Spikes regrouped by population in one counting-sort pass, time order kept within each: their times,
    their indices within the population, and where each population's share begins (length n_pops + 1)."""
    n_pops = pop_stop.shape[0]
    bounds = np.zeros(n_pops + 1, dtype=np.int64)
    for s in range(spike_index.shape[0]):
        bounds[population_of(spike_index[s], pop_stop) + 1] += 1
    for p in range(n_pops):
        bounds[p + 1] += bounds[p]
    fill = bounds[:-1].copy()
    times = np.empty(spike_index.shape[0], dtype=np.float64)
    local = np.empty(spike_index.shape[0], dtype=np.int64)
    for s in range(spike_index.shape[0]):
        i = spike_index[s]
        p = population_of(i, pop_stop)
        times[fill[p]] = spike_times[s]
        local[fill[p]] = i - (pop_stop[p - 1] if p > 0 else 0)
        fill[p] += 1
    return times, local, bounds
