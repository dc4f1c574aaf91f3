"""Neuron updates, one population per call: LIF exact (current-based synapses) or exponential Euler
(conductances), AdEx and Izhikevich by forward Euler. A LIF pass flags its spikes in ``work.flags`` for
``collect.flagged``; the others store theirs directly."""

import numba
import numpy as np

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
)

SOURCES_PER_BLOCK = 64
ALIGN = 64  # neurons: a thread's share of a population starts on a multiple of this


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
    i_const, i_column, i_gain, i_table = drive.i_const, drive.i_column, drive.i_gain, drive.i_table
    has_extra = last - first > 2 or (i_const.shape[0] > 0 and prm[P_HAS_CURRENT] > 0.0)
    if has_extra:
        for j in range(hi - lo):
            current = input_current(start + lo + j, t, i_const, i_column, i_gain, i_table)
            extra[j] = resistance * current * (1.0 - decay_m)
        for c in range(first + 2, last):
            base, decay, pmx = ch.offset[c] + lo, ch.decay[c], ch.pmx[c]
            for j in range(hi - lo):
                value = x[base + j]
                extra[j] += value * pmx
                x[base + j] = value * decay
    base0 = ch.offset[first] if last > first else -1
    base1 = ch.offset[first + 1] if last > first + 1 else -1
    p0 = ch.pmx[first] if base0 >= 0 else 0.0
    d0 = np.float32(ch.decay[first] if base0 >= 0 else 0.0)
    p1 = ch.pmx[first + 1] if base1 >= 0 else 0.0
    d1 = np.float32(ch.decay[first + 1] if base1 >= 0 else 0.0)
    spare = x.shape[0] - 2 * n  # x ends with zeros standing in for missing channels (P_mx and decay 0)
    x0 = x[base0 + lo : base0 + hi] if base0 >= 0 else x[spare + lo : spare + hi]
    x1 = x[base1 + lo : base1 + hi] if base1 >= 0 else x[spare + n + lo : spare + n + hi]
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


@numba.njit(cache=True, fastmath=True)
def lif_conductance(p, t, dt, pops, ch, drive, state, work, part, n_parts):
    """Conductances make the system non-linear in v: exponential Euler over the step. Updates the part's
    neurons (``part_range``), flags their spikes and returns how many."""
    start, n = pops.start[p], pops.stop[p] - pops.start[p]
    lo, hi = part_range(n, part, n_parts)
    g_total, drive_v = work.scratch[lo:hi], work.scratch[n + lo : n + hi]
    prm = pops.params[p]
    g_l = prm[P_C_M] / prm[P_TAU_M]
    i_const, i_column, i_gain, i_table = drive.i_const, drive.i_column, drive.i_gain, drive.i_table
    for j in range(hi - lo):
        g_total[j] = g_l
        drive_v[j] = g_l * prm[P_E_L] + input_current(start + lo + j, t, i_const, i_column, i_gain, i_table)
    for c in range(pops.ch_ptr[p], pops.ch_ptr[p + 1]):
        x = state.x[ch.offset[c] + lo : ch.offset[c] + hi]
        _add_channel(x, ch.kind[c] == COND, ch.decay[c], ch.erev[c], g_l, g_total, drive_v)
    v, ref_until = state.v[start + lo : start + hi], state.ref_until[start + lo : start + hi]
    return _exponential_euler(t, dt, prm, v, ref_until, g_total, drive_v, work.flags[lo:hi])


@numba.njit(cache=True, fastmath=True)
def _add_channel(x, is_cond, decay, e_rev, g_l, g_total, drive_v):
    """A channel's share of the total conductance and of the drive (g_l * E_l + sum of g * E_rev + currents)."""
    if is_cond:
        for j in range(x.shape[0]):
            value = x[j]
            g_total[j] += value
            drive_v[j] += value * e_rev
            x[j] = value * decay
    else:
        for j in range(x.shape[0]):
            value = x[j]
            drive_v[j] += g_l * value
            x[j] = value * decay


@numba.njit(cache=True, fastmath=True)
def _exponential_euler(t, dt, prm, v, ref_until, g_total, drive_v, flags):
    c_m, threshold, reset = prm[P_C_M], prm[P_V_TH], prm[P_V_RESET]
    now = np.float32(t)
    count = 0
    for j in range(v.shape[0]):
        v_inf = drive_v[j] / g_total[j]
        nv = v_inf + (v[j] - v_inf) * np.exp(-g_total[j] * dt / c_m)
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
    of the gap, which is the same process as a coin per step at a fraction of the draws."""
    chance = min(pops.params[p, P_RATE] * dt, 1.0)
    if chance <= 0.0:
        return n_spikes
    start, n = pops.start[p], pops.stop[p] - pops.start[p]
    next_step, spike_step, spike_index = state.w[start : start + n], out.spike_step, out.spike_index
    now = float(t)
    for first in range(0, n, SOURCES_PER_BLOCK):
        last = min(first + SOURCES_PER_BLOCK, n)
        due = 0
        for i in range(first, last):  # a branch-free scan LLVM vectorises: most blocks have nothing due
            due += next_step[i] <= now
        if due == 0:
            continue
        for i in range(first, last):
            if next_step[i] < 0.0:
                next_step[i] = now - 1.0 + np.random.geometric(chance)
            if next_step[i] == now:
                spike_step[n_spikes] = t
                spike_index[n_spikes] = start + i
                n_spikes += 1
                next_step[i] = now + np.random.geometric(chance)
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
