"""Online decoding on a replayed recording: every online prediction equals evaluate's offline one for the
same epoch; a separate pylsl inlet reads them; a model that does not fit is refused; a gap is reported."""

import itertools

import numpy as np
import pylsl

from tests.helpers import helmet_recording

WINDOW, BASELINE = (-0.1, 0.3), (-0.1, 0.0)  # the dataset's, in s


def test_online_equals_offline_and_an_lsl_inlet_reads_the_predictions(session, trained, tmp_path):
    from neuroshell.storage.files import open_file
    from neuroshell.training.datasets import epochs_from_file

    helmet_recording(tmp_path / "play.h5", 12, channels=8, seed=5)  # a session the model never saw
    assert session.execute("connect replay play.h5:/streams/meg --name rp")
    assert session.execute("decode start dec"), session.ui.errors
    streams = pylsl.resolve_byprop("name", "neuroshell-decoder", 1, 5.0)
    assert streams, "the decoder's outlet is not on the network"
    inlet = pylsl.StreamInlet(streams[0])
    inlet.open_stream(5.0)
    assert session.execute("wait 12.5s")
    online = list(session.decoder.outputs.predictions)
    received, _ = inlet.pull_chunk(timeout=2.0, max_samples=100)  # while the outlet lives
    inlet.close_stream()
    assert session.execute("decode stop")
    assert session.ui.lines[-1].startswith(f"stopped decoding rp: {len(online)} predictions, 0 windows skipped")
    file = open_file(tmp_path / "play.h5")
    try:
        X, labels, _, _, _ = epochs_from_file(file, "meg", ["stim/*"], (-0.1, 0.3), (-0.1, 0.0))
    finally:
        file.close()
    offline = trained.classify(X)
    assert len(online) == len(labels) >= 6
    assert [p.marker_label for p in online] == labels
    np.testing.assert_allclose(np.stack([p.probabilities for p in online]), offline, atol=1e-5)
    assert [p.label for p in online] == [trained.classes[i] for i in offline.argmax(axis=1)]
    assert [sample[0] for sample in received] == [p.label for p in online]


def test_a_model_that_does_not_fit_the_device_is_refused(session, trained):
    assert session.execute("connect sim --channels 8 --rate 250Hz")
    assert not session.execute("decode start dec")
    assert session.ui.errors[-1] == "model dec was trained at 500 Hz; sim0 runs at 250 Hz"
    assert session.decoder is None
    assert session.execute("disconnect sim0") and session.execute("connect sim --channels 4 --rate 500Hz")
    assert not session.execute("decode start dec")
    assert session.ui.errors[-1] == "model dec takes channels sim0 does not have: MEG005, MEG006, MEG007, MEG008"


def test_a_gap_during_decoding_is_reported_and_decoding_goes_on(session, trained, tmp_path):
    helmet_recording(tmp_path / "gappy.h5", 10, channels=8, seed=5, gap=(3.0, 5.5))
    assert session.execute("connect replay gappy.h5:/streams/meg --name rp")
    assert session.execute("decode start dec")
    assert session.execute("wait 10.5s")
    status = session.decoder.outputs.status()
    assert session.execute("decode stop")
    assert status["skipped"].get("gap", 0) >= 1 and status["predictions"] >= 3
    assert any(line.startswith("decoder skipped stim/") and line.endswith("crosses a gap") for line in session.ui.lines)


def _replayed(session, path, name="rp"):
    """The replayed file's samples in their unit and their session times on the device ``name``."""
    from neuroshell.storage.files import open_file

    file = open_file(path)
    try:
        view = file.stream("meg")
        data, times = view.samples(0, view.n_samples), view.time[: view.n_samples]
    finally:
        file.close()
    return data, session.devices[name]._session_time(times)


def test_the_decoder_sees_the_filtered_signal_exactly_as_filtering_offline_gives_it(session, trained, tmp_path):
    from neuroshell.filters.chain import ChainState
    from neuroshell.training.datasets import cut_epochs

    helmet_recording(tmp_path / "play.h5", 7, channels=8, seed=5)
    assert session.execute("connect replay play.h5:/streams/meg --name rp")
    assert session.execute("filter rp --bandpass 1Hz:40Hz --notch 50Hz")
    assert session.execute("decode start dec")
    assert session.ui.lines[-1].startswith("decoding rp (filtered (bandpass 1-40 Hz")
    assert session.ui.lines[-1].endswith(
        "; note: dec learnt from raw data, the decoder sees bandpass 1-40 Hz (order 4); "
        "notch 50 Hz and harmonics (Q 30)"
    )
    assert session.execute("wait 7.3s")
    online = list(session.decoder.outputs.predictions)
    assert session.execute("decode stop")
    online_filter = session.pipelines["rp"].filter
    data, times = _replayed(session, tmp_path / "play.h5")
    first = int(np.searchsorted(times, online_filter.first_time_s))
    filtered = ChainState(online_filter.chain, 500.0, 8).process(data[first:])
    marker_times = np.array([p.marker_s for p in online])
    labels = [p.marker_label for p in online]
    no_gaps = np.zeros((0, 2))
    X, kept, _, _ = cut_epochs(filtered, times[first:], 500.0, marker_times, labels, labels, WINDOW, no_gaps, BASELINE)
    assert len(online) >= 3 and kept == labels
    np.testing.assert_allclose(
        np.stack([p.probabilities for p in online]), session.models["dec"].classify(X), atol=1e-5
    )


def test_a_sliding_window_is_classified_every_100ms_and_the_screen_shows_changes(session, trained, tmp_path):
    from neuroshell.training.datasets import cut_epochs

    helmet_recording(tmp_path / "play.h5", 4, channels=8, seed=5)
    assert session.execute("connect replay play.h5:/streams/meg --name rp --speed 4")
    assert not session.execute("decode start dec --every 100ms")
    assert session.ui.errors[-1] == "rp replays at 4x real time: a decoder needs real time (--speed 1)"
    assert session.execute("disconnect rp") and session.execute("connect replay play.h5:/streams/meg --name rp")
    assert not session.execute("decode start dec --every 100ms --markers stim/*")
    assert session.ui.errors[-1] == "decode start: give --markers or --every, not both"
    assert session.execute("decode start dec --every 100ms")
    assert session.execute("wait 4.05s")
    online = list(session.decoder.outputs.predictions)
    assert session.execute("decode stop")
    assert "online accuracy n/a (no marker named a class)" in session.ui.lines[-1]
    ends = np.array([p.marker_s for p in online]) + 0.3
    assert 34 <= len(online) <= 37  # 4 s of stream, less the first window, every 0.1 s
    np.testing.assert_allclose(np.diff(ends), 0.1, atol=1e-9)
    data, times = _replayed(session, tmp_path / "play.h5")
    labels = ["every"] * len(online)
    X, kept, _, _ = cut_epochs(data, times, 500.0, ends - 0.3, labels, labels, WINDOW, np.zeros((0, 2)), BASELINE)
    assert len(kept) == len(online)
    np.testing.assert_allclose(
        np.stack([p.probabilities for p in online]), session.models["dec"].classify(X), atol=1e-5
    )
    changes = sum(a.label != b.label for a, b in itertools.pairwise(online)) + 1
    assert sum(line.startswith("decoder: now ") for line in session.ui.lines) == changes


def test_the_decoder_follows_the_signal_as_filters_come_change_and_go(session, trained):
    assert session.execute("connect sim --channels 8 --rate 500Hz --seed 2")
    device = session.devices["sim0"]
    assert session.execute("decode start dec")
    decoder = session.decoder.decoder
    steps = [
        ("filter sim0 --bandpass 1Hz:40Hz", True),
        ("filter sim0 --notch 50Hz", True),
        ("filter sim0 --clear", False),
    ]
    pipeline = session.pipelines["sim0"]
    for line, filtered in steps:
        assert session.execute(line)
        assert (pipeline.filter is not None) == filtered and pipeline.followers == [decoder]
        assert device.listeners.count(pipeline) == 1 and decoder not in device.listeners
        before = decoder.last_time
        assert session.execute("wait 300ms")
        assert decoder.last_time > before  # blocks keep coming, through the filter or straight
    assert session.execute("decode stop")
    assert pipeline.followers == [] and pipeline.decoding is None
    # closing the session takes the decoder off a filtered signal the same way decode stop does
    assert session.execute("filter sim0 --bandpass 1Hz:40Hz") and session.execute("decode start dec")
    assert pipeline.followers == [session.decoder.decoder]
    session.close()
    assert pipeline.followers == [] and pipeline not in device.listeners and session.decoder is None
    assert device.state == "closed"


def test_a_model_trained_in_one_process_decodes_in_another_and_the_script_prints_each_prediction(tmp_path):
    """Yesterday's model, today: trained by one neuroshell process, used by name by another that loads
    nothing else (no dataset); the script's own output holds every online prediction, equal to evaluate's."""
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    from neuroshell.storage.files import open_file
    from neuroshell.training.checkpoints import load_model
    from neuroshell.training.datasets import epochs_from_file

    executable = Path(sys.executable).with_name("neuroshell")
    helmet_recording(tmp_path / "day1.h5", 40, channels=8, seed=3)
    helmet_recording(tmp_path / "day2.h5", 8, channels=8, seed=5)
    (tmp_path / "day1.nsh").write_text(
        "set models.dir models\n"
        "dataset epochs day1.h5:/streams/meg --window -100ms:300ms --baseline -100ms:0s --name ep\n"
        "train ep --epochs 3 --steps 10 --hidden 32 --name dec --seed 1\n"
    )
    (tmp_path / "day2.nsh").write_text(
        "set models.dir models\nconnect replay day2.h5:/streams/meg --name rp\ndecode start dec\nwait 8.5s\n"
        "decode stop\n"
    )
    env = {**os.environ, "NEUROSHELL_HOME": str(tmp_path / "home")}
    for script in ("day1.nsh", "day2.nsh"):
        run = subprocess.run([str(executable), script], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr[-2000:]
    printed = re.findall(r"^decoder: (\S+) \(p=([0-9.]+)\) for (\S+), ", run.stdout, flags=re.MULTILINE)
    model = load_model(tmp_path / "models" / "dec.safetensors")
    file = open_file(tmp_path / "day2.h5")
    try:
        X, labels, _, _, _ = epochs_from_file(file, "meg", ["stim/*"], WINDOW, BASELINE)
    finally:
        file.close()
    # The replay plays from its connection on; loading the model (torch's import) may let the first marker or
    # two pass before the decoder listens: every later one is decoded.
    n = len(printed)
    assert n >= 3 and n >= len(labels) - 2
    offline, labels = model.classify(X)[-n:], labels[-n:]
    assert [marker for _, _, marker in printed] == labels
    assert [label for label, _, _ in printed] == [model.classes[i] for i in offline.argmax(axis=1)]
    np.testing.assert_allclose([float(p) for _, p, _ in printed], offline.max(axis=1), atol=0.006)
    assert f"stopped decoding rp: {n} predictions" in run.stdout
