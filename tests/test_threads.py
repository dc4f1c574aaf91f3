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
    # The two paths of the drive that the parts draw: sparse (0.2 arrivals per neuron and step) onto the
    # excitatory cells, tabled (2 per step, as Brunel's) onto the inhibitory ones.
    drives = {"exc": (100, 0.5e-3), "inh": (1000, 0.04e-3)}
    for target, (sources, weight) in drives.items():
        network.connect("exc", target, "indegree=80", 0.5e-3, "V", 1.5e-3, "delta")
        network.connect("inh", target, "indegree=20", -2.5e-3, "V", 1.5e-3, "delta")
        poisson = {"kind": "poisson", "rate_hz": 20.0, "n_sources": sources, "weight": weight, "weight_unit": "V"}
        network.add_input(target, {**poisson, "synapse": "delta"})
    return network


@pytest.mark.parametrize(
    "build", [lambda: cuba(50_000), lambda: coba(50_000), delta_with_delays], ids=["cuba", "coba", "delta"]
)
def test_the_spikes_are_the_same_for_1_2_and_16_threads(build):
    network = build()
    assert sum(p["n"] for _, p in network.populations()) >= THREADED_NEURONS  # the steps run in parts
    runs = {n: simulate(network, 0.1, seed=3, threads=n, record=[("exc", 0), ("exc", 39_999)]) for n in (1, 2, 16)}
    reference = runs[1]
    assert len(reference.spike_index) > 5_000
    for threads in (2, 16):
        run = runs[threads]
        assert run.threads == threads and run.threads_used == min(threads, numba.config.NUMBA_NUM_THREADS)
        np.testing.assert_array_equal(run.spike_index, reference.spike_index)
        np.testing.assert_array_equal(run.spike_times_s, reference.spike_times_s)
        np.testing.assert_array_equal(run.state_v, reference.state_v)


PARALLEL_KERNELS_ALONE = """
import numpy as np
from neuroshell.neuron.compiler import compile_network, kernel_records
from neuroshell.neuron.network import cuba
from neuroshell.neuron.simulator import _work
from neuroshell.neuron.kernels.propagate import row_splits
from neuroshell.neuron.kernels.threaded import propagate_threaded, step_threaded
arrays = compile_network(cuba(400), dt_s=1e-4, seed=1).arrays
pops, ch, proj, drive, state, pl = kernel_records(arrays)
proj = proj._replace(**dict(zip(("row_split", "split_offset"), row_splits(proj, 2))))
spike_index = np.zeros(8, np.int64)
step_threaded(0, (0, 0), 1e-4, pops, ch, proj, drive, state, spike_index, _work([320, 80], 2, 0), (False, False), 2)
propagate_threaded(0, 0, 0, pops, proj, state, spike_index, 2)
"""
SIMULATE = """
from neuroshell.neuron.network import cuba
from neuroshell.neuron.simulator import simulate
print(len(simulate(cuba(400), 0.05, seed=1, threads=2).spike_index))
"""


@pytest.mark.slow
def test_a_cache_holding_some_kernels_compiled_alone_does_not_crash_later_runs(tmp_path):
    # numba links a parallel kernel loaded from its cache into a newly compiled caller in a way that crashes
    # the next process to load that caller (seen: a segfault). A first compile stopped part way (Ctrl-C),
    # or any code calling the parallel kernels alone, leaves such a cache; the parallel kernels are
    # therefore never cached apart from the step that calls them.
    import os
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    run = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
           for code in (PARALLEL_KERNELS_ALONE, SIMULATE, SIMULATE)]  # fmt: skip
    assert [done.returncode for done in run] == [0, 0, 0], run[-1].stderr[-2000:]
    assert run[1].stdout == run[2].stdout and int(run[2].stdout) > 0


def test_each_part_gets_the_targets_its_membrane_pass_updates():
    from neuroshell.neuron.compiler import compile_network, kernel_records
    from neuroshell.neuron.kernels.membrane import part_range
    from neuroshell.neuron.kernels.propagate import row_splits

    compiled = compile_network(cuba(5000), dt_s=1e-4, seed=1)
    proj = kernel_records(compiled.arrays)[2]
    split, offsets = row_splits(proj, 3)
    for q, (source, target, indptr, indices) in enumerate(compiled.connectivity):
        n_tgt = int(proj.n_tgt[q])
        bounds = [part_range(n_tgt, part, 3)[0] for part in (1, 2)]
        for row in range(len(indptr) - 1):
            targets = indices[indptr[row] : indptr[row + 1]]
            expected = np.searchsorted(targets, bounds)  # where parts 1 and 2 begin in the row
            at = offsets[q] + row * 2
            np.testing.assert_array_equal(split[at : at + 2], expected, err_msg=f"{source} -> {target} row {row}")
