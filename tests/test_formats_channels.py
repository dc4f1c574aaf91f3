"""Every channel keeps its type, unit and values through import and export: files made by MNE's own writers
(FIF, BrainVision through pybv) and edfio, read back by mne and pynwb."""

import numpy as np
import pytest

from neuroshell.storage.files import open_file

mne = pytest.importorskip("mne")
FIFF = mne.io.constants.FIFF


def neuromag_like(path, meas_date=True):
    """mag, grad, stim, eog and ecg channels with sensor positions, 2 s at 500 Hz, saved by MNE."""
    names = ["MEG0111", "MEG0112", "MEG0113", "MEG0121", "STI 014", "EOG061", "ECG063"]
    kinds = ["mag", "grad", "grad", "mag", "stim", "eog", "ecg"]
    info = mne.create_info(names, 500.0, kinds)
    rng = np.random.default_rng(1)
    for channel in info["chs"]:
        channel["loc"][:] = rng.normal(size=12) * 0.05
    scale = {"mag": 2e-12, "grad": 5e-11, "eog": 1e-4, "ecg": 5e-4}
    data = np.array([rng.normal(size=1000) * scale.get(kind, 0.0) for kind in kinds])
    data[4, [100, 101, 600]] = [5, 5, 12]  # two events: code 5 at 0.2 s, code 12 at 1.2 s
    raw = mne.io.RawArray(data, info, verbose="error")
    if meas_date:
        raw.set_meas_date(1_700_000_000.0)
    raw.save(path, overwrite=True, verbose="error")
    return mne.io.read_raw_fif(path, verbose="error")


def ctf_like(path):
    names = ["BG1-4304", "MLC11-4304", "UADC001"]
    raw = mne.io.RawArray(
        np.random.default_rng(2).normal(size=(3, 600)) * [[1e-11], [1e-13], [0.5]],
        mne.create_info(names, 600.0, ["ref_meg", "mag", "misc"]),
        verbose="error",
    )
    raw.set_meas_date(1_700_000_000.0)
    raw.save(path, overwrite=True, verbose="error")
    return mne.io.read_raw_fif(path, verbose="error")


def units_of(raw):
    return [int(channel["unit"]) for channel in raw.info["chs"]]


@pytest.mark.parametrize("make", [neuromag_like, ctf_like])
def test_fif_round_trip_keeps_every_type_unit_value_and_sensor(session, tmp_path, make):
    original = make(tmp_path / "in_raw.fif")
    assert session.execute(f"import {tmp_path / 'in_raw.fif'} --to {tmp_path / 'in.h5'}"), session.ui.errors
    file = open_file(tmp_path / "in.h5")
    spec = file.stream(file.stream_names()[0]).spec
    file.close()
    assert spec.channel_types == original.get_channel_types()
    shown = {"mag": "fT", "grad": "fT/cm", "stim": "count", "eog": "uV", "ecg": "uV", "ref_meg": "fT", "misc": "n/a"}
    assert spec.channel_units == [shown[kind] for kind in spec.channel_types]
    assert session.execute(f"export {tmp_path / 'in.h5'}:/streams/{spec.name} --to {tmp_path / 'out_raw.fif'}")
    back = mne.io.read_raw_fif(tmp_path / "out_raw.fif", verbose="error")
    assert back.get_channel_types() == original.get_channel_types()
    assert units_of(back) == units_of(original)
    np.testing.assert_allclose(back.get_data(), original.get_data(), rtol=1e-6, atol=0)
    for a, b in zip(back.info["chs"], original.info["chs"], strict=True):
        np.testing.assert_allclose(a["loc"], b["loc"], atol=1e-7)
        assert a["coil_type"] == b["coil_type"]
    if "STI 014" in original.ch_names:
        expected = mne.find_events(original, "STI 014", shortest_event=1, verbose="error")
        np.testing.assert_array_equal(mne.find_events(back, "STI 014", shortest_event=1, verbose="error"), expected)


@pytest.mark.parametrize("make", [neuromag_like, ctf_like])
def test_nwb_export_writes_one_series_per_type_on_one_time_base(session, tmp_path, make):
    pynwb = pytest.importorskip("pynwb")
    original = make(tmp_path / "in_raw.fif")
    assert session.execute(f"import {tmp_path / 'in_raw.fif'} --to {tmp_path / 'in.h5'}"), session.ui.errors
    assert session.execute(f"export {tmp_path / 'in.h5'} --to {tmp_path / 'in.nwb'}"), session.ui.errors
    assert pynwb.validate(path=str(tmp_path / "in.nwb")) == []
    units = {"mag": "tesla", "ref_meg": "tesla", "grad": "tesla/meter", "eog": "volts", "ecg": "volts"}
    with pynwb.NWBHDF5IO(str(tmp_path / "in.nwb"), "r") as io:
        acquired = io.read().acquisition
        kinds = sorted(set(original.get_channel_types()))
        assert sorted(acquired) == [f"in_raw_{kind}" for kind in kinds]
        times = acquired[f"in_raw_{kinds[0]}"].timestamps[:]
        for kind in kinds:
            series = acquired[f"in_raw_{kind}"]
            assert type(series).__name__ == "TimeSeries" and series.unit == units.get(kind, series.unit)
            np.testing.assert_array_equal(series.timestamps[:], times)
            picks = [original.ch_names.index(c) for c in series.description.split(": ")[-1].split(", ")]
            assert [original.get_channel_types()[i] for i in picks] == [kind] * len(picks)
            values = series.data[:] * series.conversion + series.offset
            np.testing.assert_allclose(values.T, original.get_data()[picks], rtol=1e-6, atol=0, err_msg=kind)


@pytest.mark.filterwarnings("ignore:Encountered unsupported non-voltage units")  # pybv: the file is meant so
def test_brainvision_channels_in_other_units_keep_their_values(session, tmp_path):
    pytest.importorskip("pybv")
    info = mne.create_info(["Fz", "GSR"], 250.0, ["eeg", "gsr"])
    data = np.vstack([np.sin(np.arange(500) / 9) * 2e-5, 4e-6 + np.arange(500) * 1e-9])  # V and siemens
    mne.io.RawArray(data, info, verbose="error").export(tmp_path / "bv.vhdr", overwrite=True, verbose="error")
    header = (tmp_path / "bv.vhdr").read_text(encoding="utf-8")  # pybv writes S: the amplifier said uS
    (tmp_path / "bv.vhdr").write_text(header.replace("GSR,,0.1,S", "GSR,,0.1,µS"), encoding="utf-8")
    raw = mne.io.read_raw(tmp_path / "bv.vhdr", verbose="error")
    assert session.execute(f"import {tmp_path / 'bv.vhdr'} --to {tmp_path / 'bv.h5'}"), session.ui.errors
    file = open_file(tmp_path / "bv.h5")
    view = file.stream("bv")
    assert view.spec.channel_units == ["uV", "µS"]
    np.testing.assert_allclose(view.samples(0, 500)[:, 1], raw.get_data()[1] * 1e6, rtol=1e-6)
    file.close()
    assert session.execute(f"export {tmp_path / 'bv.h5'}:/streams/bv --to {tmp_path / 'bv_raw.fif'}")
    back = mne.io.read_raw_fif(tmp_path / "bv_raw.fif", verbose="error")
    assert units_of(back) == [FIFF.FIFF_UNIT_V, FIFF.FIFF_UNIT_S]
    np.testing.assert_allclose(back.get_data(), raw.get_data(), rtol=1e-6)


def test_an_edf_trigger_channel_is_counts_and_its_events_markers(session, tmp_path):
    edfio = pytest.importorskip("edfio")
    status = np.zeros(512)
    status[[100, 101, 300]] = [3, 3, 7]
    signals = [
        edfio.EdfSignal(np.sin(np.arange(512) / 5) * 50, 128, label="Cz", physical_dimension="uV"),
        edfio.EdfSignal(status, 128, label="Status", physical_dimension="", physical_range=(0, 255)),
    ]
    edfio.Edf(signals).write(tmp_path / "trig.edf")
    assert session.execute(f"import {tmp_path / 'trig.edf'} --to {tmp_path / 'trig.h5'}"), session.ui.errors
    file = open_file(tmp_path / "trig.h5")
    spec = file.stream("trig").spec
    assert spec.channel_types == ["eeg", "stim"] and spec.channel_units == ["uV", "count"]
    times, labels, sources = file.markers()
    file.close()
    assert labels == ["3", "7"] and set(sources) == {"stim Status"}
    np.testing.assert_allclose(times - times[0], [0.0, 200 / 128])


def test_edf_export_quantises_each_channel_over_its_own_range(session, tmp_path):
    original = neuromag_like(tmp_path / "nm_raw.fif", meas_date=False)  # no date: EDF's default is written
    eeg = original.copy().load_data().pick(["EOG061", "ECG063"]).set_channel_types({"EOG061": "eeg", "ECG063": "eeg"})
    dc = mne.io.RawArray(-12.0029 + 1e-3 * np.sin(np.arange(1000) / 7)[None], mne.create_info(["DC01"], 500.0, "eeg"))
    eeg.add_channels([dc], force_update_info=True)
    eeg.save(tmp_path / "eeg_raw.fif", overwrite=True, verbose="error")
    assert session.execute(f"import {tmp_path / 'eeg_raw.fif'} --to {tmp_path / 'eeg.h5'}"), session.ui.errors
    assert session.execute(f"export {tmp_path / 'eeg.h5'}:/streams/eeg_raw --to {tmp_path / 'eeg.edf'}")
    assert any("written as 1985-01-01" in line for line in session.ui.lines[-3:])
    back = mne.io.read_raw_edf(tmp_path / "eeg.edf", verbose="error")
    assert back.info["meas_date"].year == 1985
    written, expected = back.get_data(), mne.io.read_raw_fif(tmp_path / "eeg_raw.fif", verbose="error").get_data()
    for channel in range(3):  # each channel within 1/65535 of its own range (16 bits over its own span)
        step = np.ptp(expected[channel]) / 65535
        np.testing.assert_allclose(written[channel], expected[channel], atol=step, rtol=0)


def test_every_common_mne_channel_type_round_trips_through_fif(session, tmp_path):
    kinds = ["eeg", "mag", "grad", "ref_meg", "stim", "eog", "ecg", "emg", "misc", "bio", "resp", "seeg"]
    kinds += ["ecog", "dbs", "gsr", "temperature", "hbo", "hbr", "fnirs_cw_amplitude", "csd"]
    info = mne.create_info([f"CH{i:02d}" for i in range(len(kinds))], 200.0, kinds)
    data = np.random.default_rng(4).normal(size=(len(kinds), 400)) * 1e-6
    data[kinds.index("stim")] = np.r_[np.zeros(100), np.full(20, 4.0), np.zeros(280)]
    mne.io.RawArray(data, info, verbose="error").save(tmp_path / "all_raw.fif", verbose="error")
    original = mne.io.read_raw_fif(tmp_path / "all_raw.fif", verbose="error")
    assert session.execute(f"import {tmp_path / 'all_raw.fif'} --to {tmp_path / 'all.h5'}"), session.ui.errors
    assert session.execute(f"export {tmp_path / 'all.h5'}:/streams/all_raw --to {tmp_path / 'back_raw.fif'}")
    back = mne.io.read_raw_fif(tmp_path / "back_raw.fif", verbose="error")
    assert back.get_channel_types() == original.get_channel_types() == kinds
    assert units_of(back) == units_of(original)
    np.testing.assert_allclose(back.get_data(), original.get_data(), rtol=1e-6, atol=0)
