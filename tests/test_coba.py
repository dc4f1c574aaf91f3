"""Conductance-based synapses: the vectorised exponential against libm, one neuron against the closed form,
and the COBA benchmark (Brette et al. 2007) against Brian2 running the very same network."""

import numpy as np
import pytest

from neuroshell.neuron.examples import coba
from neuroshell.neuron.kernels.vexp import exp_in_place
from neuroshell.neuron.network import Network
from neuroshell.neuron.simulator import simulate
from tests.test_neuron import DT, compiled_connectivity, isi_cv

N, DURATION_S, SETTLED_S = 4000, 2.0, 0.1


@pytest.mark.parametrize(("low", "high", "tolerance"), [(-1.0, 0.0, 1e-15), (-50.0, 50.0, 5e-15), (-708, 709, 5e-14)])
def test_the_vectorised_exponential_matches_libm(low, high, tolerance):
    x = np.random.default_rng(0).uniform(low, high, 100_003)  # an odd length: the loops' remainders too
    values = x.copy()
    exp_in_place(values, np.empty_like(values))
    assert np.max(np.abs(values - np.exp(x)) / np.exp(x)) < tolerance


def test_beyond_the_range_the_exponential_saturates_instead_of_wrapping():
    values = np.array([-1e4, -745.0, 0.0, 800.0])
    exp_in_place(values, np.empty(4))
    assert values[0] == pytest.approx(np.exp(-708.0)) and values[2] == 1.0 and np.isfinite(values[3])
    assert values[3] == pytest.approx(np.exp(709.0))


def test_a_conductance_pulse_moves_v_as_the_exact_solution_does():
    """One excitatory pulse of g0 onto a cell at rest: between steps exponential Euler holds g at its value
    at the start of the step, so the trace equals that piecewise-exact recurrence (computed here in numpy)."""
    network = Network("pulse")
    cell = {"tau_m": 20e-3, "c_m": 200e-12, "e_l": -70e-3, "v_th": 0.0, "v_init": -70e-3}
    network.add_population("source", "lif", 1, {**cell, "v_th": -69e-3, "v_init": -60e-3, "t_ref": 1.0})
    network.add_population("cell", "lif", 1, cell)
    g0, tau_s, e_rev = 20e-9, 5e-3, 0.0
    network.connect("source", "cell", "all", g0, "S", 0.0, "cond", tau_s, e_rev)
    result = simulate(network, 0.03, dt_s=DT, record=[("cell", 0)], seed=0)
    assert result.spike_count("source") == 1
    trace = result.state_v[:, 0]
    g_l, c_m, e_l = 200e-12 / 20e-3, 200e-12, -70e-3
    v, g, expected = e_l, 0.0, []
    for step in range(len(trace)):
        if step == 1:  # the source spikes in step 0; its spike arrives one step later
            g += g0
        g_total = g_l + g
        v_inf = (g_l * e_l + g * e_rev) / g_total
        v = v_inf + (v - v_inf) * np.exp(-g_total * DT / c_m)
        g *= np.float32(np.exp(-DT / tau_s))
        expected.append(v)
    np.testing.assert_allclose(trace, expected, rtol=0, atol=1e-7)
    assert trace.max() - e_l > 5e-3  # a depolarisation of several millivolts, not a flat line


def brian2_coba(v_init: np.ndarray, pairs: dict) -> tuple[np.ndarray, np.ndarray]:
    import brian2 as b2

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.seed(0)  # Brian2 draws its Poisson drive: unseeded, its CV of this bursty network ranged 1.66-1.78
    b2.defaultclock.dt = DT * b2.second
    names = {"taue": 5 * b2.ms, "taui": 10 * b2.ms, "c_m": 200 * b2.pF, "g_l": 10 * b2.nS, "e_l": -60 * b2.mV}
    names.update({"e_e": 0 * b2.mV, "e_i": -80 * b2.mV, "vt": -50 * b2.mV, "vr": -60 * b2.mV})
    eqs = """dv/dt = (g_l * (e_l - v) + ge * (e_e - v) + gi * (e_i - v)) / c_m : volt (unless refractory)
             dge/dt = -ge / taue : siemens
             dgi/dt = -gi / taui : siemens"""
    group = b2.NeuronGroup(
        len(v_init), eqs, threshold="v > vt", reset="v = vr", refractory=5 * b2.ms, method="exponential_euler"
    )
    group.v = v_init * b2.volt
    objects = [group]
    for source, on_pre in (("exc", "ge += 6*nS"), ("inh", "gi += 67*nS")):
        synapses = b2.Synapses(group, group, on_pre=on_pre)
        synapses.connect(i=pairs[source][0], j=pairs[source][1])
        objects.append(synapses)
    objects.append(b2.PoissonInput(group, "ge", 20, 20 * b2.Hz, weight=6 * b2.nS))
    monitor = b2.SpikeMonitor(group)
    b2.Network(*objects, monitor).run(DURATION_S * b2.second, namespace=names)
    return np.asarray(monitor.t), np.asarray(monitor.i)


def test_coba_fires_as_brian2_does_on_the_same_network():
    network = coba(N)
    brian_times, brian_ids = brian2_coba(*compiled_connectivity(network, seed=2))
    brian_rate, brian_cv = settled_rate_and_cv(brian_times, brian_ids)
    # This bursty network's CV of ISI moves by +-0.06 from one run to the next in either simulator (ours:
    # 1.69-1.82 over seeds 1-6; Brian2 unseeded: 1.66-1.78), more than the 0.05 compared: ours is the mean
    # over four runs (each seed draws its own connectivity and drive), Brian2's one seeded run.
    runs = [simulate(network, DURATION_S, dt_s=DT, seed=seed) for seed in (1, 2, 3, 4)]
    figures = np.array([settled_rate_and_cv(run.spike_times_s, run.spike_index) for run in runs])
    rate, cv = figures.mean(axis=0)
    said = {"ours": figures.tolist(), "brian2": (brian_rate, brian_cv)}
    # Self-sustained irregular activity kept up by the Poisson drive: tens of Hz with bursts (CV above 1).
    assert np.all((figures[:, 0] > 10) & (figures[:, 0] < 50)) and np.all(figures[:, 1] > 1.0), said
    assert rate == pytest.approx(brian_rate, rel=0.05), said
    assert cv == pytest.approx(brian_cv, abs=0.05), said


def settled_rate_and_cv(times: np.ndarray, ids: np.ndarray) -> tuple[float, float]:
    """Mean rate (Hz) and CV of ISI over the spikes after SETTLED_S."""
    settled = times > SETTLED_S
    return settled.sum() / (N * (DURATION_S - SETTLED_S)), isi_cv(times[settled], ids[settled])
