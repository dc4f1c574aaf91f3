"""Sweeps on real Dask clusters: a LocalCluster of worker processes, and a `dask scheduler` with two
`dask worker` processes started here on 127.0.0.1; results checked against in-process simulations."""

import socket
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

pytest.importorskip("distributed")  # the test command installs neuroshell[sweep]; this names it if not

VARY = "--vary exc.tau_m=15ms,25ms --vary exc->inh.w=1mV,2mV"
NETWORK = "net example cuba --n 400"


def spikes_in(path: Path, name: str) -> dict[tuple[int, str], tuple[np.ndarray, np.ndarray]]:
    with h5py.File(path) as f:
        group = f[f"sweeps/{name}/spikes"]
        return {
            (int(point[5:]), population): (data["timestamps"][:], data["node_ids"][:])
            for point, populations in group.items()
            for population, data in populations.items()
        }


def test_a_sweep_on_a_local_cluster_equals_simulations_in_process(session, tmp_path, monkeypatch):
    from neuroshell.neuron.simulator import simulate
    from neuroshell.sweeps.grid import apply, resolve

    monkeypatch.chdir(tmp_path)
    assert session.execute(NETWORK)
    command = f"sweep simulate 100ms {VARY} --seeds 2 --seed 5 --keep spikes --workers 2 --to {tmp_path / 's.h5'}"
    assert session.execute(command), session.ui.errors
    table = session.ui.results[-2]
    assert len(table.rows) == 8 and {row[table.columns.index("state")] for row in table.rows} == {"done"}
    assert (
        session.ui.lines[-1]
        == f"wrote {tmp_path / 's.h5'}:/sweeps/cuba-exc_tau_m-exc_inh_w: 8 of 8 points done, 0 failed"
    )
    with h5py.File(tmp_path / "s.h5") as f:
        sweep = f["sweeps/cuba-exc_tau_m-exc_inh_w"]
        values, seeds = sweep["points/values"][:], sweep["points/seed"][:]
        assert list(sweep["points/values"].attrs["columns"]) == ["exc.tau_m", "exc->inh.w"]
        np.testing.assert_allclose(values[::2], [[15e-3, 1e-3], [15e-3, 2e-3], [25e-3, 1e-3], [25e-3, 2e-3]])
        assert list(seeds) == [5, 6] * 4
        rates = sweep["summary/exc.rate_hz"][:]
        counts = sweep["summary/inh.spikes"][:]
    stored = spikes_in(tmp_path / "s.h5", "cuba-exc_tau_m-exc_inh_w")
    for index in (0, 5):
        network = session.network.from_json(session.network.to_json())
        for name, value in zip(("exc.tau_m", "exc->inh.w"), values[index], strict=True):
            apply(network, resolve(network, name), value)
        result = simulate(network, 0.1, dt_s=1e-4, seed=int(seeds[index]))
        times, ids = result.spikes_of("exc")
        np.testing.assert_array_equal(stored[index, "exc"][0], times * 1e3)
        np.testing.assert_array_equal(stored[index, "exc"][1], ids)
        assert rates[index] == pytest.approx(len(times) / (320 * 0.1))
        assert counts[index] == result.spike_count("inh")
    where = f"{tmp_path / 's.h5'}:/sweeps/cuba-exc_tau_m-exc_inh_w"
    assert session.execute(f"plot sweep {where} --x exc.tau_m --value exc.rate")
    assert session.ui.lines[-1].endswith("(8 finished points; averaged over exc->inh.w)")
    assert session.execute(f"plot sweep {where} --x exc.tau_m --y exc->inh.w --value inh.cv_isi")
    assert session.ui.lines[-1].startswith("wrote plots/sweep-s-cuba-exc_tau_m-exc_inh_w-2.png")
    assert (tmp_path / "plots" / "sweep-s-cuba-exc_tau_m-exc_inh_w-2.png").stat().st_size > 1000
    assert not session.execute(f"plot sweep {where} --x exc.tau_m --value exc.rte")
    assert "no measure 'exc.rte' in this sweep (measures: exc.cv_isi, exc.rate_hz" in session.ui.errors[-1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def dask_cluster(tmp_path):
    """A real `dask scheduler` and two `dask worker` processes on 127.0.0.1, stopped at the end."""
    from distributed import Client

    dask = str(Path(sys.executable).with_name("dask"))
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": tmp_path}
    processes = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", "127.0.0.1:0"],
            **quiet,
        )
    ]
    for _ in range(2):
        worker = [
            dask,
            "worker",
            address,
            "--nthreads",
            "1",
            "--host",
            "127.0.0.1",
            "--dashboard-address",
            "127.0.0.1:0",
        ]
        processes.append(subprocess.Popen(worker, **quiet))
    try:
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def test_a_sweep_through_a_scheduler_equals_the_local_one_spike_for_spike(session, tmp_path, dask_cluster):
    assert session.execute(NETWORK)
    base = f"sweep simulate 100ms {VARY} --keep spikes --name grid"
    assert session.execute(f"{base} --scheduler {dask_cluster} --to {tmp_path / 'remote.h5'}"), session.ui.errors
    assert session.execute(f"{base} --workers 2 --to {tmp_path / 'local.h5'}"), session.ui.errors
    remote, local = spikes_in(tmp_path / "remote.h5", "grid"), spikes_in(tmp_path / "local.h5", "grid")
    assert set(remote) == set(local) and len(local) == 8
    for key, (times, ids) in local.items():
        np.testing.assert_array_equal(remote[key][0], times)
        np.testing.assert_array_equal(remote[key][1], ids)
    assert sum(len(times) for times, _ in local.values()) > 100


def test_an_interrupted_sweep_resumes_where_it_stopped(session, tmp_path, monkeypatch):
    from neuroshell.sweeps.store import SweepStore

    assert session.execute(NETWORK)
    command = f"sweep simulate 200ms --vary exc.tau_m=12ms:30ms:8 --workers 2 --to {tmp_path / 's.h5'} --name r"
    write = SweepStore.write

    def ctrl_c_after_the_first_point(store, index, result, error):  # as Ctrl-C lands between two results
        write(store, index, result, error)
        monkeypatch.setattr(SweepStore, "write", write)
        raise KeyboardInterrupt

    monkeypatch.setattr(SweepStore, "write", ctrl_c_after_the_first_point)
    session.execute(command)
    assert session.ui.lines[-1].startswith("warning: interrupted: ")
    assert session.ui.lines[-1].endswith(
        "pending points cancelled; kept the finished ones (the same command again resumes)"
    )
    with h5py.File(tmp_path / "s.h5") as f:
        states = [s.decode() for s in f["sweeps/r/points/state"][:]]
        first = f["sweeps/r/summary/exc.rate_hz"][:]
    finished = [i for i, s in enumerate(states) if s == "done"]
    assert 1 <= len(finished) < 8 and set(states) <= {"done", "pending"}
    assert session.execute(command), session.ui.errors
    assert (
        f"{8 - len(finished)} of 8 points done, 0 failed, {len(finished)} already in the file (skipped)"
        in session.ui.lines[-1]
    )
    with h5py.File(tmp_path / "s.h5") as f:
        assert {s.decode() for s in f["sweeps/r/points/state"][:]} == {"done"}
        again = f["sweeps/r/summary/exc.rate_hz"][:]
    np.testing.assert_array_equal(again[finished], first[finished])
    assert session.execute(command) and "0 of 8 points done, 0 failed, 8 already in the file" in session.ui.lines[-1]


def test_a_failing_point_is_recorded_and_the_sweep_goes_on(session, tmp_path):
    assert session.execute(NETWORK)
    assert session.execute(f"sweep simulate 50ms --vary exc->inh.delay=-1ms,1ms --workers 1 --to {tmp_path / 's.h5'}")
    assert "1 of 2 points done, 1 failed" in session.ui.lines[-2]
    assert session.ui.lines[-1].endswith(
        "point 0 failed: delays must not be negative and time constants must be positive"
    )
    with h5py.File(tmp_path / "s.h5") as f:
        sweep = f["sweeps/cuba-exc_inh_delay"]
        assert [s.decode() for s in sweep["points/state"][:]] == ["failed", "done"]
        assert sweep["points/error"][0].decode().startswith("delays must not be negative")
        assert np.isnan(sweep["summary/exc.rate_hz"][0]) and sweep["summary/exc.rate_hz"][1] > 0


@pytest.mark.parametrize(
    ("vary", "message"),
    [
        ("exx.tau_m=10ms,20ms", "no population 'exx' (did you mean exc?)"),
        ("exc.tau=10ms,20ms", "exc (lif) has no parameter 'tau' (did you mean tau_m?)"),
        ("exc.tau_m=10mV,20mV", "--vary exc.tau_m: wrong unit in '10mV': expected a time (s)"),
        ("exc->inh.weight=1mV", "a projection has no parameter 'weight'"),
        ("inh->inh.indegree=10", "inh->inh connects by"),
        ("exc.input.poisson=5Hz", "exc has no input: add one with net input first"),
        ("exc.tau_m=10ms:20ms:x", "a range is START:STOP:COUNT with a whole COUNT"),
        ("exc.tau_m", "give PARAM=VALUES"),
    ],
)
def test_addressing_errors_name_what_is_wrong(session, tmp_path, vary, message):
    assert session.execute(NETWORK)
    assert not session.execute(f"sweep simulate 50ms --vary {vary} --to {tmp_path / 's.h5'}")
    assert message in session.ui.errors[-1]
    assert not (tmp_path / "s.h5").exists()


def test_sweep_train_keeps_the_best_decoder(session, tmp_path, monkeypatch):
    from tests.helpers import helmet_recording

    monkeypatch.chdir(tmp_path)
    helmet_recording(tmp_path / "rec.h5", 40, channels=8, seed=3)
    assert session.execute("dataset epochs rec.h5:/streams/meg --window -100ms:300ms --name ep")
    command = "sweep train ep --vary lr=1e-3,5e-3 --vary encoding=direct,rate --epochs 3 --workers 2 --to sw.h5"
    assert session.execute(command), session.ui.errors
    assert "4 of 4 points done, 0 failed" in session.ui.lines[-2]
    with h5py.File(tmp_path / "sw.h5") as f:
        sweep = f["sweeps/ep-lr-encoding"]
        accuracy, loss = sweep["summary/val_accuracy"][:], sweep["summary/val_loss"][:]
        assert list(sweep["points/values"][:, 1]) == [0, 1, 0, 1]  # indices into the encodings' choices
    best = max(range(4), key=lambda i: (accuracy[i], -loss[i]))
    assert session.ui.lines[-1].startswith(f"kept point {best} as model ep-lr-encoding-best")
    kept = session.models["ep-lr-encoding-best"]
    assert kept.history[kept.best_epoch - 1]["val_accuracy"] == pytest.approx(accuracy[best])
    assert kept.recipe["encoding"] == ("direct", "rate")[best % 2]
    assert (tmp_path / "models" / "ep-lr-encoding-best.safetensors").is_file()


def _sigint_disposition() -> str:
    import signal

    return str(signal.getsignal(signal.SIGINT))


def test_local_workers_leave_ctrl_c_to_the_shell():
    """A Ctrl-C at the terminal reaches every process of its group: the workers ignore it (they printed a
    traceback each over the shell's screen) and the shell cancels the sweep."""
    import signal

    from neuroshell.sweeps.cluster import dask_client

    with dask_client(2) as client:
        dispositions = client.run(_sigint_disposition)
    assert len(dispositions) == 2 and set(dispositions.values()) == {str(signal.SIG_IGN)}
    assert signal.getsignal(signal.SIGINT) is not signal.SIG_IGN  # the shell's own handling is back


def test_a_sweep_over_a_plastic_projection_learns(session):
    """The sweep's worker applies the point's value through the network's own method: the projection keeps
    its STDP (it once rebuilt the projection as static synapses), and the spikes are a plastic run's."""
    from neuroshell.neuron.simulator import simulate
    from neuroshell.sweeps.grid import resolve
    from neuroshell.sweeps.tasks import simulate_point

    assert session.execute("net example stdp")
    network = session.network
    address = resolve(network, "input->neuron.w")
    point = simulate_point(network.to_json(), [address], (0.45e-3,), 5.0, 1e-4, 2, keep_spikes=True)
    plastic = network.from_json(network.to_json())
    plastic.replace_projection("input", "neuron", weight=0.45e-3)
    assert plastic.projection("input", "neuron").plasticity.rule == "additive"
    static = plastic.from_json(plastic.to_json())
    static.replace_projection("input", "neuron", plasticity=None)
    learnt, fixed = simulate(plastic, 5.0, seed=2), simulate(static, 5.0, seed=2)
    assert point["summary"]["neuron.spikes"] == learnt.spike_count("neuron") != fixed.spike_count("neuron")
    np.testing.assert_array_equal(point["spikes"]["neuron"][0], learnt.spikes_of("neuron")[0])
    assert len(learnt.learned["input->neuron"]) == 1000  # it learnt
