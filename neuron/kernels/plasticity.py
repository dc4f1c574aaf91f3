"""Spike-timing-dependent plasticity (STDP) on the projections that have it, with per-neuron traces as in
Brian2's STDP example and NEST's stdp_synapse:

- a presynaptic spike counts at the step it arrives (spike step + the projection's delay): its source's
  trace grows by ``apre``, the weight goes into the target's synaptic state, then the weight changes by
  the target's postsynaptic trace (depression: ``apost`` < 0);
- a postsynaptic spike: its trace grows by ``apost``, then each incoming weight changes by its source's
  presynaptic trace (potentiation).

Traces are fractions of ``wmax`` and decay every step by exp(-dt / tau). Additive: dw = wmax * trace;
multiplicative: potentiation (wmax - w) * trace, depression w * trace. Weights are clipped to [0, wmax].
"""

import numba

from neuroshell.neuron.kernels.collect import population_of

ADDITIVE, MULTIPLICATIVE = 0, 1


@numba.njit(inline="always")
def _clip(value, wmax):
    return min(max(value, 0.0), wmax)


@numba.njit(cache=True, fastmath=True)
def decay_traces(pl):
    pre, post = pl.pre_trace, pl.post_trace
    for b in range(pl.proj.shape[0]):
        decay = pl.decay_pre[b]
        for i in range(pl.pre_offset[b], pl.pre_offset[b] + pl.n_src[b]):
            pre[i] *= decay
        decay = pl.decay_post[b]
        for j in range(pl.post_offset[b], pl.post_offset[b] + pl.n_tgt[b]):
            post[j] *= decay


@numba.njit(cache=True, fastmath=True)
def arrive(t, pl, proj, x):
    """The presynaptic spikes that arrive in step ``t``: deliver their weights, then depress them."""
    weights, pre, post, queue, counts = pl.weights, pl.pre_trace, pl.post_trace, pl.queue, pl.queue_count
    indptr, indices = proj.indptr, proj.indices
    slot = t % queue.shape[0]
    for b in range(pl.proj.shape[0]):
        q = pl.proj[b]
        row0, index0, w0 = proj.indptr_offset[q], proj.indices_offset[q], pl.w_offset[b]
        target, post0, wmax, apre = proj.tgt_offset[q], pl.post_offset[b], pl.wmax[b], pl.apre[b]
        queue0, pre0 = pl.queue_offset[b], pl.pre_offset[b]
        multiplicative = pl.rule[b] == MULTIPLICATIVE
        for n in range(counts[slot, b]):
            i = queue[slot, queue0 + n]
            pre[pre0 + i] += apre
            for k in range(indptr[row0 + i], indptr[row0 + i + 1]):
                j = indices[index0 + k]
                w = weights[w0 + k]
                x[target + j] += w
                change = w * post[post0 + j] if multiplicative else wmax * post[post0 + j]
                weights[w0 + k] = _clip(w + change, wmax)
        counts[slot, b] = 0


@numba.njit(cache=True, fastmath=True)
def enqueue(t, b, i_local, pl):
    """Presynaptic spike of source ``i_local`` of plastic projection ``b`` in step ``t``."""
    slot = (t + pl.delay[b]) % pl.queue.shape[0]
    pl.queue[slot, pl.queue_offset[b] + pl.queue_count[slot, b]] = i_local
    pl.queue_count[slot, b] += 1


@numba.njit(cache=True, fastmath=True)
def on_post(first_spike, n_spikes, pop_stop, pl, spike_index):
    """Postsynaptic spikes ``first_spike:n_spikes`` of this step: potentiate their incoming weights."""
    weights, pre, post = pl.weights, pl.pre_trace, pl.post_trace
    col_ptr, col_syn, col_src = pl.col_ptr, pl.col_syn, pl.col_src
    for s in range(first_spike, n_spikes):
        i = spike_index[s]
        p = population_of(i, pop_stop)
        for b in range(pl.proj.shape[0]):
            if pl.tgt_pop[b] != p:
                continue
            j = i - pl.tgt_start[b]
            post[pl.post_offset[b] + j] += pl.apost[b]
            wmax, w0, pre0, col0 = pl.wmax[b], pl.w_offset[b], pl.pre_offset[b], pl.col_offset[b]
            multiplicative = pl.rule[b] == MULTIPLICATIVE
            for c in range(col_ptr[col0 + j], col_ptr[col0 + j + 1]):
                k = w0 + col_syn[c]
                trace = pre[pre0 + col_src[c]]
                change = (wmax - weights[k]) * trace if multiplicative else wmax * trace
                weights[k] = _clip(weights[k] + change, wmax)
