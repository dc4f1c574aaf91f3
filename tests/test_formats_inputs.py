"""Inputs as labs have them: files cut short, annotation-only EDF, CSV of acquisition tools; an import that
fails leaves nothing behind."""

import datetime

import numpy as np
import pytest

from neuroshell.storage.files import open_file
from tests.xdf_writer import write_xdf

mne = pytest.importorskip("mne")
edfio = pytest.importorskip("edfio")


def cut_in_half(path, extra=0):
    content = path.read_bytes()
    half = path.with_name(path.stem + "_half" + path.suffix)
    half.write_bytes(content[: len(content) // 2 + extra])
    return half


def test_truncated_edf_and_bdf_are_read_as_far_as_they_go_and_said(session, tmp_path):
    for suffix, signal, writer in ((".edf", edfio.EdfSignal, edfio.Edf), (".bdf", edfio.BdfSignal, edfio.Bdf)):
        path = tmp_path / f"rec{suffix}"
        values = np.sin(np.arange(1280) / 3) * 40
        writer([signal(values, 128, label="Cz", physical_dimension="uV")]).write(path)
        half = cut_in_half(path, extra=64)
        assert session.execute(f"import {half} --to {tmp_path / f'half{suffix}.h5'}"), session.ui.errors
        note = session.ui.lines[-1]
        assert note.startswith(f"warning: truncated: rec_half{suffix} holds fewer records than its header says")
        file = open_file(tmp_path / f"half{suffix}.h5")
        read = file.stream("rec_half").samples(0, 10_000)[:, 0]
        file.close()
        assert f"{len(read)} samples" in note and 128 <= len(read) < 1280
        np.testing.assert_allclose(read, values[: len(read)], atol=np.ptp(values) / 2**15)


def test_a_truncated_fif_is_refused_in_one_line_and_nothing_is_left(session, tmp_path):
    raw = mne.io.RawArray(np.random.default_rng(0).normal(size=(3, 5000)), mne.create_info(3, 500.0, "eeg"))
    raw.save(tmp_path / "cut[1]_raw.fif", verbose="error")  # a name with glob characters
    half = cut_in_half(tmp_path / "cut[1]_raw.fif")
    target = tmp_path / "out[1].h5"
    assert not session.execute(f"import '{half}' --to '{target}'")
    assert "is truncated or damaged" in session.ui.errors[-1] and "\n" not in session.ui.errors[-1]
    assert not target.exists() and sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["cut[1]_raw.fif", "cut[1]_raw_half.fif"]
    )


def test_a_truncated_xdf_says_how_many_samples_it_holds(session, tmp_path):
    pytest.importorskip("pyxdf")
    eeg = dict(name="EEG", type="EEG", channel_count=2, rate=250, format="float32", times=1000 + np.arange(2500) / 250,
               values=np.zeros((2500, 2)), labels=["C3", "C4"], units=["microvolts"] * 2, offsets=[])  # fmt: skip
    write_xdf(tmp_path / "rec.xdf", [eeg], "2026-11-24T10:00:00+00:00")
    assert session.execute(f"import {tmp_path / 'rec.xdf'} --to {tmp_path / 'whole.h5'}")
    assert not any(line.startswith("truncated") for line in session.ui.lines[-2:])
    half = cut_in_half(tmp_path / "rec.xdf")
    assert session.execute(f"import {half} --to {tmp_path / 'half.h5'}"), session.ui.errors
    assert session.ui.lines[-1].startswith("warning: truncated: stream 'EEG' has no footer (the file ends early): ")
    file = open_file(tmp_path / "half.h5")
    n = file.stream("EEG").n_samples
    assert file.stream("EEG").spec.channel_types == ["eeg", "eeg"]
    file.close()
    assert f"{n} samples read" in session.ui.lines[-1] and 0 < n < 2500


def test_an_annotation_only_edf_becomes_markers(session, tmp_path):
    stages = ["Sleep stage W", "Sleep stage 1", "Sleep stage 2", "Sleep stage W"]
    hypnogram = edfio.Edf(
        [],
        annotations=[edfio.EdfAnnotation(30.0 * i, 30.0, stage) for i, stage in enumerate(stages)],
        recording=edfio.Recording(startdate=datetime.date(1989, 4, 24)),
        starttime=datetime.time(16, 13),
    )
    hypnogram.write(tmp_path / "SC4001EC-Hypnogram.edf")
    assert session.execute(f"import {tmp_path / 'SC4001EC-Hypnogram.edf'} --to {tmp_path / 'hyp.h5'}")
    assert session.ui.lines[-1] == f"wrote {tmp_path / 'hyp.h5'}: 0 streams, 4 markers"
    file = open_file(tmp_path / "hyp.h5")
    times, labels, _ = file.markers()
    zero = float(file.handle.attrs["clock_zero_unix_s"])
    file.close()
    assert labels == stages
    np.testing.assert_allclose(times, [0.0, 30.0, 60.0, 90.0])
    start = datetime.datetime(1989, 4, 24, 16, 13, tzinfo=datetime.timezone.utc).timestamp()
    assert zero == pytest.approx(start)


def test_openbci_csv_with_a_marker_column(session, tmp_path):
    rows = ["%OpenBCI Raw EXG Data", "%Number of channels = 2", "%Sample Rate = 250 Hz"]
    rows.append("Sample Index, EXG Channel 0, EXG Channel 1, Timestamp, Marker Channel")
    start = 1_765_000_000.25
    for i in range(500):
        marker = 3 if i in (100, 400) else 0
        rows.append(f"{i % 256}, {np.sin(i / 7) * 30:.4f}, {i * 0.1:.4f}, {start + i / 250:.6f}, {marker}")
    (tmp_path / "OpenBCI-RAW.csv").write_text("\n".join(rows) + "\n")
    command = f"import {tmp_path / 'OpenBCI-RAW.csv'} --marker 'Marker Channel' --unit uV --to {tmp_path / 'obci.h5'}"
    assert session.execute(command), session.ui.errors
    assert session.ui.lines[-2:] == [
        f"wrote {tmp_path / 'obci.h5'}: 1 stream, 2 markers",
        "warning: rate from the timestamps: 250 Hz (--rate states it)",
    ]
    file = open_file(tmp_path / "obci.h5")
    view = file.stream("OpenBCI-RAW")
    assert view.spec.channel_names == ["EXG Channel 0", "EXG Channel 1"] and view.spec.sampling_rate_hz == 250.0
    assert view.spec.channel_units == ["uV", "uV"] and view.spec.channel_types == ["eeg", "eeg"]
    np.testing.assert_allclose(view.samples(0, 500)[:, 1], np.arange(500) * 0.1, atol=1e-9)
    times, labels, sources = file.markers()
    zero = float(file.handle.attrs["clock_zero_unix_s"])
    np.testing.assert_allclose(times + zero, [start + 100 / 250, start + 400 / 250], atol=1e-6)
    file.close()
    assert labels == ["3", "3"] and sources == ["csv Marker Channel"] * 2


def test_csv_with_date_times_and_named_columns_and_refusals(session, tmp_path):
    lines = ["TimeStamp,RAW_TP9,RAW_AF7,Battery,Elements"]
    moment = datetime.datetime(2026, 12, 1, 9, 30, tzinfo=datetime.timezone.utc)
    for i in range(256):
        when = (moment + datetime.timedelta(milliseconds=i * 1000 / 256)).strftime("%Y-%m-%d %H:%M:%S.%f")
        lines.append(f"{when},{800 + i},{810 - i},99,{'/muse/elements/blink' if i == 128 else ''}")
    (tmp_path / "muse.csv").write_text("\n".join(lines) + "\n")
    wrong = f"import {tmp_path / 'muse.csv'} --channels RAW_TP9,RAW_TP10 --to {tmp_path / 'm.h5'}"
    assert not session.execute(wrong)
    assert session.ui.errors[-1].startswith("muse.csv has no column 'RAW_TP10' (columns: TimeStamp, RAW_TP9")
    assert not (tmp_path / "m.h5").exists()
    assert not session.execute(f"import {tmp_path / 'muse.csv'} --stim X")
    assert session.ui.errors[-1] == "--stim is for files MNE reads (FIF, EDF, BDF, GDF, ...), not CSV"
    columns = "--channels RAW_TP9,RAW_AF7 --marker Elements --rate 256Hz"
    assert session.execute(f"import {tmp_path / 'muse.csv'} {columns} --to {tmp_path / 'm.h5'}"), session.ui.errors
    file = open_file(tmp_path / "m.h5")
    view = file.stream("muse")
    assert view.n_samples == 256 and view.spec.sampling_rate_hz == 256.0
    np.testing.assert_allclose(view.time[:][-1] - view.time[:][0], 255 / 256, atol=2e-6)
    assert file.markers().labels == ["/muse/elements/blink"]
    assert abs(float(file.handle.attrs["clock_zero_unix_s"]) + view.time[0] - moment.timestamp()) < 1e-3
    file.close()


def test_labrecorder_microvolts_go_out_and_back_at_their_size(session, tmp_path):
    pytest.importorskip("pyxdf")
    values = np.sin(np.arange(1000)[:, None] / [5.0, 9.0]) * [40.0, 80.0]  # microvolts, as LSL declares them
    eeg = dict(name="EEG", type="EEG", channel_count=2, rate=250, format="float32", times=1000 + np.arange(1000) / 250,
               values=values, labels=["C3", "C4"], units=["microvolts"] * 2, offsets=[])  # fmt: skip
    said = "Ü" + "the participant said: " * 15  # 331 characters, as long as an XDF example file's label
    marks = dict(name="Notes", type="Markers", channel_count=1, rate=0, format="string", times=np.array([1001.0]),
                 values=[[said]], labels=["m"], units=[""], offsets=[])  # fmt: skip
    write_xdf(tmp_path / "lr.xdf", [eeg, marks], "2026-11-24T10:00:00+00:00")
    assert session.execute(f"import {tmp_path / 'lr.xdf'} --to {tmp_path / 'lr.h5'}")
    file = open_file(tmp_path / "lr.h5")
    assert file.markers().labels == [said]  # whole: 128 bytes had cut it
    file.close()
    for suffix in (".edf", ".fif"):
        assert session.execute(f"export {tmp_path / 'lr.h5'}:/streams/EEG --to {tmp_path / ('lr' + suffix)}")
        raw = mne.io.read_raw(tmp_path / ("lr" + suffix), verbose="error")
        assert raw.get_channel_types() == ["eeg", "eeg"]
        np.testing.assert_allclose(raw.get_data().T, values * 1e-6, atol=160e-6 / 65535)
        back = tmp_path / f"back{suffix}.h5"
        assert session.execute(f"import {tmp_path / ('lr' + suffix)} --to {back}")
        file = open_file(back)
        view = file.stream(file.stream_names()[0])
        np.testing.assert_allclose(view.samples(0, 1000), values, atol=160 / 65535)
        assert view.spec.channel_units == ["uV", "uV"]
        file.close()


def test_a_failed_write_leaves_nothing_even_under_a_glob_name(tmp_path):
    from neuroshell.sessions.verbs.formats import _cleaned_up_on_failure

    (tmp_path / "trunc.h5").write_bytes(b"kept")  # a file the pattern trunc[1]* would match as a glob
    target = tmp_path / "trunc[1].h5"
    with pytest.raises(KeyboardInterrupt), _cleaned_up_on_failure(target):
        target.write_bytes(b"half")
        (tmp_path / "trunc[1]-1.h5").write_bytes(b"a split part")
        raise KeyboardInterrupt
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trunc.h5"]
