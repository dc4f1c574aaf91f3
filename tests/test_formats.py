"""Export and import, each checked by the field's own reader: mne (FIF, EDF), pynwb (NWB, with its
validator), libsonata (SONATA spikes), pyxdf (an XDF file the test writes per the XDF specification)."""

import sys
import time
from datetime import datetime, timezone

import h5py
import numpy as np
import pytest

from neuroshell.storage.files import open_file
from neuroshell.storage.recorder import Recorder
from neuroshell.storage.spec import StreamSpec
from tests.helpers import helmet_recording
from tests.xdf_writer import write_xdf

mne = pytest.importorskip("mne")  # the test command installs neuroshell[formats]; this names it if not


def mixed_recording(path, seconds=4.0, rate_hz=200.0, gap=(1.0, 1.5)):
    """One stream with fT, uV and unitless channels (float32), a gap and markers, on a monotonic clock."""
    spec = StreamSpec("mix", ["M1", "M2", "E1", "AUX"], rate_hz, ["fT", "fT", "uV", "unknown"], source="test")
    recorder = Recorder(path, [spec], clock=time.monotonic, overwrite=True)
    rng = np.random.default_rng(5)
    n = int(seconds * rate_hz)
    times = 100.0 + np.arange(n) / rate_hz
    keep = ~((times >= 100.0 + gap[0]) & (times < 100.0 + gap[1]))
    data = (rng.normal(size=(n, 4)) * [300.0, 300.0, 20.0, 1.0]).astype(np.float32)
    recorder.put("mix", data[keep], times[keep])
    recorder.gap("mix", 100.0 + gap[0], 100.0 + gap[1])
    for when, label in ((100.5, "stim/a"), (102.2, "stim/b"), (103.0025, "stim/a")):
        recorder.mark(when, label, "prompt")
    recorder.stop()
    return path, data[keep], times[keep]


def test_fif_export_reads_back_in_mne(session, tmp_path):
    path, data, times = mixed_recording(tmp_path / "mix.h5")
    assert session.execute(f"export {path}:/streams/mix --to {tmp_path / 'mix.fif'}"), session.ui.errors
    assert "3 markers as annotations, 1 gap as BAD_ACQ_SKIP" in session.ui.lines[-1]
    raw = mne.io.read_raw_fif(tmp_path / "mix.fif", verbose="error")
    assert raw.get_channel_types() == ["mag", "mag", "eeg", "misc"]
    assert raw.info["sfreq"] == 200.0 and raw.n_times == 800  # 4 s on the grid, the gap padded
    with h5py.File(path) as f:
        zero = f.attrs["clock_zero_unix_s"]
    assert abs(raw.info["meas_date"].timestamp() - (zero + 100.0)) < 1e-3
    fif = raw.get_data()
    grid = np.rint((times - 100.0) * 200.0).astype(int)
    expected = data.astype(np.float64) * [1e-15, 1e-15, 1e-6, 1.0]
    np.testing.assert_allclose(fif[:, grid].T, expected, rtol=1e-6, atol=0)
    assert not fif[:, 200:300].any()  # inside the gap
    notes = raw.annotations
    markers = notes.description != "BAD_ACQ_SKIP"
    assert list(notes.description[markers]) == ["stim/a", "stim/b", "stim/a"]
    np.testing.assert_allclose(notes.onset[markers], [0.5, 2.2, 3.0025], atol=1e-9)
    np.testing.assert_allclose([notes.onset[~markers][0], notes.duration[~markers][0]], [1.0, 0.5], atol=1e-9)


def test_edf_export_reads_back_in_mne(session, tmp_path):
    path, data, times = mixed_recording(tmp_path / "mix.h5")
    assert session.execute(f"export {path}:/streams/mix --to {tmp_path / 'mix.edf'}"), session.ui.errors
    raw = mne.io.read_raw_edf(tmp_path / "mix.edf", verbose="error")
    assert raw.ch_names == ["M1", "M2", "E1", "AUX"] and raw.n_times == 800
    grid = np.rint((times - 100.0) * 200.0).astype(int)
    edf = raw.get_data()[2, grid]  # the EEG channel, in V; 16-bit over its range
    span = np.ptp(data[:, 2]) * 1e-6
    np.testing.assert_allclose(edf, data[:, 2] * 1e-6, atol=span / 2**15)
    assert sorted(set(raw.annotations.description)) == ["BAD_ACQ_SKIP", "stim/a", "stim/b"]


def test_nwb_export_validates_and_reads_back(session, tmp_path):
    pynwb = pytest.importorskip("pynwb")
    path = tmp_path / "rec.h5"
    counts = StreamSpec("adc", ["C3", "C4"], 250.0, ["uV", "uV"], dtype="int32", source="test", scale=0.5)
    recorder = Recorder(path, [counts], clock=time.monotonic, overwrite=True)
    values = np.arange(1000, dtype=np.int32).reshape(500, 2) * 1000 + 2**30
    stamps = 50.0 + np.arange(500) / 250.0 + 1e-5 * np.sin(np.arange(500))  # dejittered times, not a grid
    recorder.put("adc", values, stamps)
    recorder.mark(50.4, "stim/x", "prompt")
    recorder.mark(51.0, "stim/y", "tone-lsl")
    recorder.gap("adc", 51.5, 51.6)
    recorder.stop()
    assert session.execute("net example cuba") and session.execute(f"simulate 100ms --to {path} --seed 3")
    assert session.execute(f"export {path} --to {tmp_path / 'rec.nwb'}"), session.ui.errors
    assert "1 stream (500 samples), 2 markers, 1 gap, 4000 units" in session.ui.lines[-1]
    assert pynwb.validate(path=str(tmp_path / "rec.nwb")) == []
    spikes = session.simulation
    with pynwb.NWBHDF5IO(str(tmp_path / "rec.nwb"), "r") as io:
        nwb = io.read()
        series = nwb.acquisition["adc"]
        assert series.data.dtype == np.int32 and (series.data[:] == values).all()
        assert series.conversion == pytest.approx(0.5e-6) and series.unit == "volts"
        assert list(series.electrodes.table["channel_name"][:]) == ["C3", "C4"]
        start = nwb.session_start_time.timestamp()
        with h5py.File(path) as f:
            zero = f.attrs["clock_zero_unix_s"]
        np.testing.assert_allclose(series.timestamps[:] + start - zero, stamps, atol=1e-5)
        np.testing.assert_allclose(series.timestamps[:], stamps - 50.0, atol=1e-12)
        markers = nwb.intervals["markers"].to_dataframe()
        assert list(markers["label"]) == ["stim/x", "stim/y"] and list(markers["source"]) == ["prompt", "tone-lsl"]
        np.testing.assert_allclose(markers["start_time"], [0.4, 1.0], atol=1e-9)
        np.testing.assert_allclose(nwb.invalid_times.to_dataframe()[["start_time", "stop_time"]].values, [[1.5, 1.6]])
        units = nwb.units.to_dataframe()
        exc = units[units["population"] == "exc"]
        times, ids = spikes.spikes_of("exc")
        assert len(exc) == 3200 and sum(len(t) for t in exc["spike_times"]) == len(times)
        node = int(ids[0])
        np.testing.assert_allclose(sorted(exc["spike_times"].iloc[node]), np.sort(times[ids == node]), atol=1e-12)


def test_sonata_export_reads_back_in_libsonata(session, tmp_path):
    libsonata = pytest.importorskip("libsonata")
    assert session.execute("net example cuba") and session.execute(f"simulate 150ms --to {tmp_path / 'sim.h5'}")
    assert session.execute(f"export {tmp_path / 'sim.h5'}:/simulations/run1 --to {tmp_path / 'spikes.h5'}")
    reader = libsonata.SpikeReader(str(tmp_path / "spikes.h5"))
    assert sorted(reader.get_population_names()) == ["exc", "inh"]
    for population in ("exc", "inh"):
        times, ids = session.simulation.spikes_of(population)
        read = reader[population]
        assert read.sorting == "by_time"
        pairs = sorted(read.get())
        expected = sorted(zip(ids.tolist(), (times * 1e3).tolist(), strict=True))
        assert len(pairs) == len(expected) > 0
        np.testing.assert_allclose(np.array(pairs), np.array(expected), atol=1e-9)


def test_xdf_import_keeps_every_sample_label_and_offset(session, tmp_path):
    pytest.importorskip("pyxdf")
    rng = np.random.default_rng(1)
    eeg_times, acc_times = 1000 + np.arange(2500) / 250, 1000.003 + np.arange(1000) / 100
    eeg = dict(name="EEG", type="EEG", channel_count=4, rate=250, format="int32", times=eeg_times,
               values=rng.integers(-2**30, 2**30, (2500, 4)), labels=["Fz", "Cz", "Pz", "Oz"], units=["uV"] * 4,
               offsets=[(1000 + i, -0.5) for i in range(11)])  # fmt: skip
    acc = dict(name="Acc", type="Motion", channel_count=3, rate=100, format="double64", times=acc_times,
               values=rng.normal(size=(1000, 3)), labels=["x", "y", "z"], units=["g"] * 3,
               offsets=[(1000 + i, 0.25) for i in range(11)])  # fmt: skip
    marks = dict(name="Markers", type="Markers", channel_count=1, rate=0, format="string",
                 times=np.array([1001.0, 1003.5, 1007.25]), values=[["left"], ["right"], ["left"]], labels=["m"],
                 units=[""], offsets=[(1000 + i, 0.1) for i in range(11)])  # fmt: skip
    write_xdf(tmp_path / "rec.xdf", [eeg, acc, marks], "2026-11-24T10:00:00+00:00")
    assert session.execute(f"import {tmp_path / 'rec.xdf'} --to {tmp_path / 'rec.h5'}"), session.ui.errors
    assert "2 streams, 3 markers" in session.ui.lines[-1]
    with h5py.File(tmp_path / "rec.h5") as f:
        assert f["streams/EEG/data"].dtype == np.int32 and (f["streams/EEG/data"][:] == eeg["values"]).all()
        np.testing.assert_allclose(f["streams/EEG/time"][:], eeg_times - 0.5, atol=1e-9)
        np.testing.assert_array_equal(f["streams/Acc/data"][:], acc["values"])
        np.testing.assert_allclose(f["streams/Acc/time"][:], acc_times + 0.25, atol=1e-9)
        assert list(f["streams/EEG"].attrs["channel_names"]) == ["Fz", "Cz", "Pz", "Oz"]
        assert list(f["streams/Acc"].attrs["channel_units"]) == ["g"] * 3
        assert list(f["streams/EEG"].attrs["channel_types"]) == ["eeg"] * 4  # the stream's LSL type
        assert list(f["streams/Acc"].attrs["channel_types"]) == ["misc"] * 3
        assert f["streams/EEG"].attrs["sampling_rate"] == 250.0 and f["streams/Acc"].attrs["sampling_rate"] == 100.0
        np.testing.assert_allclose(f["streams/Acc/clock_offsets"][:], [[1000 + i, 0.25] for i in range(11)])
        np.testing.assert_allclose(f["markers/time"][:], [1001.1, 1003.6, 1007.35], atol=1e-9)
        assert [v.decode() for v in f["markers/label"][:]] == ["left", "right", "left"]
        assert {v.decode() for v in f["markers/source"][:]} == {"Markers"}
        start = datetime(2026, 11, 24, 10, tzinfo=timezone.utc).timestamp()
        assert f.attrs["clock_zero_unix_s"] + f["streams/EEG/time"][0] == pytest.approx(start, abs=1.0)


def test_a_fif_made_by_mne_imports_exactly(session, tmp_path):
    rng = np.random.default_rng(2)
    values = rng.normal(size=(3, 1500)) * [[1e-12], [1e-12], [1e-5]]
    info = mne.create_info(["MAG1", "MAG2", "EEG1"], 500.0, ["mag", "mag", "eeg"])
    raw = mne.io.RawArray(values, info, verbose="error")
    raw.set_meas_date(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    raw.set_annotations(mne.Annotations([0.5, 1.25], [0.0, 0.0], ["go", "stop"], orig_time=raw.info["meas_date"]))
    raw.save(tmp_path / "known_raw.fif", fmt="double", verbose="error")
    assert session.execute(f"import {tmp_path / 'known_raw.fif'}"), session.ui.errors
    imported = open_file(tmp_path / "known_raw.h5")
    view = imported.stream("known_raw")
    assert view.spec.channel_units == ["fT", "fT", "uV"] and str(view.data.dtype) == "float64"
    np.testing.assert_array_equal(view.data[:], values.T)  # stored as MNE gives them, in T and V
    np.testing.assert_allclose(view.samples(0, 1500), values.T * [1e15, 1e15, 1e6], rtol=1e-15)
    np.testing.assert_allclose(view.time[:], np.arange(1500) / 500.0)
    times, labels, _ = imported.markers()
    assert labels == ["go", "stop"] and np.allclose(times, [0.5, 1.25])
    assert imported.handle.attrs["clock_zero_unix_s"] == raw.info["meas_date"].timestamp()
    imported.close()


def test_round_trip_through_fif_gives_the_same_epochs(session, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert session.execute("connect sim --channels 8 --rate 500Hz --seed 7 --isi 400ms:700ms")
    assert session.execute("record start rec.h5") and session.execute("wait 10s") and session.execute("record stop")
    assert session.execute("export rec.h5:/streams/sim0 --to rec.fif")
    assert session.execute("import rec.fif --to back.h5"), session.ui.errors
    window = "--window -100ms:300ms --split 1,0,0"
    assert session.execute(f"dataset epochs rec.h5:/streams/sim0 {window} --name original")
    assert session.execute(f"dataset epochs back.h5:/streams/rec {window} --name again"), session.ui.errors
    original, again = session.datasets["original"], session.datasets["again"]
    assert len(original.y) >= 6 and original.X.shape == again.X.shape
    assert original.classes == again.classes and (original.y == again.y).all()
    np.testing.assert_allclose(again.X, original.X, rtol=1e-6, atol=1e-6 * np.abs(original.X).max())
    assert session.execute("ls back.h5") and session.execute("plot traces back.h5:/streams/rec --channels 0:4")
    assert session.ui.lines[-1].startswith("wrote ") and session.ui.lines[-1].split()[1].endswith(".png")
    assert session.execute("train again --epochs 2 --steps 5 --hidden 16")  # all of it in the training split
    assert "no validation split: ran every epoch and kept the last (2)" in session.ui.lines[-1]
    assert session.execute("dataset epochs back.h5:/streams/rec --window -100ms:300ms --split 0.6,0.4,0 --name part")
    assert session.execute("train part --epochs 2 --steps 5 --hidden 16 --name from-fif --seed 1"), session.ui.errors
    assert "from-fif" in session.models


def test_without_the_extra_the_verb_names_it(session, tmp_path, monkeypatch):
    helmet_recording(tmp_path / "rec.h5", 1.0, channels=2)
    monkeypatch.setitem(sys.modules, "pynwb", None)  # as if not installed: importing it raises ImportError
    monkeypatch.delitem(sys.modules, "neuroshell.formats.nwb_export", raising=False)
    assert not session.execute(f"export {tmp_path / 'rec.h5'} --to {tmp_path / 'rec.nwb'}")
    assert session.ui.errors == ["this format needs pynwb: pip install 'neuroshell[formats]'"]
    assert not (tmp_path / "rec.nwb").exists()


def test_refusals_change_nothing(session, tmp_path):
    path = helmet_recording(tmp_path / "rec.h5", 1.0, channels=2)
    (tmp_path / "taken.fif").write_bytes(b"keep")
    assert not session.execute(f"export {path}:/streams/meg --to {tmp_path / 'taken.fif'}")
    assert "exists: choose another name or add --overwrite" in session.ui.errors[-1]
    assert (tmp_path / "taken.fif").read_bytes() == b"keep"
    assert not session.execute(f"export {path}:/streams/meg --to {tmp_path / 'out.txt'}")
    assert "cannot tell the format" in session.ui.errors[-1] and ".fif" in session.ui.errors[-1]
    assert not session.execute(f"export {path}:/simulations/none --to {tmp_path / 'spikes.h5'}")
    assert "not a simulation run" in session.ui.errors[-1] and not (tmp_path / "spikes.h5").exists()


def test_completion_offers_the_formats_by_suffix(session, tmp_path, monkeypatch):
    from prompt_toolkit.document import Document

    from neuroshell.cli.completer import CommandCompleter

    monkeypatch.chdir(tmp_path)
    (tmp_path / "old.xdf").write_bytes(b"")
    (tmp_path / "notes.md").write_text("")  # no format of import
    completer = CommandCompleter(session)

    def offered(text):
        return {c.text for c in completer.get_completions(Document(text), None)}

    assert {"out.fif", "out.edf", "out.nwb"} <= offered("export rec.h5:/streams/x --to out")
    assert offered("export rec.h5:/streams/x --to out.n") == {"out.nwb"}
    assert offered("import ") == {"old.xdf"}


def test_export_refuses_a_format_that_does_not_fit_the_source_or_the_name(session, tmp_path):
    assert session.execute("net example cuba --n 200") and session.execute(f"simulate 50ms --to {tmp_path / 's.h5'}")
    run = f"{tmp_path / 's.h5'}:/simulations/run1"
    assert not session.execute(f"export {run} --to {tmp_path / 'x.fif'}")
    assert session.ui.errors[-1] == "a simulation run exports to SONATA spikes (.h5), not fif: name the target .h5"
    assert not session.execute(f"export {run} --to {tmp_path / 'x.edf'} --format sonata")
    assert session.ui.errors[-1] == "x.edf would hold sonata: name it .h5"
    assert not (tmp_path / "x.fif").exists() and not (tmp_path / "x.edf").exists()
    assert session.execute(f"export {run} --to {tmp_path / 'spikes.h5'}")
    assert (tmp_path / "spikes.h5").is_file()
