"""Online decoding on a replayed recording: every online prediction equals evaluate's offline one for the
same epoch; a separate pylsl inlet reads them; a model that does not fit is refused; a gap is reported."""

import numpy as np
import pylsl
import pytest

from tests.helpers import helmet_recording


@pytest.fixture
def trained(session, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    helmet_recording(tmp_path / "train.h5", 40, channels=8, seed=3)
    assert session.execute("dataset epochs train.h5:/streams/meg --window -100ms:300ms --baseline -100ms:0s --name ep")
    assert session.execute("train ep --epochs 3 --steps 10 --hidden 32 --name dec --seed 1")
    return session.models["dec"]


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
    online = list(session.decoder[2].predictions)
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
    status = session.decoder[2].status()
    assert session.execute("decode stop")
    assert status["skipped"].get("gap", 0) >= 1 and status["predictions"] >= 3
    assert any(line.startswith("decoder skipped stim/") and line.endswith("crosses a gap") for line in session.ui.lines)
