"""A run's spikes do not depend on the number of threads (the large passes are cut into parts that each
update and deliver to their own neurons)."""

import numba
import numpy as np
import pytest

from neuroshell.neuron.kernels.threaded import THREADED_NEURONS
from neuroshell.neuron.network import Network, coba, cuba
from neuroshell.neuron.simulator import simulate


def delta_with_delays(n: int = 45_000) -> Network:
    """Brunel's model A shape (delta synapses, 1.5 ms delays, Poisson drive) at a small in-degree."""
    network = Network("delta")
    lif = {"tau_m": 20e-3, "e_l": 0.0, "v_th": 20e-3, "v_reset": 10e-3, "t_ref": 2e-3, "v_init": 0.0}
    n_exc = round(0.8 * n)
    network.add_population("exc", "lif", n_exc, {**lif, "v_init_spread": 20e-3})
    network.add_population("inh", "lif", n - n_exc, {**lif, "v_init_spread": 20e-3})
    for target in ("exc", "inh"):
        network.connect("exc", target, "indegree=80", 0.5e-3, "V", 1.5e-3, "delta")
        network.connect("inh", target, "indegree=20", -2.5e-3, "V", 1.5e-3, "delta")
        poisson = {"kind": "poisson", "rate_hz": 20.0, "n_sources": 100, "weight": 0.5e-3, "weight_unit": "V"}
        network.add_input(target, {**poisson, "synapse": "delta"})
    return network


@pytest.mark.parametrize(
    "build", [lambda: cuba(50_000), lambda: coba(50_000), delta_with_delays], ids=["cuba", "coba", "delta"]
)
def test_the_spikes_are_the_same_for_1_2_and_16_threads(build):
    network = build()
    assert max(p["n"] for _, p in network.populations()) >= THREADED_NEURONS  # the threaded passes run
    runs = {n: simulate(network, 0.1, seed=3, threads=n, record=[("exc", 0), ("exc", 39_999)]) for n in (1, 2, 16)}
    reference = runs[1]
    assert len(reference.spike_index) > 5_000
    assert reference.pop_counts.sum(axis=1).max() > 32  # steps with enough spikes to propagate in parallel
    for threads in (2, 16):
        run = runs[threads]
        assert run.threads == threads and run.threads_used == min(threads, numba.config.NUMBA_NUM_THREADS)
        np.testing.assert_array_equal(run.spike_index, reference.spike_index)
        np.testing.assert_array_equal(run.spike_times_s, reference.spike_times_s)
        np.testing.assert_array_equal(run.state_v, reference.state_v)
