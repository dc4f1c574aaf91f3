"""Spike-timing-dependent plasticity (STDP) on the projections that have it, with per-neuron traces as in
Brian2's STDP example and NEST's stdp_synapse:

- a presynaptic spike counts at the step it arrives (spike step + the projection's delay): its source's
  trace grows by ``apre``, the weight goes into the target's synaptic state, then the weight changes by
  the target's postsynaptic trace (depression: ``apost`` < 0);
- a postsynaptic spike: its trace grows by ``apost``, then each incoming weight changes by its source's
  presynaptic trace (potentiation).

Traces are fractions of ``wmax`` and decay by exp(-dt / tau) per step, applied when a trace is read or
bumped (from the step it last changed), so that steps without spikes cost nothing. Additive: dw = wmax * trace;
multiplicative: potentiation (wmax - w) * trace, depression w * trace. Weights are clipped to [0, wmax].
"""

import numba

from neuroshell.neuron.kernels.collect import population_of

ADDITIVE, MULTIPLICATIVE = 0, 1


@numba.njit(inline="always")
def _clip(value, wmax):
    return min(max(value, 0.0), wmax)


@numba.njit(inline="always")
def _now(trace, last, k, t, decay):
    """Trace ``k`` at step ``t``: its value when it last changed, decayed since."""
    return trace[k] * decay ** (t - last[k])


@numba.njit(cache=True, fastmath=True)
def arrive(t, pl, proj, x):
    """The presynaptic spikes that arrive in step ``t``: deliver their weights, then depress them."""
    weights, pre, post, queue, counts = pl.weights, pl.pre_trace, pl.post_trace, pl.queue, pl.queue_count
    pre_last, post_last = pl.pre_last, pl.post_last
    indptr, indices = proj.indptr, proj.indices
    slot = t % queue.shape[0]
    for b in range(pl.proj.shape[0]):
        q = pl.proj[b]
        row0, index0, w0 = proj.indptr_offset[q], proj.indices_offset[q], pl.w_offset[b]
        target, post0, wmax, apre = proj.tgt_offset[q], pl.post_offset[b], pl.wmax[b], pl.apre[b]
        queue0, pre0 = pl.queue_offset[b], pl.pre_offset[b]
        decay_pre, decay_post = pl.decay_pre[b], pl.decay_post[b]
        multiplicative = pl.rule[b] == MULTIPLICATIVE
        for n in range(counts[slot, b]):
            i = queue[slot, queue0 + n]
            pre[pre0 + i] = _now(pre, pre_last, pre0 + i, t, decay_pre) + apre
            pre_last[pre0 + i] = t
            for k in range(indptr[row0 + i], indptr[row0 + i + 1]):
                j = indices[index0 + k]
                w = weights[w0 + k]
                x[target + j] += w
                trace = _now(post, post_last, post0 + j, t, decay_post)
                change = w * trace if multiplicative else wmax * trace
                weights[w0 + k] = _clip(w + change, wmax)
        counts[slot, b] = 0


@numba.njit(cache=True, fastmath=True)
def enqueue(t, b, i_local, pl):
    """Presynaptic spike of source ``i_local`` of plastic projection ``b`` in step ``t``."""
    slot = (t + pl.delay[b]) % pl.queue.shape[0]
    pl.queue[slot, pl.queue_offset[b] + pl.queue_count[slot, b]] = i_local
    pl.queue_count[slot, b] += 1


@numba.njit(inline="always")
def queue_spikes(t, first_spike, n_spikes, pops, proj, pl, spike_index):
    """Spikes ``first_spike:n_spikes`` of step ``t`` on every plastic projection leaving their population,
    in spike order (``arrive`` delivers them after the projection's delay)."""
    for s in range(first_spike, n_spikes):
        i = spike_index[s]
        p = population_of(i, pops.stop)
        for e in range(pops.proj_ptr[p], pops.proj_ptr[p + 1]):
            q = proj.order[e]
            if proj.plastic[q] >= 0:
                enqueue(t, proj.plastic[q], i - proj.src_start[q], pl)


@numba.njit(cache=True, fastmath=True)
def on_post(t, first_spike, n_spikes, pop_stop, pl, spike_index):
    """Postsynaptic spikes ``first_spike:n_spikes`` of step ``t``: potentiate their incoming weights."""
    weights, pre, post, pre_last, post_last = pl.weights, pl.pre_trace, pl.post_trace, pl.pre_last, pl.post_last
    col_ptr, col_syn, col_src = pl.col_ptr, pl.col_syn, pl.col_src
    for s in range(first_spike, n_spikes):
        i = spike_index[s]
        p = population_of(i, pop_stop)
        for b in range(pl.proj.shape[0]):
            if pl.tgt_pop[b] != p:
                continue
            j = pl.post_offset[b] + i - pl.tgt_start[b]
            post[j] = _now(post, post_last, j, t, pl.decay_post[b]) + pl.apost[b]
            post_last[j] = t
            j -= pl.post_offset[b]
            wmax, w0, pre0, col0, decay_pre = (
                pl.wmax[b],
                pl.w_offset[b],
                pl.pre_offset[b],
                pl.col_offset[b],
                pl.decay_pre[b],
            )
            multiplicative = pl.rule[b] == MULTIPLICATIVE
            for c in range(col_ptr[col0 + j], col_ptr[col0 + j + 1]):
                k = w0 + col_syn[c]
                trace = _now(pre, pre_last, pre0 + col_src[c], t, decay_pre)
                change = (wmax - weights[k]) * trace if multiplicative else wmax * trace
                weights[k] = _clip(weights[k] + change, wmax)
