"""A run's spikes do not depend on the number of threads (the large passes are cut into parts that each
update and deliver to their own neurons), nor on the count ``auto`` picks chunk by chunk; how it picks."""

from pathlib import Path

import numba
import numpy as np
import pytest

from neuroshell.neuron.description import PoissonInput
from neuroshell.neuron.examples import coba, cuba
from neuroshell.neuron.kernels.threaded import THREADED_NEURONS
from neuroshell.neuron.network import Network
from neuroshell.neuron.simulator import simulate
from neuroshell.neuron.threadchoice import ThreadChoice


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
        network.replace_input(target, PoissonInput(20.0, sources, weight, "V", "delta"))
    return network


@pytest.mark.parametrize(
    "build", [lambda: cuba(50_000), lambda: coba(50_000), delta_with_delays], ids=["cuba", "coba", "delta"]
)
def test_the_spikes_are_the_same_for_1_2_and_16_threads(build):
    network = build()
    assert sum(p.n for p in network.populations()) >= THREADED_NEURONS  # the steps run in parts
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
from neuroshell.neuron.examples import cuba
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
from neuroshell.neuron.examples import cuba
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


class EveryOther(ThreadChoice):
    """Switches count after every chunk: a run that changes its mind as often as it can."""

    def next_chunk(self, steps: int) -> tuple[int, int]:
        self.current = self.other
        return self.current, max(1, steps // 3)


def test_auto_and_a_run_switching_counts_every_chunk_give_the_spikes_of_one_thread():
    network = cuba(40_000)
    one = simulate(network, 0.05, seed=4, threads=1)
    auto = simulate(network, 0.05, seed=4, threads="auto", cores=2)
    switching = EveryOther(2)
    switched = simulate(network, 0.05, seed=4, threads=switching)
    assert len(one.spike_index) > 1_000 and auto.threads == "auto"
    assert switching.steps_run[1] > 0 and switching.steps_run[2] > 0
    for run in (auto, switched):
        np.testing.assert_array_equal(run.spike_index, one.spike_index)
        np.testing.assert_array_equal(run.spike_times_s, one.spike_times_s)


def run_chunks(choice: ThreadChoice, per_step_s: dict[int, float], chunks: int, others_busy=None) -> list[int]:
    """Feed the choice chunks of 500 steps that take ``per_step_s[count]`` each; the counts it ran."""
    counts = []
    for _ in range(chunks):
        threads, steps = choice.next_chunk(500)
        choice.observe(threads, steps, per_step_s[threads] * steps, others_busy)
        counts.append(threads)
    return counts


def test_auto_tries_both_counts_keeps_the_faster_and_revises_when_timings_change():
    choice = ThreadChoice(2, cores=2)
    counts = run_chunks(choice, {1: 70e-6, 2: 45e-6}, 12)
    assert counts[:3] == [1, 2, 2] and choice.current == 2  # one chunk on 1, a probe on 2, then 2
    assert counts.count(1) == 2  # after 4 chunks on 2, one probe of 1 lost
    assert "2 threads" in choice.describe() and "1.5" in choice.describe()
    # another program takes a core: the chunks on 2 threads slow down, a probe of 1 wins at once
    counts = run_chunks(choice, {1: 75e-6, 2: 160e-6}, 3)
    assert counts == [2, 1, 1] and choice.current == 1
    # probes of 2 lose while the machine stays busy, ever more rarely (4, 8, 16 ... chunks apart)
    counts = run_chunks(choice, {1: 75e-6, 2: 160e-6}, 40)
    probes = [i for i, n in enumerate(counts) if n == 2]
    assert len(probes) == 3 and np.diff(probes).tolist() == [9, 17]  # 8 and 16 chunks on one thread between
    steps_1 = choice.steps_run[1]
    run_chunks(choice, {1: 75e-6, 2: 40e-6}, 70)  # the machine is free again: the next probe finds 2 faster
    assert choice.current == 2 and choice.steps_run[1] - steps_1 < 40 * 500


def test_auto_does_not_try_more_threads_while_other_programs_keep_the_cores_busy():
    choice = ThreadChoice(2, cores=2)
    assert run_chunks(choice, {1: 70e-6, 2: 500e-6}, 30, others_busy=1.0) == [1] * 30
    assert choice.describe() == "1 thread (auto: other programs kept 1.0 of 2 cores busy; 2 threads not tried)"
    counts = run_chunks(choice, {1: 70e-6, 2: 40e-6}, 70, others_busy=0.1)  # they stopped
    assert counts[-1] == 2 and choice.current == 2
    fixed = ThreadChoice(2, current=2, fixed=True)
    assert run_chunks(fixed, {1: 1e-6, 2: 1.0}, 10) == [2] * 10 and fixed.describe() == "2 threads"


def test_the_kernels_cache_in_their_own_folder_and_leave_other_code_to_numba(tmp_path):
    """Importing the kernels changes no process-wide numba setting: another module's cached function goes
    where numba's configuration puts it (beside its source here), the kernels into their hashed folder."""
    import os
    import subprocess
    import sys

    (tmp_path / "mine.py").write_text("import numba\n@numba.njit(cache=True)\ndef twice(x):\n    return 2 * x\n")
    code = (
        "import numba, neuroshell.neuron.kernels as k, mine\n"
        "from neuroshell.neuron.kernels.vexp import exp_in_place\n"
        "import numpy as np\n"
        "values = np.zeros(4)\n"
        "exp_in_place(values, np.zeros(4))\n"
        "print(numba.config.CACHE_DIR or '-', mine.twice(3), values[0])\n"
        "print(k.CACHE_FOLDER)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env |= {"XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONPATH": str(tmp_path)}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    setting, folder = run.stdout.splitlines()
    assert setting == "- 6 1.0"  # NUMBA_CACHE_DIR left unset
    assert list((tmp_path / "__pycache__").glob("mine.twice-*.nbi"))  # numba's in-tree cache for other code
    assert folder.startswith(str(tmp_path / "cache" / "neuroshell" / "numba"))
    assert list(Path(folder).rglob("vexp.exp_in_place-*.nbi")) and not list(Path(folder).rglob("mine*"))


def test_yielding_work_runs_at_a_lower_priority_and_a_ctrl_c_stops_it_cleanly():
    import signal
    import threading

    from neuroshell.common.background import NICE, niceness, run_yielding

    before = niceness()
    assert run_yielding(niceness, threading.Event()) == min(before + NICE, 19) and niceness() == before
    stop = threading.Event()
    threading.Timer(0.2, signal.raise_signal, (signal.SIGINT,)).start()  # a Ctrl-C while the work runs
    assert run_yielding(lambda: stop.wait(10.0) and "stopped", stop) == "stopped"
    with pytest.raises(ZeroDivisionError):
        run_yielding(lambda: 1 / 0, threading.Event())


def test_a_simulation_beside_a_recording_yields_and_keeps_its_spikes(session, tmp_path):
    assert session.execute("net example cuba") and session.execute("simulate 200ms --seed 4")
    alone = session.simulation.spike_index.copy()
    assert session.execute("connect sim --channels 8 --rate 500Hz")
    assert session.execute(f"record start {tmp_path / 'rec.h5'}")
    assert session.execute("simulate 200ms --seed 4")
    assert "at a lower OS priority than the recording)" in session.ui.text
    np.testing.assert_array_equal(session.simulation.spike_index, alone)
    assert session.execute("record stop")
