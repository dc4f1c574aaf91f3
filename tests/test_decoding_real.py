"""Decoding prepared as the field prepares it, on real EEG (an excerpt of PhysioNet's eegmmidb, S001 runs 6
and 10, 21 motor-strip channels; see tests/data/eegmmidb/README.md): offline filters equal MNE's and the live
chain's, pooled runs, relabelling, rejection, trigger channels, and the field's pipelines through the verbs."""

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

from neuroshell.training.datasets import TEST

torch.set_num_threads(1)
DATA = Path(__file__).with_name("data") / "eegmmidb"
MI = "--markers T1=fists,T2=feet --window 1s:2s"


@pytest.fixture
def runs(session, tmp_path, monkeypatch):
    """Runs 6 and 10 imported with `import` into neuroshell files: {run: FILE:/streams/NAME}."""
    monkeypatch.chdir(tmp_path)
    assert session.execute(f"set models.dir {tmp_path / 'models'}")
    streams = {}
    for run in (6, 10):
        source = DATA / f"S001R{run:02d}-motor.edf"
        assert session.execute(f"import {source} --to r{run}.h5"), session.ui.errors
        streams[run] = f"r{run}.h5:/streams/S001R{run:02d}-motor"
    return streams


def _continuous(path: str):
    from neuroshell.storage.files import open_file

    file_name, _, stream = path.partition(":")
    file = open_file(Path(file_name))
    try:
        view = file.stream(stream)
        n = view.n_samples
        return view.samples(0, n), view.time[:n], view.sampling_rate_hz, view.gaps()
    finally:
        file.close()


def test_zero_phase_equals_mne_and_causal_equals_the_live_chain(runs):
    import mne

    from neuroshell.filters.chain import ChainSpec, ChainState, Stage
    from neuroshell.training.epochs import EpochPlan, filtered

    data, times, rate, gaps = _continuous(runs[6])
    chain = ChainSpec((Stage("bandpass", 7.0, 30.0), Stage("notch", 50.0)))
    plan = EpochPlan((("T1", ""),), (1.0, 2.0), chain=chain)
    expected = mne.filter.filter_data(data.T.astype(np.float64), rate, 7.0, 30.0, verbose="error")
    expected = mne.filter.notch_filter(expected, rate, [50.0], verbose="error").T
    np.testing.assert_allclose(filtered(data, times, rate, gaps, plan), expected, rtol=0, atol=1e-9)
    # The live chain filters block by block as samples arrive; offline --causal must give the same values.
    live = ChainState(chain, rate, data.shape[1])
    bounds = np.cumsum(np.random.default_rng(0).integers(1, 40, size=len(data)))
    bounds = [0, *bounds[bounds < len(data)].tolist(), len(data)]
    blocks = [live.process(data[a:b]) for a, b in itertools.pairwise(bounds)]
    causal = filtered(data, times, rate, gaps, EpochPlan((("T1", ""),), (1.0, 2.0), chain=chain, causal=True))
    np.testing.assert_allclose(causal, np.concatenate(blocks), rtol=0, atol=1e-9)
    assert np.abs(causal - expected).max() > 1.0  # the two differ (phase), so each test means something


def test_dataset_epochs_filters_the_continuous_stream_then_cuts(session, runs):
    import mne

    assert session.execute(f"dataset epochs {runs[6]} {MI} --bandpass 7Hz:30Hz --channels eeg --name mi")
    dataset = session.datasets["mi"]
    data, times, rate, _ = _continuous(runs[6])
    whole = mne.filter.filter_data(data.T.astype(np.float64), rate, 7.0, 30.0, verbose="error")
    raw = mne.io.read_raw_edf(DATA / "S001R06-motor.edf", verbose="error")
    annotations = zip(raw.annotations.onset, raw.annotations.description, strict=True)
    cues = [(onset, label) for onset, label in annotations if label != "T0"]
    assert len(dataset.y) == len(cues) == 15 and dataset.classes == ["feet", "fists"]
    for example, (onset, label) in enumerate(cues):
        first = int(np.searchsorted(times, onset + 1.0 - 0.5 / rate))
        np.testing.assert_allclose(dataset.X[example], whole[:, first : first + 160], rtol=1e-6, atol=1e-4)
        assert dataset.classes[dataset.y[example]] == {"T1": "fists", "T2": "feet"}[label]
    assert "bandpass 7-30 Hz (order 4), zero-phase" in session.ui.lines[-1]


def test_pooled_runs_keep_their_labels_and_test_runs_are_held_out_whole(session, runs):
    assert session.execute(f"dataset epochs {runs[6]},{runs[10]} {MI} --test-runs 1 --name pool")
    pool = session.datasets["pool"]
    assert pool.run_names == [runs[6], runs[10]]
    np.testing.assert_array_equal(pool.runs, [0] * 15 + [1] * 15)
    assert np.all(pool.split[pool.runs == 1] == TEST) and not np.any(pool.split[pool.runs == 0] == TEST)
    assert session.execute(f"dataset epochs {runs[6]} --markers T0,T1=fists --window 0s:1s --split 0,0,1 --name ev")
    evaluation = session.datasets["ev"]
    assert evaluation.classes == ["T0", "fists"] and np.all(evaluation.split == TEST)
    assert sorted(np.bincount(evaluation.y).tolist()) == [7, 15]  # T0 rests between cues, 7 T1 cues


def test_reject_drops_epochs_over_a_peak_to_peak_amplitude(session, runs):
    assert session.execute(f"dataset epochs {runs[6]} {MI} --name all")
    peak_to_peak_uv = np.ptp(session.datasets["all"].X, axis=2).max(axis=1)
    limit = float(np.median(peak_to_peak_uv))
    assert session.execute(f"dataset epochs {runs[6]} {MI} --reject {limit}uV --name kept")
    kept = session.datasets["kept"]
    assert len(kept.y) == int(np.sum(peak_to_peak_uv <= limit)) < 15
    assert f"{15 - len(kept.y)} (reject)" in session.ui.lines[-1]
    assert not session.execute(f"dataset epochs {runs[6]} {MI} --reject 100Hz --name bad")
    assert "volts or teslas" in session.ui.errors[-1] and "bad" not in session.datasets


def test_trigger_channel_events_become_markers_at_find_events_onsets(session, tmp_path):
    import mne

    raw = mne.io.read_raw_edf(DATA / "S001R10-motor.edf", preload=True, verbose="error")
    events, _ = mne.events_from_annotations(raw, event_id={"T0": 1, "T1": 2, "T2": 3}, verbose="error")
    stim = np.zeros((1, raw.n_times))
    for sample, _, code in events:
        stim[0, sample : sample + 8] = code
    raw.add_channels([mne.io.RawArray(stim, mne.create_info(["STI 014"], raw.info["sfreq"], "stim"), verbose="error")])
    raw.set_annotations(None)
    raw.save(tmp_path / "trig_raw.fif", verbose="error")
    assert session.execute(f"import {tmp_path / 'trig_raw.fif'} --to {tmp_path / 'trig.h5'} --stim 'STI 014'")
    expected = mne.find_events(
        mne.io.read_raw_fif(tmp_path / "trig_raw.fif", verbose="error"), "STI 014", verbose="error"
    )
    from neuroshell.storage.files import open_file

    file = open_file(tmp_path / "trig.h5")
    try:
        times, labels, sources = file.markers()
        stream = file.stream("trig_raw")
        assert stream.spec.channel_names[-1] == "STI 014" and stream.spec.channel_types[-1] == "stim"
    finally:
        file.close()
    np.testing.assert_allclose(times, expected[:, 0] / raw.info["sfreq"], atol=1e-9)
    assert labels == [str(code) for code in expected[:, 2]] and set(sources) == {"stim STI 014"}
    assert f"{len(expected)} of the markers from trigger channels" in session.ui.lines[-1]


def test_resample_is_polyphase_over_the_stream_and_channels_pick_by_type(session, runs):
    from scipy import signal

    assert session.execute(f"dataset epochs {runs[6]} {MI} --resample 80Hz --channels eeg --name slow")
    slow = session.datasets["slow"]
    assert slow.sampling_rate_hz == 80.0 and slow.X.shape == (15, 21, 80)
    data, times, _, _ = _continuous(runs[6])
    whole = signal.resample_poly(data, 1, 2, axis=0)
    first_cue = next(onset for onset, label in _annotations() if label != "T0")
    first = int(np.ceil((first_cue + 1.0 - times[0]) * 80 - 0.5))
    np.testing.assert_allclose(slow.X[0], whole[first : first + 80].T, rtol=1e-6, atol=1e-3)
    assert not session.execute(f"dataset epochs {runs[6]} {MI} --channels grad --name none")
    assert session.ui.errors[-1] == "--channels grad: no channel of that type (types here: eeg)"


def _annotations():
    import mne

    raw = mne.io.read_raw_edf(DATA / "S001R06-motor.edf", verbose="error")
    return list(zip(raw.annotations.onset, raw.annotations.description, strict=True))
