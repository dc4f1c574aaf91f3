"""Training verbs through the dispatcher, on a real recording of the simulated helmet."""

import h5py
import numpy as np
import pytest

from tests.helpers import helmet_recording


@pytest.fixture
def recording(tmp_path):
    return helmet_recording(tmp_path / "helmet.h5", seconds=60, channels=16, seed=3, gap=(20.0, 21.0))


def test_dataset_train_evaluate_models(session, recording, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    raw = recording.read_bytes()
    assert session.execute(
        f"dataset epochs {recording}:/streams/meg --markers stim/* --window -100ms:400ms --baseline -100ms:0s --name ep"
    )
    table = session.ui.results[-2]
    assert [row[0] for row in table.rows] == ["stim/left", "stim/right", "stim/tone"]
    assert "dropped:" in session.ui.lines[-1] and "(gap)" in session.ui.lines[-1]
    derived = tmp_path / "helmet-datasets.h5"  # derived data goes beside the recording, which stays as it was
    assert session.ui.lines[-1].endswith(f"stored in {derived}:/datasets/ep")
    with h5py.File(derived) as f:
        stored = f["datasets/ep"]
        assert stored["X"].shape[1:] == (16, 250) and set(np.unique(stored["split"][:])) == {0, 1, 2}
    assert session.execute("train ep --epochs 6 --steps 10 --hidden 32 --name dec --seed 1")
    assert "best validation balanced accuracy" in session.ui.lines[-1]
    assert (tmp_path / "models" / "dec.safetensors").is_file() and (tmp_path / "models" / "dec.json").is_file()
    assert session.execute("evaluate dec ep")
    assert session.ui.lines[-1].startswith("accuracy ")
    with h5py.File(derived) as f:
        evaluation = f["models/dec/evaluation/ep"]
        assert evaluation["confusion"].shape == (3, 3) and 0 <= evaluation.attrs["accuracy"] <= 1
    assert recording.read_bytes() == raw
    assert session.execute("models")
    assert session.ui.results[-1].rows[0][0] == "dec"
    saved = (tmp_path / "models" / "dec.safetensors").read_bytes()
    assert not session.execute("train ep --epochs 1 --steps 10 --hidden 8 --name dec")
    assert session.ui.errors[-1] == (
        "a model 'dec' exists already (models/dec.safetensors): choose another --name, or add --overwrite"
    )
    assert (tmp_path / "models" / "dec.safetensors").read_bytes() == saved
    assert session.execute("train ep --epochs 1 --steps 10 --hidden 8 --name dec --overwrite")
    assert session.models["dec"].recipe["hidden"] == 8
    assert (tmp_path / "models" / "dec.safetensors").read_bytes() != saved
    from neuroshell.sessions import Session
    from tests.helpers import RecordingUI

    later = Session(ui=RecordingUI(), home=session.home)  # a later session lists what models.dir holds
    try:
        assert later.execute("models")
        row = later.ui.results[-1].rows[0]
        assert row[:4] == ("dec", "snn-mlp", "stim/left,stim/right,stim/tone", "ep") and "dec.safetensors" in row[-1]
        assert later.names("model") == ["dec"]  # completion offers it too
    finally:
        later.close()
    assert session.execute("datasets")
    assert session.ui.results[-1].rows[0][:2] == ("ep", len(session.datasets["ep"].y))


def test_a_stored_dataset_reloads_in_a_new_session(session, recording, tmp_path, monkeypatch):
    from neuroshell.sessions import Session
    from tests.helpers import RecordingUI

    monkeypatch.chdir(tmp_path)
    session.execute(f"dataset epochs {recording}:/streams/meg --name again --seed 4")
    other = Session(ui=RecordingUI(), home=session.home)
    try:
        derived = tmp_path / "helmet-datasets.h5"
        assert other.execute(f"train {derived}:/datasets/again --epochs 1 --steps 5 --hidden 8")
        loaded = other.datasets["again"]
        np.testing.assert_array_equal(loaded.split, session.datasets["again"].split)
        np.testing.assert_allclose(loaded.scaler_mean, session.datasets["again"].scaler_mean)
    finally:
        other.close()


def test_spike_datasets_from_a_simulation(session, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    session.execute("net new drive")
    session.execute("net add cells --n 40 e_l=-70mV v_init=-70mV")
    session.execute("net input cells --current 0.4nA --start 300ms --stop 600ms")
    assert session.execute(f"simulate 600ms --to {tmp_path / 'sim.h5'}")
    assert session.execute(
        f"dataset spikes {tmp_path / 'sim.h5'}:/simulations/run1 "
        "--labels 0s:300ms=rest,300ms:600ms=driven --window 50ms --bins 5 --name sp"
    )
    dataset = session.datasets["sp"]
    assert dataset.X.shape == (12, 40, 5) and dataset.classes == ["driven", "rest"]
    assert not session.execute(f"dataset spikes {tmp_path / 'sim.h5'}:/simulations/run1 --labels 300ms:2s=driven")
    assert session.ui.errors[-1] == (
        "--labels 0.3s:2s=driven ends after the run (0.6 s): its windows would be empty, not quiet; "
        "label spans within the run"
    )
    assert dataset.X[dataset.y == 1].sum() == 0 and dataset.X[dataset.y == 0].sum() > 0


def test_training_errors_are_one_line(session, recording):
    assert not session.execute("train nothing")
    assert "no dataset 'nothing'" in session.ui.errors[-1]
    assert not session.execute(f"dataset epochs {recording}:/streams/meg --markers button/*")
    assert session.ui.errors[-1].startswith("no markers match button/*")
    assert not session.execute(f"dataset epochs {recording}:/streams/meg --window 500ms")
    assert "write START:STOP" in session.ui.errors[-1]
    assert not session.execute(f"dataset epochs {recording}:/streams/meg --split 0.5,0.5")
    assert "3 comma-separated values: train,validation,test fractions that add up to 1" in session.ui.errors[-1]
    assert not session.execute("evaluate ghost x")
    assert "no model 'ghost'" in session.ui.errors[-1]
