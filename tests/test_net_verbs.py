"""Network verbs through the dispatcher."""

import re
import time

import h5py
import numpy as np
import pytest

from neuroshell.storage.layout import StreamSpec
from neuroshell.storage.recorder import Recorder


def test_build_simulate_and_store(session, tmp_path):
    assert session.execute("net new small")
    assert session.execute("net add exc --model lif --n 80 tau_m=10ms v_th=-52mV e_l=-49mV")
    assert session.execute("net add inh --n 20 e_l=-49mV")
    assert session.execute("net connect exc inh --rule p=0.1 --w 0.5mV --delay 1ms")
    assert session.execute("net connect inh exc --rule indegree=5 --w -2mV --tau 10ms")
    assert session.execute("net show")
    pops, projections = session.ui.results[-2:]
    assert [row[:3] for row in pops.rows] == [("exc", "lif", 80), ("inh", "lif", 20)]
    assert projections.rows[0][:4] == ("exc -> inh", "p=0.1", 160, "500uV")
    assert projections.rows[1][:3] == ("inh -> exc", "indegree=5", 400)
    assert session.network.population("exc").params["tau_m"] == 0.01
    path = tmp_path / "sim.h5"
    assert session.execute(f"simulate 200ms --to {path} --record spikes,v --trace exc:0 --seed 5")
    per_synapse = re.search(r" synapses, ([0-9.]+) bytes each; peak resident memory \d+ MB\)", session.ui.text)
    assert per_synapse and float(per_synapse.group(1)) <= 8
    rows = {row[0]: row for row in session.ui.results[-3].rows}
    assert rows["exc"][1] == 80 and int(rows["exc"][2]) > 0
    assert session.ui.lines[-1] == f"wrote {path}:/simulations/run1"
    assert session.execute(f"simulate 100ms --to {path}")
    with h5py.File(path) as f:
        assert set(f["simulations"]) == {"run1", "run2"}
        assert f["simulations/run1/state/v"].shape == (2000, 1)
        assert f["simulations/run1/spikes/exc/timestamps"].shape[0] == int(rows["exc"][2])


def test_save_load_example(session, tmp_path):
    assert session.execute("net example cuba --n 1000")
    assert "1000 neurons" in session.ui.lines[-1]
    assert session.execute(f"net save {tmp_path / 'cuba.graphml'}")
    assert session.execute("net new other")
    assert session.execute(f"net load {tmp_path / 'cuba.graphml'}")
    assert session.network.name == "cuba" and session.network.n_neurons == 1000


def test_recorded_stream_drives_a_population(session, tmp_path):
    path = tmp_path / "lab.h5"
    recorder = Recorder(path, [StreamSpec("meg", ["a", "b"], 1000.0)], clock=time.monotonic)
    t = np.arange(1000) / 1000
    recorder.put("meg", np.column_stack([np.sin(2 * np.pi * 5 * t), np.cos(2 * np.pi * 3 * t)]).astype("f4"), t)
    recorder.stop()
    session.execute("net new driven")
    session.execute("net add cells --n 4 v_th=1V e_l=-70mV v_init=-70mV tau_m=1ms")
    assert session.execute(f"net input cells --from {path}:/streams/meg --channels 0:2 --scale 0.1nA")
    assert session.execute("simulate 500ms --record v --trace cells:0,cells:1")
    trace = session.simulation.state_v
    expected = np.sin(2 * np.pi * 5 * np.arange(5000) * 1e-4)
    assert np.corrcoef(trace[50:, 0], expected[50:])[0, 1] > 0.99
    expected_b = np.cos(2 * np.pi * 3 * np.arange(5000) * 1e-4)
    assert np.corrcoef(trace[50:, 1], expected_b[50:])[0, 1] > 0.99


def test_bad_network_input_is_one_line(session):
    assert not session.execute("net connect a b --w 1mV")
    assert session.ui.errors[-1] == "no network yet: 'net new' or 'net example cuba'"
    session.execute("net new")
    assert not session.execute("net add a --model hh --n 3")
    assert "'hh' is not one of: lif, adex, izh" in session.ui.errors[-1]
    assert not session.execute("net add a --n -3")
    assert "needs at least one neuron" in session.ui.errors[-1]
    session.execute("net add a --n 3")
    assert not session.execute("net add b --n 3 tau_m=20mV")
    assert session.ui.errors[-1].startswith("tau_m=20mV: wrong unit in '20mV': expected a time")
    assert not session.execute("net connect a ghost --w 1mV")
    assert session.ui.errors[-1] == "no population 'ghost' (populations: a)"
    assert not session.execute("net connect a a --w 1Hz")
    assert "expected one of V, A, S" in session.ui.errors[-1]
    assert not session.execute("net input a")
    assert "exactly one of" in session.ui.errors[-1]
    assert not session.execute("simulate 10")
    assert "needs a unit" in session.ui.errors[-1]


def test_net_save_never_replaces_a_file_unasked_and_net_load_refuses_other_files(session, tmp_path):
    recording = tmp_path / "subject01.h5"
    recording.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))  # stands for a recording in the same folder
    assert session.execute("net example cuba --n 100")
    assert not session.execute(f"net save {recording}")
    assert session.ui.errors[-1] == f"{recording} exists: choose another name or add --overwrite"
    assert recording.read_bytes().startswith(b"\x89HDF")
    assert not session.execute(f"net load {recording}")
    assert session.ui.errors[-1].startswith(f"{recording} is not a network saved by neuroshell (JSON or GraphML)")
    assert session.execute(f"net save {tmp_path / 'cuba.json'}")
    assert session.execute(f"net save {tmp_path / 'cuba.json'} --overwrite")


def test_a_model_declared_in_one_module_is_offered_everywhere(session, tmp_path):
    from neuroshell.neuron.models import MODELS
    from tests import toy_model
    from tests.test_prompt import completions

    try:
        assert "toy" in completions(session, "net add cells --model t")
        assert session.execute("help net add")
        assert "\ntoy (a LIF with a fixed 10 ms membrane (a test's own model)), parameters" in session.ui.text
        assert not session.execute("net add cells --model toy --n 10 tau_m=5ms")
        assert session.ui.errors[-1] == "toy has no parameter 'tau_m' (parameters: c_m, v_th, v_init, v_init_spread)"
        assert session.execute("net add cells --model toy --n 20 v_th=-60mV")
        assert session.network.population("cells").params["v_th"] == -60e-3
        # 1 nA through the toy's 100 MOhm drives v to -70 mV + 100 mV: it fires regularly
        assert session.execute("net input cells --current 1nA")
        assert session.execute(f"simulate 200ms --to {tmp_path / 'toy.h5'}")
        assert session.simulation.spike_count("cells") > 20 * 5
    finally:
        MODELS.pop(toy_model.TOY.name)


def test_a_model_whose_update_the_kernels_lack_is_refused_not_run_as_another(session):
    import dataclasses

    from neuroshell.neuron.models import MODELS, ModelError, register
    from tests import toy_model

    unknown = dataclasses.replace(toy_model.TOY, name="toy9", update=9)
    with pytest.raises(ModelError, match=re.escape("the kernels have no membrane update 9 (updates: lif (0), adex")):
        register(unknown)
    assert "toy9" not in MODELS
    try:  # a spec changed after it was registered: refused when the network is compiled, before a step runs
        MODELS["toy9"] = toy_model.TOY
        assert session.execute("net add cells --model toy9 --n 10")
        MODELS["toy9"] = unknown
        assert not session.execute("simulate 10ms")
        assert "neuron model 'toy9': the kernels have no membrane update 9" in session.ui.errors[-1]
        assert session.simulation is None
    finally:
        MODELS.pop("toy9", None)
        MODELS.pop(toy_model.TOY.name, None)


def test_trace_names_neurons_that_exist(session):
    assert session.execute("net example cuba --n 100")
    assert not session.execute("simulate 10ms --record v --trace exc")
    assert session.ui.errors[-1] == "simulate --trace: 'exc': write POP:INDEX, e.g. exc:0"
    assert not session.execute("simulate 10ms --record v --trace exc:500")
    assert session.ui.errors[-1] == "--trace exc:500: exc has neurons 0 to 79"
    assert session.execute("simulate 10ms --record v --trace exc:79,inh:0")
    assert session.simulation.state_v.shape[1] == 2


def test_files_in_use_are_not_replaced_even_with_overwrite(session, tmp_path):
    path = tmp_path / "rec.h5"
    assert session.execute("connect sim --channels 4 --rate 100Hz")
    assert session.execute(f"record start {path}")
    assert session.execute("net example cuba --n 100")
    for line in (f"net save {path} --overwrite", f"save-history {path} --overwrite"):
        assert not session.execute(line)
        assert f"{path} is being recorded by neuroshell" in session.ui.errors[-1]
    assert session.execute("record stop")
    assert session.execute(f"open {path}")
    assert not session.execute(f"net save {path} --overwrite")
    assert session.ui.errors[-1] == f"{path} is open in this session: close it first, or choose another name"
    assert session.execute(f"ls {path}")  # the recording is intact


def test_a_failing_net_add_changes_nothing(session):
    assert not session.execute("net add cells --n 10 tau_m=5Hz")
    assert session.ui.errors[-1].startswith("tau_m=5Hz: wrong unit")
    assert session.network is None  # no empty network left behind
    assert session.execute("net add cells --n 10 tau_m=5ms")
    assert not session.execute("net add cells --n 10")
    assert [p.name for p in session.network.populations()] == ["cells"]


def test_ctrl_c_during_a_simulation_says_what_was_cancelled_and_kept(session):
    import os
    import signal
    import threading
    import time

    assert session.execute("net example cuba --n 2000")
    # Python's own handler, whatever came before: Brian2 (imported by the reference tests) chains its handler
    # to the one it found, and a run started in the background by a shell found SIGINT ignored.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)

    def interrupt_once_running() -> None:  # not while numba compiles the kernels (a fresh clone's first run)
        while not any(done > 0 for what, done in session.ui.progress_updates if what == "simulating"):
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGINT)

    watcher = threading.Thread(target=interrupt_once_running, daemon=True)
    watcher.start()
    try:
        assert session.execute("simulate 600s"), session.ui.errors
    finally:
        watcher.join()
        signal.signal(signal.SIGINT, previous)
    assert session.ui.lines[-1].startswith("warning: interrupted: simulation at ")
    assert session.ui.lines[-1].endswith(" of 600 s cancelled; kept what ran")
    assert 0 < session.simulation.duration_s < 600


def test_delta_synapses_from_the_prompt_jump_the_membrane(session):
    assert session.execute("net new jumps")
    assert session.execute("net add cells --n 50 e_l=0mV v_init=0mV v_th=20mV v_reset=10mV")
    assert session.execute("net input cells --poisson 1kHz --sources 10 --w 0.1mV --delta")
    assert session.network.population("cells").inputs[0].synapse == "delta"
    assert session.execute("net connect cells cells --rule indegree=5 --w 0.2mV --delay 1.5ms --syn delta")
    assert session.execute("simulate 300ms --trace cells:0 --record spikes,v --seed 2")
    v = session.simulation.state_v[:, 0]
    # Every change of v between steps is a decay towards 0 plus whole jumps of 0.1 mV or 0.2 mV (or a reset).
    jumps = v[1:] - v[:-1] * np.exp(-1e-4 / 20e-3)
    within = (v[1:] > 10e-3 + 1e-12) & (v[:-1] > 10e-3 + 1e-12)
    steps = np.round(jumps[within] / 0.1e-3)
    assert np.all(np.abs(jumps[within] - steps * 0.1e-3) < 1e-9) and steps.max() >= 1
    assert not session.execute("net connect cells cells --w 1nS --syn delta")
    assert session.ui.errors[-1] == "a delta synapse takes a weight in V, not S"


def test_threads_from_the_option_or_the_setting_give_the_same_spikes(session):
    from neuroshell.neuron.simulator import available_cores

    assert session.execute("net example cuba --n 20000")  # at the threading size
    assert session.execute("simulate 30ms --threads 1 --seed 2")
    assert " wall on 1 thread (" in session.ui.text
    one = session.simulation.spike_index
    assert session.execute("set sim.threads 2")
    assert session.execute("simulate 30ms --seed 2")
    said = "2 threads" if available_cores() >= 2 else f"{available_cores()} threads (2 asked"
    assert f" wall on {said}" in session.ui.text
    assert np.array_equal(session.simulation.spike_index, one) and len(one) > 100
    assert not session.execute("simulate 30ms --threads 0")
    assert "--threads" in session.ui.errors[-1]
    assert session.execute("set sim.threads auto") and session.execute("simulate 30ms --seed 2")
    summary = session.ui.lines[-2]
    assert session.simulation.threads == "auto" and " wall on " in summary
    assert "(auto: " in summary or available_cores() == 1
    assert session.ui.lines[-1] == (
        "the run is kept in memory only, until the next simulate: plot raster plots it; --to FILE writes it"
    )
    assert np.array_equal(session.simulation.spike_index, one)
    assert session.execute("net example cuba --n 4000")
    assert session.execute("simulate 10ms --threads 2")
    assert session.simulation.threads_used == 1
    assert " wall on 1 thread (2 asked: under 20,000 neurons one thread is faster)" in session.ui.text
    assert session.execute("simulate 10ms")
    assert " wall on 1 thread (auto: under 20,000 neurons one thread is faster)" in session.ui.lines[-2]


def test_a_simulation_beside_a_connected_device_leaves_the_devices_reader_a_core(session):
    from neuroshell.neuron.simulator import available_cores

    cores = available_cores()
    assert session.execute("connect sim --channels 8 --rate 250Hz")
    assert session.execute("net example cuba --n 20000") and session.execute("simulate 30ms")
    assert session.simulation.threads_used == max(1, cores - 1)
    if cores == 2:
        assert " wall on 1 thread (auto, on 1 of 2 cores: 1 kept for the devices' readers)" in session.ui.lines[-2]
    assert session.execute("simulate 30ms --threads 2")  # a count given is a count run
    assert session.simulation.threads_used == min(2, cores)


def test_net_compile_works_in_the_background_and_simulate_waits_for_it(session):
    assert session.execute("net compile")
    warmup = session.kernel_warmup
    assert session.ui.lines[-1].startswith("compiling the simulator's kernels in the background")
    assert session.execute("net example cuba --n 400") and session.execute("simulate 20ms")
    assert warmup.process.returncode == 0 and session.kernel_warmup is None  # it ended well before the run
    assert session.simulation.duration_s == pytest.approx(0.02)


def test_a_compilation_still_running_ends_with_the_session(neuroshell_home):
    from neuroshell.sessions import Session
    from tests.helpers import RecordingUI

    session = Session(ui=RecordingUI(), home=neuroshell_home)
    assert session.execute("net compile")
    process = session.kernel_warmup.process
    session.close()
    assert process.poll() is not None  # no process left behind


class Arrivals:
    """A device listener that notes when each block reaches it."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def samples(self, device, data, times) -> None:
        self.times.append(time.monotonic())

    def marker(self, device, time_s, label) -> None:
        pass

    def gap(self, device, start_s, stop_s) -> None:
        pass

    def clock_offset(self, device, local_time_s, offset_s) -> None:
        pass


def test_a_device_is_read_while_a_simulation_runs(session, tmp_path):
    """The simulator's kernel lets go of the interpreter while it runs, so the device's reader and the recorder
    go on: holding it, each chunk of a 200k-neuron run (~0.2 s) stopped them, and a simulated helmet beside a
    7 s run fell 2.6 s behind."""
    assert session.execute("connect sim --channels 8 --rate 1000Hz --name helmet")
    assert session.execute("net example cuba --n 100000") and session.execute("simulate 10ms")  # built and loaded
    assert session.execute(f"record start {tmp_path / 'beside.h5'}")
    arrivals = Arrivals()
    session.devices["helmet"].add_listener(arrivals)
    assert session.execute("simulate 500ms --threads 1")
    chunk_wall_s = session.simulation.wall_s / 10  # 50 ms of simulated time a chunk
    during = np.diff(arrivals.times)
    assert session.execute("record stop")
    assert chunk_wall_s > 0.06 and len(during) > 10
    # blocks come every 20 ms; the build (in Python) and a busy moment of this machine may hold one or two (a
    # kernel holding the interpreter held one per chunk: 10 here)
    assert (during > 0.05).sum() <= 3
    with h5py.File(tmp_path / "beside.h5") as f:
        times = f["streams/helmet/time"][:]
        # every sample there, spaced as the clock allows (the period within 0.4% while it follows the arrivals)
        assert len(f["streams/helmet/gaps"]) == 0 and abs(len(times) - 1 - (times[-1] - times[0]) * 1000) < 0.005 * len(
            times
        )


def test_inputs_are_replaced_checked_and_cleared_and_a_dropped_network_is_said(session, tmp_path):
    assert session.execute("net new drive") and session.execute("net add cells --n 10")
    assert session.execute("net input cells --current 0.4nA --start 100ms --stop 200ms")
    assert session.execute("net input cells --current 0.6nA")
    assert session.ui.lines[-1] == "cells gets current 600pA (in place of current 400pA from 100ms to 200ms)"
    assert session.execute("net input cells --poisson 10Hz --sources 5")
    inputs = session.network.population("cells").inputs
    assert [item.kind for item in inputs] == ["current", "poisson"] and inputs[0].amplitude_a == 0.6e-9
    assert session.execute("simulate 20ms")  # one time-varying input: it runs
    assert not session.execute("net input cells --current 1nA --start 300ms --stop 100ms")
    assert session.ui.errors[-1] == "net input: --stop 100ms is not after --start 300ms: the current would never flow"
    assert len(session.network.population("cells").inputs) == 2  # the refusal changed nothing
    assert session.execute("net show")
    populations = session.ui.results[-2]
    assert populations.rows[0][3] == "current 600pA, 5 Poisson sources at 10Hz (w 500uV)"
    # parameters in the units they are typed in at net add
    assert "tau_m=20ms" in populations.rows[0][4] and "v_th=-50mV" in populations.rows[0][4]
    assert session.execute("net input cells --clear")
    assert session.ui.lines[-1] == "cells: removed current 600pA, 5 Poisson sources at 10Hz (w 500uV)"
    assert session.network.population("cells").inputs == ()
    # the edited network is said when replaced; a script must say --overwrite
    script = tmp_path / "replace.nsh"
    script.write_text("net example cuba --n 200\n")
    assert not session.execute(f"run {script}")
    assert "net example would drop network drive: 1 population, 10 neurons, 0 projections" in session.ui.errors[-1]
    assert session.network.name == "drive"
    assert session.execute("net example cuba --n 200")
    assert session.ui.lines[-1].startswith("warning: dropped network drive: 1 population, 10 neurons")
    script.write_text("net example cuba --n 300\n")
    assert session.execute(f"run {script}")  # the example was not edited: nothing to drop


def test_settings_outside_physiological_sense_are_said_before_running(session):
    assert session.execute("net add cells --n 10 v_th=50mV")
    assert session.ui.lines[-1] == (
        "warning: v_th=50mV is above 0 mV: thresholds sit near -50 mV (a minus sign left out?)"
    )
    assert not session.execute("net connect cells cells --w -2nS --syn cond")
    assert session.ui.errors[-1] == (
        "net connect: a conductance cannot be negative (-2nS): inhibition is a reversal potential below rest, "
        "e.g. --w 1nS --erev -80mV"
    )
    assert session.network.projections() == []
    assert session.execute("simulate 10ms --dt 2ms")
    assert "warning: --dt 2ms is coarse: spikes and synaptic currents of milliseconds want 0.1 ms (1 ms at most)" in (
        session.ui.lines
    )
    assert not session.execute("simulate 1e6s")
    assert session.ui.errors[-1].startswith("simulating 1e+06 s keeps ") and session.ui.errors[-1].endswith(
        "simulate less at a time, or use a larger --dt"
    )


def test_net_remove_takes_out_a_projection_or_a_population_with_what_hangs_on_it(session):
    assert session.execute("net example cuba --n 200")
    assert session.execute("net remove exc->inh")
    assert session.ui.lines[-1] == "removed exc -> inh"
    assert len(session.network.projections()) == 3
    assert not session.execute("net remove exc->inh")
    assert session.ui.errors[-1] == "no projection exc->inh (projections: exc->exc, inh->exc, inh->inh)"
    assert session.execute("net remove inh")
    assert session.ui.lines[-1] == "removed inh with 0 inputs and projections inh->exc, inh->inh"
    assert [p.name for p in session.network.populations()] == ["exc"]
    assert [p.name for p in session.network.projections()] == ["exc->exc"]
    assert not session.execute("net remove inhh")
    assert session.ui.errors[-1].startswith("no population 'inhh'")
    assert session.execute("simulate 20ms")  # what is left runs
