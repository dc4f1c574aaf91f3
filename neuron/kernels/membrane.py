"""Neuron updates, one population per call: LIF exact (current-based synapses) or exponential Euler
(conductances), AdEx and Izhikevich by forward Euler. A LIF pass flags its spikes in ``work.flags`` for
``collect.flagged``; the others store theirs directly."""

import numba
import numpy as np

from neuroshell.neuron.kernels.vexp import exp_in_place
from neuroshell.neuron.layout import (
    ADEX,
    COND,
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
    P_RATE,
    P_REF_STEPS,
    P_TAU_M,
    P_TAU_W,
    P_V_PEAK,
    P_V_RESET,
    P_V_T,
    P_V_TH,
    SOURCES_PER_BLOCK,
)

ALIGN = 64  # neurons: a thread's share of a population starts on a multiple of this


@numba.njit(inline="always")
def add_currents(out, first, t, drive, scale):
    """``out[j] += scale *`` the input current (A) of neuron ``first + j``: the constant part in one
    vectorised pass, then the streamed columns' gather where any neuron has one (a gather in the same loop
    cost ~15 ns per neuron even when no neuron had a column)."""
    n = out.shape[0]
    i_const = drive.i_const[first : first + n]
    for j in range(n):
        out[j] += scale * i_const[j]
    table = drive.i_table
    if table.shape[1] == 0:
        return
    row = table[min(t, table.shape[0] - 1)]
    columns, gains = drive.i_column[first : first + n], drive.i_gain[first : first + n]
    for j in range(n):
        if columns[j] >= 0:
            out[j] += scale * gains[j] * row[columns[j]]


@numba.njit(inline="always")
def input_current(i, t, i_const, i_column, i_gain, i_table):
    # Arrays, not the Drive record: taking a field inside a loop costs a reference count each time.
    current = i_const[i]
    if i_column[i] >= 0:
        current += i_gain[i] * i_table[min(t, i_table.shape[0] - 1), i_column[i]]
    return current


@numba.njit(inline="always")
def part_range(n, part, n_parts):
    """Neurons ``lo:hi`` of a population of ``n`` that part ``part`` of ``n_parts`` updates. Bounds fall on
    multiples of ALIGN, so a neuron meets the same vectorised code whatever the number of parts, and its
    values (hence the spikes) do not depend on the thread count."""
    lo = n * part // n_parts // ALIGN * ALIGN
    hi = n if part == n_parts - 1 else n * (part + 1) // n_parts // ALIGN * ALIGN
    return lo, hi


@numba.njit(inline="always")
def first_two_channels(x, ch, first, last, n, lo, hi):
    """The population's first two channels (-1 where it has fewer) and their values for neurons ``lo:hi``.
    A missing channel reads a stretch of the zeros that end ``x``; the caller gives it zero coefficients
    and decay, so it stays zero and the fused loop needs no branch."""
    c0 = first if last > first else -1
    c1 = first + 1 if last > first + 1 else -1
    spare = x.shape[0] - 2 * n
    x0 = x[ch.offset[c0] + lo : ch.offset[c0] + hi] if c0 >= 0 else x[spare + lo : spare + hi]
    x1 = x[ch.offset[c1] + lo : ch.offset[c1] + hi] if c1 >= 0 else x[spare + n + lo : spare + n + hi]
    return c0, c1, x0, x1


@numba.njit(cache=True, fastmath=True)
def lif_exact(p, t, pops, ch, drive, state, work, part, n_parts):
    """Linear dynamics, exact propagators: v relaxes to v_inf and each exponential synapse adds x * P_mx
    (a delta synapse: all of x). The first two synaptic channels are fused into the membrane loop (one
    pass, vectorised); further channels and input currents are gathered into ``work.scratch`` first.
    Updates the part's neurons (``part_range``), flags their spikes and returns how many."""
    start, n, prm, x = pops.start[p], pops.stop[p] - pops.start[p], pops.params[p], state.x
    lo, hi = part_range(n, part, n_parts)
    first, last = pops.ch_ptr[p], pops.ch_ptr[p + 1]
    decay_m, e_l, resistance = prm[P_DECAY_M], prm[P_E_L], prm[P_TAU_M] / prm[P_C_M]
    # The loops run over slices from 0: an index of unknown sign would need a wraparound test per access,
    # which stops LLVM from vectorising them.
    extra = work.scratch[lo:hi]
    has_current = drive.i_const.shape[0] > 0 and prm[P_HAS_CURRENT] > 0.0
    has_extra = last - first > 2 or has_current
    if has_extra:
        extra[:] = 0.0
        if has_current:
            add_currents(extra, start + lo, t, drive, resistance * (1.0 - decay_m))
        for c in range(first + 2, last):
            base, decay, pmx = ch.offset[c] + lo, ch.decay[c], ch.pmx[c]
            for j in range(hi - lo):
                value = x[base + j]
                extra[j] += value * pmx
                x[base + j] = value * decay
    c0, c1, x0, x1 = first_two_channels(x, ch, first, last, n, lo, hi)
    p0, d0 = (ch.pmx[c0], np.float32(ch.decay[c0])) if c0 >= 0 else (0.0, np.float32(0.0))
    p1, d1 = (ch.pmx[c1], np.float32(ch.decay[c1])) if c1 >= 0 else (0.0, np.float32(0.0))
    vs = state.v[start + lo : start + hi]
    refs = state.ref_until[start + lo : start + hi]
    flags = work.flags[lo:hi]
    threshold, reset = prm[P_V_TH], prm[P_V_RESET]
    now = np.float32(t)
    count = 0
    for j in range(hi - lo):
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
    return count


# error_model="numpy": a division by zero gives inf instead of raising, so the divide needs no test per
# neuron and the loop vectorises (g_total >= g_L > 0 here anyway).
@numba.njit(cache=True, fastmath=True, error_model="numpy")
def lif_conductance(p, t, dt, pops, ch, drive, state, work, part, n_parts):
    """Conductances make the system non-linear in v: exponential Euler over the step, v relaxing towards
    v_inf = (g_L E_L + sum g E_rev + I) / (g_L + sum g) by exp(-(g_L + sum g) dt / C). A channel adds
    ``value * cg`` to the conductance and ``value * cd`` to the numerator: cg 1 and cd E_rev for a
    conductance, cg 0 and cd g_L for a current-based channel onto the same cells. The first two channels
    are fused into one pass; further channels and input currents are summed first. Updates the part's
    neurons (``part_range``), flags their spikes and returns how many."""
    start, n, prm, x = pops.start[p], pops.stop[p] - pops.start[p], pops.params[p], state.x
    lo, hi = part_range(n, part, n_parts)
    first, last = pops.ch_ptr[p], pops.ch_ptr[p + 1]
    g_l = prm[P_C_M] / prm[P_TAU_M]
    factor, v_inf = work.scratch[lo:hi], work.scratch[n + lo : n + hi]
    factor[:] = g_l
    v_inf[:] = g_l * prm[P_E_L]
    if drive.i_const.shape[0] > 0 and prm[P_HAS_CURRENT] > 0.0:
        add_currents(v_inf, start + lo, t, drive, 1.0)
    for c in range(first + 2, last):
        cg, cd = _coefficients(ch, c, g_l)
        extra, decay = x[ch.offset[c] + lo : ch.offset[c] + hi], np.float32(ch.decay[c])
        for j in range(hi - lo):
            value = extra[j]
            factor[j] += value * cg
            v_inf[j] += value * cd
            extra[j] = value * decay
    c0, c1, x0, x1 = first_two_channels(x, ch, first, last, n, lo, hi)
    cg0, cd0 = _coefficients(ch, c0, g_l)
    cg1, cd1 = _coefficients(ch, c1, g_l)
    d0 = np.float32(ch.decay[c0] if c0 >= 0 else 0.0)
    d1 = np.float32(ch.decay[c1] if c1 >= 0 else 0.0)
    scale = -dt / prm[P_C_M]
    for j in range(hi - lo):
        a = x0[j]
        b = x1[j]
        x0[j] = a * d0
        x1[j] = b * d1
        g = factor[j] + a * cg0 + b * cg1
        v_inf[j] = (v_inf[j] + a * cd0 + b * cd1) / g
        factor[j] = g * scale
    exp_in_place(factor, work.scratch[2 * n + lo : 2 * n + hi])
    v, ref_until = state.v[start + lo : start + hi], state.ref_until[start + lo : start + hi]
    return _relax(t, prm, v, ref_until, v_inf, factor, work.flags[lo:hi])


@numba.njit(inline="always")
def _coefficients(ch, c, g_l):
    if c < 0:
        return 0.0, 0.0
    if ch.kind[c] == COND:
        return 1.0, ch.erev[c]
    return 0.0, g_l


@numba.njit(cache=True, fastmath=True)
def _relax(t, prm, v, ref_until, v_inf, factor, flags):
    """v moves to v_inf + (v - v_inf) * factor unless refractory; flags the spikes and returns how many."""
    threshold, reset = prm[P_V_TH], prm[P_V_RESET]
    now = np.float32(t)
    count = 0
    for j in range(v.shape[0]):
        nv = v_inf[j] + (v[j] - v_inf[j]) * factor[j]
        active = ref_until[j] <= now
        nv = nv if active else v[j]
        spike = 1 if (active and nv > threshold) else 0
        v[j] = reset if spike else nv
        flags[j] = spike
        count += spike
    return count


@numba.njit(cache=True, fastmath=True)
def poisson_population(p, t, dt, pops, state, out, n_spikes):
    """A population of Poisson spike sources, each firing with probability rate * dt per step. Each keeps
    the step of its next spike in ``state.w`` (-1: not drawn yet), drawn from the geometric distribution
    of the gap, which is the same process as a coin per step at a fraction of the draws. Each block of
    sources keeps its earliest next spike in ``state.due``, so a step reads one number per block and
    scans only the blocks with a spike due (at 15 Hz, 1.5 of 1000 sources a step)."""
    chance = min(pops.params[p, P_RATE] * dt, 1.0)
    if chance <= 0.0:
        return n_spikes
    start, n = pops.start[p], pops.stop[p] - pops.start[p]
    next_step, spike_step, spike_index = state.w[start : start + n], out.spike_step, out.spike_index
    due = state.due[pops.due_offset[p] :]
    now = float(t)
    for block in range((n + SOURCES_PER_BLOCK - 1) // SOURCES_PER_BLOCK):
        if due[block] > now:
            continue
        earliest = np.inf
        for i in range(block * SOURCES_PER_BLOCK, min((block + 1) * SOURCES_PER_BLOCK, n)):
            if next_step[i] < 0.0:
                next_step[i] = now - 1.0 + np.random.geometric(chance)
            if next_step[i] == now:
                spike_step[n_spikes] = t
                spike_index[n_spikes] = start + i
                n_spikes += 1
                next_step[i] = now + np.random.geometric(chance)
            earliest = min(earliest, next_step[i])
        due[block] = earliest
    return n_spikes


@numba.njit(cache=True, fastmath=True)
def euler_population(p, t, dt, pops, ch, drive, state, out, n_spikes):
    """One step of an AdEx or Izhikevich population; its spikes go straight into the spike buffer."""
    start, model, prm, ch_ptr = pops.start[p], pops.model[p], pops.params[p], pops.ch_ptr
    i_const, i_column, i_gain, i_table = drive.i_const, drive.i_column, drive.i_gain, drive.i_table
    v, w, ref_until, x = state.v, state.w, state.ref_until, state.x
    kind, offset, decay, erev = ch.kind, ch.offset, ch.decay, ch.erev
    spike_step, spike_index = out.spike_step, out.spike_index
    for i in range(start, pops.stop[p]):
        current = input_current(i, t, i_const, i_column, i_gain, i_table)
        local = i - start
        if model == ADEX:
            spiked = _adex(i, local, t, dt, prm, p, ch_ptr, current, v, w, ref_until, kind, offset, decay, erev, x)
        else:
            spiked = _izh(i, local, dt, prm, p, ch_ptr, current, v, w, kind, offset, decay, erev, x)
        if spiked:
            spike_step[n_spikes] = t
            spike_index[n_spikes] = i
            n_spikes += 1
    return n_spikes


@numba.njit(inline="always")
def _synaptic_current(p, local, v_now, g_l, ch_ptr, kind, offset, decay, erev, x):
    total = 0.0
    for c in range(ch_ptr[p], ch_ptr[p + 1]):
        value = x[offset[c] + local]
        if kind[c] == COND:
            total += value * (erev[c] - v_now)
        else:
            total += g_l * value
        x[offset[c] + local] = value * decay[c]
    return total


@numba.njit(inline="always")
def _adex(i, local, t, dt, prm, p, ch_ptr, current, v, w, ref_until, kind, offset, decay, erev, x):
    g_l = prm[P_G_L]
    vi = v[i]
    current += _synaptic_current(p, local, vi, g_l, ch_ptr, kind, offset, decay, erev, x)
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
def _izh(i, local, dt, prm, p, ch_ptr, current, v, w, kind, offset, decay, erev, x):
    # Izhikevich's units: mV, ms; input currents counted in pA, voltage-like synaptic input in mV.
    drive = current * 1e12
    for c in range(ch_ptr[p], ch_ptr[p + 1]):
        value = x[offset[c] + local]
        if kind[c] == COND:
            drive += value * (erev[c] - v[i]) * 1e12
        else:
            drive += value * 1e3
        x[offset[c] + local] = value * decay[c]
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
