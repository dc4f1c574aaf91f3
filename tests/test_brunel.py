"""Brunel (2000) with delta synapses against Brian2 running the very same network (synapses, initial
potentials; the external Poisson drive is drawn by each simulator)."""

import numpy as np
import pytest

from neuroshell.neuron.examples import brunel
from neuroshell.neuron.simulator import simulate
from tests.test_neuron import DT, compiled_connectivity, isi_cv

N, DURATION_S, SETTLED_S = 5000, 0.6, 0.1


def brian2_brunel(v_init: np.ndarray, pairs: dict, n_exc: int) -> tuple[np.ndarray, np.ndarray]:
    import brian2 as b2

    b2.start_scope()
    b2.prefs.codegen.target = "numpy"
    b2.defaultclock.dt = DT * b2.second
    jump, tau, theta, v_reset = 0.1 * b2.mV, 20 * b2.ms, 20 * b2.mV, 10 * b2.mV
    group = b2.NeuronGroup(
        len(v_init), "dv/dt = -v / tau : volt (unless refractory)", threshold="v > theta", reset="v = v_reset",
        refractory=2 * b2.ms, method="exact",
    )  # fmt: skip
    group.v = v_init * b2.volt
    objects = [group]
    for source, gain in (("exc", 1), ("inh", -5)):
        synapses = b2.Synapses(group, group, on_pre=f"v += {gain} * jump", delay=1.5 * b2.ms)
        synapses.connect(i=pairs[source][0], j=pairs[source][1])
        objects.append(synapses)
    c_e = int(0.1 * n_exc)
    objects.append(b2.PoissonInput(group, "v", c_e, 2 * theta / (jump * c_e * tau), weight=jump))
    monitor = b2.SpikeMonitor(group)
    b2.Network(*objects, monitor).run(
        DURATION_S * b2.second, namespace={"jump": jump, "tau": tau, "theta": theta, "v_reset": v_reset}
    )
    return np.asarray(monitor.t), np.asarray(monitor.i)


def test_brunel_with_delta_synapses_fires_as_brian2_does():
    network = brunel(N)
    result = simulate(network, DURATION_S, dt_s=DT, seed=1)
    n_exc = network.population("exc").n
    brian_times, brian_ids = brian2_brunel(*compiled_connectivity(network, seed=1), n_exc)
    ours_times, ours_ids = result.spike_times_s, result.spike_index
    figures = {}
    for name, (times, ids) in {"ours": (ours_times, ours_ids), "brian2": (brian_times, brian_ids)}.items():
        settled = times > SETTLED_S
        figures[name] = (settled.sum() / (N * (DURATION_S - SETTLED_S)), isi_cv(times[settled], ids[settled]))
    (rate, cv), (brian_rate, brian_cv) = figures["ours"], figures["brian2"]
    # g = 5, eta = 2: Brunel's synchronous irregular regime (fast oscillation), tens of Hz, regular-ish spikes.
    assert 30 < rate < 100 and cv < 0.5, figures
    assert rate == pytest.approx(brian_rate, rel=0.05), figures
    assert cv == pytest.approx(brian_cv, abs=0.05), figures
    assert result.n_synapses == N * (int(0.1 * n_exc) + int(0.1 * (N - n_exc)))
