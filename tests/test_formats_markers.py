"""Marker labels of any length in UTF-8, through a recording, the exports, an import and a plot."""

import html
import time
from pathlib import Path

import numpy as np
import pytest

from neuroshell.storage.files import open_file
from neuroshell.storage.recorder import Recorder
from neuroshell.storage.spec import StreamSpec

mne = pytest.importorskip("mne")

LONG = "trial 7: " + "é€x" * 330 + " end"  # 1013 characters, 2333 bytes of UTF-8


def recording_with_a_long_marker(path):
    spec = StreamSpec("eeg", ["C3", "C4"], 100.0, ["uV", "uV"], source="test")
    recorder = Recorder(path, [spec], clock=time.monotonic, overwrite=True)
    recorder.put("eeg", np.zeros((300, 2), np.float32), 10.0 + np.arange(300) / 100.0)
    recorder.mark(11.0, LONG, "prompt")
    recorder.mark(10.5, "short", "a device whose name is long " * 8)  # queued later, earlier in time
    recorder.stop()
    return path


def test_a_long_label_survives_record_export_import_and_plot(session, tmp_path):
    path = recording_with_a_long_marker(tmp_path / "long.h5")
    file = open_file(path)
    times, labels, sources = file.markers()
    file.close()
    assert labels == ["short", LONG] and sources[0] == "a device whose name is long " * 8
    np.testing.assert_allclose(times, [10.5, 11.0])
    assert session.execute(f"export {path}:/streams/eeg --to {tmp_path / 'long.fif'}"), session.ui.errors
    raw = mne.io.read_raw_fif(tmp_path / "long.fif", verbose="error")
    # FIF strings are Latin-1: MNE writes other characters as numeric references (&#8364; for the euro)
    assert LONG in [html.unescape(text) for text in raw.annotations.description]
    assert session.execute(f"import {tmp_path / 'long.fif'} --to {tmp_path / 'back.h5'}"), session.ui.errors
    back = open_file(tmp_path / "back.h5")
    assert back.markers().labels == ["short", LONG]
    back.close()
    assert session.execute(f"export {path}:/streams/eeg --to {tmp_path / 'long.edf'}"), session.ui.errors
    edf = mne.io.read_raw_edf(tmp_path / "long.edf", verbose="error")
    assert LONG in list(edf.annotations.description)
    assert session.execute(f"export {path} --to {tmp_path / 'long.nwb'}"), session.ui.errors
    pynwb = pytest.importorskip("pynwb")
    with pynwb.NWBHDF5IO(str(tmp_path / "long.nwb"), "r") as io:
        assert list(io.read().intervals["markers"].to_dataframe()["label"]) == ["short", LONG]
    assert session.execute(f"plot traces {path}:/streams/eeg"), session.ui.errors
    figure = Path(session.outputs[-1].file)  # drawn with the label cut to one line; the file keeps it whole
    assert figure.suffix == ".png" and figure.stat().st_size > 1000
