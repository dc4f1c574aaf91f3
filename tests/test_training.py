"""Datasets and spiking decoders on real (small) data with real torch."""

import pickle

import numpy as np
import pytest
import torch

from neuroshell.storage.files import open_file
from neuroshell.training.checkpoints import load_checkpoint, load_state, save_checkpoint
from neuroshell.training.datasets import TEST, TRAIN, VALIDATION, cut_epochs, make_dataset, stratified_split
from neuroshell.training.errors import TrainingError
from neuroshell.training.evaluation import evaluate
from neuroshell.training.models import default_recipe
from neuroshell.training.trainer import train
from tests.helpers import helmet_recording

torch.set_num_threads(1)


def test_epochs_are_cut_exactly():
    rate = 100.0
    times = 10.0 + np.arange(1000) / rate
    data = np.column_stack([np.arange(1000), -np.arange(1000)]).astype(np.float32)
    markers = np.array([10.5, 12.0, 13.33, 19.9])
    X, labels, _onsets, dropped = cut_epochs(
        data, times, rate, markers, ["a", "b", "a", "b"], ["a", "b"], (-0.1, 0.2), np.zeros((0, 2))
    )
    assert labels == ["a", "b", "a"] and dropped == {"gap": 0, "edge": 1}  # 19.9 s runs off the end
    assert X.shape == (3, 2, 30)
    np.testing.assert_array_equal(X[0, 0], np.arange(40, 70))  # sample 50 is at 10.5 s; window from -100 ms
    np.testing.assert_array_equal(X[1, 1], -np.arange(190, 220))
    np.testing.assert_array_equal(X[2, 0], np.arange(323, 353))  # 13.33 - 0.1 = 13.23 s = sample 323
    X, *_ = cut_epochs(data, times, rate, markers[:1], ["a"], ["a"], (-0.1, 0.2), np.zeros((0, 2)), (-0.1, 0.0))
    np.testing.assert_allclose(X[0, 0], np.arange(40, 70) - np.mean(np.arange(40, 50)))


def test_epochs_crossing_a_gap_are_dropped_and_counted():
    rate = 100.0
    times = np.arange(1000) / rate
    keep = (times < 4.0) | (times > 4.5)
    gaps = np.array([[4.0, 4.5]])
    data = np.ones((keep.sum(), 3), np.float32)
    markers = np.array([2.0, 3.9, 4.2, 4.55, 6.0])
    _X, labels, _, dropped = cut_epochs(data, times[keep], rate, markers, ["x"] * 5, ["x"], (-0.1, 0.3), gaps)
    assert dropped["gap"] == 3 and len(labels) == 2  # windows at 3.9, 4.2 and 4.55 s overlap the gap


def test_split_is_stratified_and_leak_free():
    y = np.repeat([0, 1, 2], [60, 30, 90])
    split = stratified_split(y, (0.7, 0.15, 0.15), seed=3)
    for c, n in ((0, 60), (1, 30), (2, 90)):
        assert np.sum((y == c) & (split == VALIDATION)) == round(0.15 * n)
        assert np.sum((y == c) & (split == TEST)) == round(0.15 * n)
    assert len(split) == len(y)  # one split per example: none in two
    np.testing.assert_array_equal(split, stratified_split(y, (0.7, 0.15, 0.15), seed=3))
    X = np.random.default_rng(0).normal(size=(len(y), 4, 10)).astype(np.float32)
    X[split == TEST] += 100.0  # test data far off: a scaler that saw it would move
    dataset = make_dataset("d", X, [str(v) for v in y], {}, seed=3)
    train_only = X[dataset.split == TRAIN]
    np.testing.assert_allclose(dataset.scaler_mean, train_only.mean(axis=(0, 2)), rtol=1e-5)
    assert np.all(np.abs(dataset.scaler_mean) < 1.0)


@pytest.fixture(scope="module")
def helmet_dataset(tmp_path_factory):
    path = helmet_recording(tmp_path_factory.mktemp("helmet") / "helmet.h5", seconds=150, channels=32, seed=7)
    handle = open_file(path)
    view = handle.stream("meg")
    times, labels, _ = handle.markers()
    X, kept, _, _dropped = cut_epochs(
        view.data[:],
        view.time[:],
        view.sampling_rate_hz,
        times,
        labels,
        ["stim/left", "stim/right", "stim/tone"],
        (-0.1, 0.5),
        view.gaps(),
        (-0.1, 0.0),
    )
    handle.close()
    return make_dataset("helmet", X, kept, {"window": [-0.1, 0.5]}, seed=1)


def test_snn_decodes_the_helmets_evoked_responses(helmet_dataset, tmp_path):
    dataset = helmet_dataset
    assert len(dataset.y) >= 100 and min(dataset.counts()["test"]) >= 5
    recipe = default_recipe("snn-mlp", 32, 3, steps=20, hidden=64)
    trained = train(dataset, recipe, "decoder", epochs=25, lr=3e-3, batch=16, seed=0)
    metrics = evaluate(trained, dataset)
    # Three classes: chance is 0.33. Held-out test epochs were never seen in training or model selection.
    assert metrics["accuracy"] >= 0.8, metrics
    assert metrics["balanced_accuracy"] >= 0.75
    assert metrics["confusion"].sum() == metrics["n_examples"] == int(np.sum(dataset.split == TEST))
    assert trained.baseline["val_accuracy"] >= 0.6
    # The kept weights are those of the epoch with the best validation balanced accuracy, ties going to the
    # lower (class-weighted) loss.
    kept = max(trained.history, key=lambda row: (row["val_balanced_accuracy"], -row["val_loss"]))
    assert trained.best_epoch == kept["epoch"]
    X_val, y_val = dataset.standardized(VALIDATION)
    assert np.mean(trained.predict(X_val) == y_val) == pytest.approx(kept["val_accuracy"])
    weights = save_checkpoint(trained, tmp_path)
    loaded = load_checkpoint(weights)
    X, _ = dataset.standardized()
    np.testing.assert_array_equal(loaded.predict(X), trained.predict(X))
    assert loaded.history == trained.history and loaded.classes == ["stim/left", "stim/right", "stim/tone"]


def test_conv_snn_trains_and_rate_coding_runs(helmet_dataset):
    recipe = default_recipe("snn-conv", 32, 3, steps=12, hidden=32, filters=4)
    trained = train(helmet_dataset, recipe, "conv", epochs=8, lr=3e-3, batch=16, seed=0)
    assert evaluate(trained, helmet_dataset)["accuracy"] > 0.5
    rate = train(helmet_dataset, default_recipe("snn-mlp", 32, 3, steps=12, encoding="rate"), "rate", epochs=4)
    assert [row["epoch"] for row in rate.history] == [0, 1, 2, 3] or len(rate.history) == 4
    assert rate.history[-1]["loss"] < rate.history[0]["loss"]  # rate-coded spikes carry what it learns from
    predicted = rate.predict(helmet_dataset.standardized()[0])
    assert predicted.shape == (len(helmet_dataset.y),) and set(predicted) <= {0, 1, 2}


class Exploit:
    """Unpickling this would run a shell command."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_a_pickle_checkpoint_with_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    with open(evil, "wb") as f:
        pickle.dump({"weight": Exploit(marker)}, f)
    with pytest.raises(TrainingError, match="refused to load"):
        load_state(evil)
    assert not marker.exists()
    plain = tmp_path / "plain.pt"
    torch.save({"w": torch.ones(2)}, plain)
    assert torch.equal(load_state(plain)["w"], torch.ones(2))
