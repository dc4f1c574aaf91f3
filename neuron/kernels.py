"""The numba simulation kernel: one call advances the whole network by a chunk of time steps.

Per step: Poisson inputs, then each population's state update (LIF exact; AdEx and Izhikevich Euler),
threshold, reset and refractoriness, then event-driven propagation of the step's spikes through the CSR
projections, straight into the target's synaptic state (one-step delay) or into a ring buffer (longer).
All quantities are SI floats; see ``simulator.Compiled`` for the layout of the arrays.
"""

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils
from numba.extending import intrinsic

from neuroshell.neuron.layout import (  # noqa: F401 (the kernels' constants, named as the kernels use them)
    ADEX,
    COND,
    EXP,
    IZH,
    LIF,
    N_PARAMS,
    P_A,
    P_B,
    P_C_M,
    P_DECAY_M,
    P_DELTA_T,
    P_E_L,
    P_G_L,
    P_HAS_CURRENT,
    P_IZH_A,
    P_IZH_B,
    P_IZH_C,
    P_IZH_D,
    P_REF_STEPS,
    P_TAU_M,
    P_TAU_W,
    P_V_PEAK,
    P_V_RESET,
    P_V_T,
    P_V_TH,
)

# Spikes whose target rows are fetched from memory ahead of their propagation. A row of ~80 targets spans a
# few cache lines at a random place in a large array: too short for the hardware prefetcher to pick up.
PREFETCH_AHEAD = 8
INDICES_PER_LINE = 16  # int32 indices in a 64-byte cache line
WORDS_PER_BLOCK = 32  # spike flags are tested 256 neurons at a time: most blocks are empty


@intrinsic
def _prefetch(typingctx, array, index):
    """Hint the CPU to bring ``array[index]`` into cache (LLVM's prefetch: read, high locality)."""

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        pointer = cgutils.get_item_pointer(context, builder, array_type, view, [args[1]], wraparound=False)
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        function_type = ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32])
        prefetch = cgutils.get_or_insert_function(builder.module, function_type, "llvm.prefetch.p0i8")
        flags = [ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)]
        builder.call(prefetch, [builder.bitcast(pointer, byte_pointer), *flags])
        return context.get_dummy_value()

    return numba.types.void(array, index), codegen


@numba.njit(cache=True, fastmath=True)
def run_chunk(
    t0,
    n_steps,
    dt,
    pop_start,
    pop_stop,
    pop_model,
    pop_params,
    pop_ch_ptr,
    pop_cond,
    pop_proj_ptr,
    v,
    w,
    ref_until,
    ch_kind,
    ch_offset,
    ch_decay,
    ch_erev,
    ch_pmx,
    x,
    ring,
    proj_order,
    proj_src_start,
    proj_tgt_offset,
    proj_weight,
    proj_delay,
    proj_indptr_offset,
    proj_indices_offset,
    indptr,
    indices,
    poisson_pop,
    poisson_channel,
    poisson_lambda,
    poisson_weight,
    i_const,
    i_column,
    i_gain,
    i_table,
    spike_step,
    spike_index,
    n_spikes,
    record_index,
    record_v,
    pop_counts,
    scratch,
    flags,
):
    """Advance ``n_steps`` from step ``t0``. Returns (steps done, spikes stored); stops early when one
    more step's spikes might not fit in the spike buffer, so the caller can empty it and continue."""
    n_pops = pop_start.shape[0]
    depth = ring.shape[0]
    capacity = spike_step.shape[0]
    n_record = record_index.shape[0]
    i_table.shape[0]
    for step in range(n_steps):
        t = t0 + step
        if n_spikes + pop_stop[n_pops - 1] > capacity:
            return step, n_spikes
        slot = t % depth
        if depth > 2:
            for k in range(x.shape[0]):
                x[k] += ring[slot, k]
                ring[slot, k] = 0.0
        for q in range(poisson_pop.shape[0]):
            p = poisson_pop[q]
            base = ch_offset[poisson_channel[q]]
            for i in range(pop_stop[p] - pop_start[p]):
                arrivals = np.random.poisson(poisson_lambda[q])
                if arrivals:
                    x[base + i] += arrivals * poisson_weight[q]
        first_spike = n_spikes
        for p in range(n_pops):
            model = pop_model[p]
            if model == LIF:
                n_spikes = _lif_population(
                    p,
                    t,
                    dt,
                    pop_start,
                    pop_stop,
                    pop_params[p],
                    pop_ch_ptr,
                    pop_cond[p],
                    v,
                    ref_until,
                    ch_kind,
                    ch_offset,
                    ch_decay,
                    ch_erev,
                    ch_pmx,
                    x,
                    scratch,
                    flags,
                    i_const,
                    i_column,
                    i_gain,
                    i_table,
                    spike_step,
                    spike_index,
                    n_spikes,
                )
            else:
                n_spikes = _other_population(
                    p,
                    model,
                    t,
                    dt,
                    pop_start,
                    pop_stop,
                    pop_params[p],
                    pop_ch_ptr,
                    v,
                    w,
                    ref_until,
                    ch_kind,
                    ch_offset,
                    ch_decay,
                    ch_erev,
                    x,
                    i_const,
                    i_column,
                    i_gain,
                    i_table,
                    spike_step,
                    spike_index,
                    n_spikes,
                )
        for r in range(n_record):
            record_v[step, r] = v[record_index[r]]
        for s in range(first_spike, min(first_spike + PREFETCH_AHEAD, n_spikes)):
            _prefetch_rows(
                spike_index[s],
                pop_stop,
                pop_proj_ptr,
                proj_order,
                proj_src_start,
                proj_indptr_offset,
                proj_indices_offset,
                indptr,
                indices,
            )
        for s in range(first_spike, n_spikes):
            if s + PREFETCH_AHEAD < n_spikes:
                _prefetch_rows(
                    spike_index[s + PREFETCH_AHEAD],
                    pop_stop,
                    pop_proj_ptr,
                    proj_order,
                    proj_src_start,
                    proj_indptr_offset,
                    proj_indices_offset,
                    indptr,
                    indices,
                )
            i = spike_index[s]
            p = _population_of(i, pop_stop)
            pop_counts[step, p] += 1
            for e in range(pop_proj_ptr[p], pop_proj_ptr[p + 1]):
                q = proj_order[e]
                row = i - proj_src_start[q]
                base = proj_indptr_offset[q]
                first, last = indptr[base + row], indptr[base + row + 1]
                offset = proj_indices_offset[q]
                target = proj_tgt_offset[q]
                weight = proj_weight[q]
                delay = proj_delay[q]
                if delay == 1:
                    for k in range(first, last):
                        x[target + indices[offset + k]] += weight
                else:
                    arrival = (t + delay) % depth
                    for k in range(first, last):
                        ring[arrival, target + indices[offset + k]] += weight
    return n_steps, n_spikes


@numba.njit(inline="always")
def _prefetch_rows(
    i,
    pop_stop,
    pop_proj_ptr,
    proj_order,
    proj_src_start,
    proj_indptr_offset,
    proj_indices_offset,
    indptr,
    indices,
):
    """Prefetch the target indices of neuron ``i`` in every projection leaving its population."""
    p = _population_of(i, pop_stop)
    for e in range(pop_proj_ptr[p], pop_proj_ptr[p + 1]):
        q = proj_order[e]
        row = proj_indptr_offset[q] + i - proj_src_start[q]
        offset = proj_indices_offset[q]
        first, last = indptr[row], indptr[row + 1]
        for k in range(first, last, INDICES_PER_LINE):
            _prefetch(indices, offset + k)
        if last > first:  # a row that starts mid-line ends on one more line
            _prefetch(indices, offset + last - 1)


@numba.njit(inline="always")
def _population_of(i, pop_stop):
    """The population holding neuron ``i``: how many populations end at or before it (no branches, as
    consecutive spikes come from populations in no predictable order)."""
    p = 0
    for q in range(pop_stop.shape[0] - 1):
        p += pop_stop[q] <= i
    return p


@numba.njit(cache=True, fastmath=True)
def _input_current(i, t, i_const, i_column, i_gain, i_table):
    current = i_const[i]
    if i_column[i] >= 0:
        current += i_gain[i] * i_table[min(t, i_table.shape[0] - 1), i_column[i]]
    return current


@numba.njit(cache=True, fastmath=True)
def _lif_population(
    p,
    t,
    dt,
    pop_start,
    pop_stop,
    prm,
    pop_ch_ptr,
    has_cond,
    v,
    ref_until,
    ch_kind,
    ch_offset,
    ch_decay,
    ch_erev,
    ch_pmx,
    x,
    scratch,
    flags,
    i_const,
    i_column,
    i_gain,
    i_table,
    spike_step,
    spike_index,
    n_spikes,
):
    """One step of a LIF population."""
    start, stop = pop_start[p], pop_stop[p]
    n = stop - start
    if has_cond:
        _lif_conductance(
            p,
            t,
            dt,
            start,
            n,
            prm,
            pop_ch_ptr,
            v,
            ref_until,
            ch_kind,
            ch_offset,
            ch_decay,
            ch_erev,
            x,
            scratch,
            flags,
            i_const,
            i_column,
            i_gain,
            i_table,
        )
    else:
        _lif_exact(
            p,
            t,
            start,
            n,
            prm,
            pop_ch_ptr,
            v,
            ref_until,
            ch_offset,
            ch_decay,
            ch_pmx,
            x,
            scratch,
            flags,
            i_const,
            i_column,
            i_gain,
            i_table,
        )
    return _collect_spikes(t, start, n, flags, ref_until, prm[P_REF_STEPS], spike_step, spike_index, n_spikes)


@numba.njit(cache=True, fastmath=True)
def _collect_spikes(t, start, n, flags, ref_until, ref_steps, spike_step, spike_index, n_spikes):
    """Gather the neurons flagged by the membrane loop, skipping empty blocks of flags (spikes are sparse)."""
    if flags[-1] == 0:  # the membrane loop counted no spike: skip the scan
        return n_spikes
    words = flags[: (n + 7) // 8 * 8].view(np.uint64)
    n_words = words.shape[0]
    full_blocks = n_words // WORDS_PER_BLOCK
    for block in range(full_blocks + 1):
        first = block * WORDS_PER_BLOCK
        if block < full_blocks:
            any_flag = np.uint64(0)
            for word in range(first, first + WORDS_PER_BLOCK):  # a fixed count: LLVM vectorises the OR
                any_flag |= words[word]
            if any_flag == 0:
                continue
        for word in range(first, min(first + WORDS_PER_BLOCK, n_words)):
            if words[word] == 0:
                continue
            for j in range(word * 8, min(word * 8 + 8, n)):
                if flags[j]:
                    ref_until[start + j] = t + ref_steps
                    spike_step[n_spikes] = t
                    spike_index[n_spikes] = start + j
                    n_spikes += 1
    return n_spikes


@numba.njit(cache=True, fastmath=True)
def _lif_exact(
    p,
    t,
    start,
    n,
    prm,
    pop_ch_ptr,
    v,
    ref_until,
    ch_offset,
    ch_decay,
    ch_pmx,
    x,
    scratch,
    flags,
    i_const,
    i_column,
    i_gain,
    i_table,
):
    """Linear dynamics, exact propagators: v relaxes to v_inf and each exponential synapse adds x * P_mx.
    The first two synaptic channels are fused into the membrane loop (one pass, vectorised); further
    channels and input currents are gathered into ``scratch`` first."""
    first, last = pop_ch_ptr[p], pop_ch_ptr[p + 1]
    decay_m, e_l, resistance = prm[P_DECAY_M], prm[P_E_L], prm[P_TAU_M] / prm[P_C_M]
    extra = scratch[:n]
    has_extra = last - first > 2 or (i_const.shape[0] > 0 and prm[P_HAS_CURRENT] > 0.0)
    if has_extra:
        for j in range(n):
            extra[j] = resistance * _input_current(start + j, t, i_const, i_column, i_gain, i_table) * (1.0 - decay_m)
        for c in range(first + 2, last):
            base, decay, pmx = ch_offset[c], ch_decay[c], ch_pmx[c]
            for j in range(n):
                value = x[base + j]
                extra[j] += value * pmx
                x[base + j] = value * decay
    base0 = ch_offset[first] if last > first else -1
    base1 = ch_offset[first + 1] if last > first + 1 else -1
    p0 = ch_pmx[first] if base0 >= 0 else 0.0
    d0 = np.float32(ch_decay[first] if base0 >= 0 else 0.0)
    p1 = ch_pmx[first + 1] if base1 >= 0 else 0.0
    d1 = np.float32(ch_decay[first + 1] if base1 >= 0 else 0.0)
    spare = x.shape[0] - 2 * n  # x ends with zeros standing in for missing channels (P_mx and decay 0)
    x0 = x[base0 : base0 + n] if base0 >= 0 else x[spare : spare + n]
    x1 = x[base1 : base1 + n] if base1 >= 0 else x[spare + n : spare + 2 * n]
    vs = v[start : start + n]
    refs = ref_until[start : start + n]
    threshold, reset = prm[P_V_TH], prm[P_V_RESET]
    now = np.float32(t)
    count = 0
    for j in range(n):
        a = x0[j]
        b = x1[j]
        x0[j] = a * d0
        x1[j] = b * d1
        vj = vs[j]
        nv = e_l + (vj - e_l) * decay_m + a * p0 + b * p1
        if has_extra:
            nv += extra[j]
        active = refs[j] <= now
        nv = nv if active else vj
        spike = 1 if (active and nv > threshold) else 0
        vs[j] = reset if spike else nv
        flags[j] = spike
        count += spike
    flags[-1] = 1 if count else 0


@numba.njit(cache=True, fastmath=True)
def _lif_conductance(
    p,
    t,
    dt,
    start,
    n,
    prm,
    pop_ch_ptr,
    v,
    ref_until,
    ch_kind,
    ch_offset,
    ch_decay,
    ch_erev,
    x,
    scratch,
    flags,
    i_const,
    i_column,
    i_gain,
    i_table,
):
    """Conductances make the system non-linear in v: exponential Euler over the step."""
    c_m = prm[P_C_M]
    g_l = c_m / prm[P_TAU_M]
    g_total = scratch[:n]
    drive = scratch[n : 2 * n]
    for j in range(n):
        g_total[j] = g_l
        drive[j] = g_l * prm[P_E_L] + _input_current(start + j, t, i_const, i_column, i_gain, i_table)
    for c in range(pop_ch_ptr[p], pop_ch_ptr[p + 1]):
        base, decay, e_rev, kind = ch_offset[c], ch_decay[c], ch_erev[c], ch_kind[c]
        for j in range(n):
            value = x[base + j]
            if kind == COND:
                g_total[j] += value
                drive[j] += value * e_rev
            else:
                drive[j] += g_l * value
            x[base + j] = value * decay
    threshold, reset = prm[P_V_TH], prm[P_V_RESET]
    count = 0
    for j in range(n):
        i = start + j
        v_inf = drive[j] / g_total[j]
        nv = v_inf + (v[i] - v_inf) * np.exp(-g_total[j] * dt / c_m)
        active = ref_until[i] <= t
        nv = nv if active else v[i]
        spike = 1 if (active and nv > threshold) else 0
        v[i] = reset if spike else nv
        flags[j] = spike
        count += spike
    flags[-1] = 1 if count else 0


@numba.njit(cache=True, fastmath=True)
def _other_population(
    p,
    model,
    t,
    dt,
    pop_start,
    pop_stop,
    prm,
    pop_ch_ptr,
    v,
    w,
    ref_until,
    ch_kind,
    ch_offset,
    ch_decay,
    ch_erev,
    x,
    i_const,
    i_column,
    i_gain,
    i_table,
    spike_step,
    spike_index,
    n_spikes,
):
    start = pop_start[p]
    for i in range(start, pop_stop[p]):
        current = _input_current(i, t, i_const, i_column, i_gain, i_table)
        local = i - start
        if model == ADEX:
            spiked = _adex(
                i, local, t, dt, prm, p, pop_ch_ptr, current, v, w, ref_until, ch_kind, ch_offset, ch_decay, ch_erev, x
            )
        else:
            spiked = _izh(i, local, dt, prm, p, pop_ch_ptr, current, v, w, ch_kind, ch_offset, ch_decay, ch_erev, x)
        if spiked:
            spike_step[n_spikes] = t
            spike_index[n_spikes] = i
            n_spikes += 1
    return n_spikes


@numba.njit(inline="always")
def _synaptic_current(p, local, v_now, g_l, pop_ch_ptr, ch_kind, ch_offset, ch_decay, ch_erev, x):
    total = 0.0
    for c in range(pop_ch_ptr[p], pop_ch_ptr[p + 1]):
        value = x[ch_offset[c] + local]
        if ch_kind[c] == COND:
            total += value * (ch_erev[c] - v_now)
        else:
            total += g_l * value
        x[ch_offset[c] + local] = value * ch_decay[c]
    return total


@numba.njit(inline="always")
def _adex(i, local, t, dt, prm, p, pop_ch_ptr, current, v, w, ref_until, ch_kind, ch_offset, ch_decay, ch_erev, x):
    g_l = prm[P_G_L]
    vi = v[i]
    current += _synaptic_current(p, local, vi, g_l, pop_ch_ptr, ch_kind, ch_offset, ch_decay, ch_erev, x)
    if t < ref_until[i]:
        return False
    exponent = min((vi - prm[P_V_T]) / prm[P_DELTA_T], 20.0)
    dv = (-g_l * (vi - prm[P_E_L]) + g_l * prm[P_DELTA_T] * np.exp(exponent) - w[i] + current) / prm[P_C_M]
    dw = (prm[P_A] * (vi - prm[P_E_L]) - w[i]) / prm[P_TAU_W]
    v[i] = vi + dt * dv
    w[i] += dt * dw
    if v[i] > prm[P_V_PEAK]:
        v[i] = prm[P_V_RESET]
        w[i] += prm[P_B]
        ref_until[i] = t + int(prm[P_REF_STEPS])
        return True
    return False


@numba.njit(inline="always")
def _izh(i, local, dt, prm, p, pop_ch_ptr, current, v, w, ch_kind, ch_offset, ch_decay, ch_erev, x):
    # Izhikevich's units: mV, ms; input currents counted in pA, voltage-like synaptic input in mV.
    drive = current * 1e12
    for c in range(pop_ch_ptr[p], pop_ch_ptr[p + 1]):
        value = x[ch_offset[c] + local]
        if ch_kind[c] == COND:
            drive += value * (ch_erev[c] - v[i]) * 1e12
        else:
            drive += value * 1e3
        x[ch_offset[c] + local] = value * ch_decay[c]
    dt_ms = dt * 1e3
    vm = v[i] * 1e3
    u = w[i]
    vm_next = vm + dt_ms * (0.04 * vm * vm + 5.0 * vm + 140.0 - u + drive)
    w[i] = u + dt_ms * prm[P_IZH_A] * (prm[P_IZH_B] * vm - u)
    if vm_next >= prm[P_V_PEAK] * 1e3:
        v[i] = prm[P_IZH_C]
        w[i] += prm[P_IZH_D]
        return True
    v[i] = vm_next * 1e-3
    return False


@numba.njit(cache=True)
def group_by_population(spike_times, spike_index, pop_stop):
    """Spikes regrouped by population in one counting-sort pass, time order kept within each: their times,
    their indices within the population, and where each population's share begins (length n_pops + 1)."""
    n_pops = pop_stop.shape[0]
    bounds = np.zeros(n_pops + 1, dtype=np.int64)
    for s in range(spike_index.shape[0]):
        bounds[_population_of(spike_index[s], pop_stop) + 1] += 1
    for p in range(n_pops):
        bounds[p + 1] += bounds[p]
    fill = bounds[:-1].copy()
    times = np.empty(spike_index.shape[0], dtype=np.float64)
    local = np.empty(spike_index.shape[0], dtype=np.int64)
    for s in range(spike_index.shape[0]):
        i = spike_index[s]
        p = _population_of(i, pop_stop)
        times[fill[p]] = spike_times[s]
        local[fill[p]] = i - (pop_stop[p - 1] if p > 0 else 0)
        fill[p] += 1
    return times, local, bounds


@numba.njit(cache=True)
def seed(value):
    np.random.seed(value)
