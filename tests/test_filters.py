"""Online filters: block by block equal to scipy on the whole signal; on a live device the monitor sees the
filtered signal, the recording stays raw and keeps the chain; wrong filters are refused, changing nothing."""

import itertools
import json

import h5py
import numpy as np
import pytest
from scipy import signal

from neuroshell.filters.chain import ORDER, ChainSpec, ChainState, FilterError, Stage, sections


def test_block_by_block_equals_scipy_on_the_whole_signal():
    rng = np.random.default_rng(3)
    rate, n, channels = 1000.0, 6000, 16
    data = rng.normal(size=(n, channels)) * 50 + np.sin(2 * np.pi * 50 * np.arange(n) / rate)[:, None] * 200
    chain = ChainSpec((Stage("bandpass", 1.0, 40.0), Stage("notch", 50.0), Stage("reref")))
    state = ChainState(chain, rate, channels)
    sizes = rng.integers(1, 97, size=400)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    bounds = [*bounds[bounds < n].tolist(), n]
    online = np.concatenate([state.process(data[a:b]) for a, b in itertools.pairwise(bounds)])
    referenced = data - data.mean(axis=1, keepdims=True)
    band = signal.butter(ORDER, [1.0, 40.0], "bandpass", fs=rate, output="sos")
    notches = [signal.tf2sos(*signal.iirnotch(f, 30.0, fs=rate)) for f in range(50, 500, 50) if f < 490]
    offline = signal.sosfilt(np.concatenate([band, *notches]), referenced, axis=0)
    np.testing.assert_allclose(online, offline, atol=1e-9, rtol=0)
    assert len(sections(chain, rate)) == len(band) + len(notches)


def test_a_chain_is_refused_where_it_cannot_be_built():
    with pytest.raises(FilterError, match="must lie between 0 and Nyquist"):
        sections(ChainSpec((Stage("lowpass", high_hz=600.0),)), 1000.0)
    with pytest.raises(FilterError, match="the low edge must be below the high"):
        sections(ChainSpec((Stage("bandpass", 40.0, 40.0),)), 1000.0)


def band_power(data: np.ndarray, rate: float, low: float, high: float) -> float:
    frequencies, power = signal.welch(data, fs=rate, axis=0, nperseg=512)
    return float(power[(frequencies >= low) & (frequencies <= high)].mean())


def test_monitor_sees_the_filtered_signal_and_the_file_keeps_raw_data_and_the_chain(session, tmp_path):
    path = tmp_path / "rec.h5"
    assert session.execute("connect sim --channels 8 --rate 1kHz --seed 4")
    assert session.execute("filter sim0 --bandpass 1Hz:40Hz")
    assert session.ui.lines[-1] == "sim0: filters bandpass 1-40 Hz (order 4)"
    assert session.execute(f"record start {path}") and session.execute("wait 2s")
    assert session.execute("filter sim0 --notch 50Hz")
    assert session.ui.lines[-1].endswith("; noted in rec.h5")
    assert session.execute("wait 1s") and session.execute("monitor --for 300ms")
    assert "filtered: bandpass 1-40 Hz (order 4); notch 50 Hz and harmonics (Q 30)" in session.ui.text
    filtered, _ = session.pipelines["sim0"].filter.recent.last(2.0)
    assert session.execute("record stop")
    with h5py.File(path) as f:
        stream = f["streams/sim0"]
        raw = stream["data"][-2000:].astype(np.float64) * stream.attrs["scale"]
        assert json.loads(stream.attrs["filter_chain"])["stages"] == [
            {"kind": "bandpass", "low_hz": 1.0, "high_hz": 40.0}
        ]
        times, chains = stream["filters/time"][:], [json.loads(c) for c in stream["filters/chain"][:]]
        assert len(times) == 2 and times[1] - times[0] > 1.5
        assert [s["kind"] for s in chains[1]["stages"]] == ["bandpass", "notch"]
    # The helmet's 50 Hz line noise: in the raw recording, not in what monitor saw.
    assert band_power(raw, 1000.0, 48, 52) > 100 * band_power(filtered, 1000.0, 48, 52)


def test_wrong_filters_are_refused_and_change_nothing(session):
    assert session.execute("connect sim --channels 4 --rate 200Hz")
    assert session.execute("filter sim0 --highpass 1Hz")
    assert not session.execute("filter sim0 --lowpass 150Hz")
    assert "150 Hz must lie between 0 and Nyquist (100 Hz at 200 Hz)" in session.ui.errors[-1]
    assert not session.execute("filter sim0")
    assert "give stages" in session.ui.errors[-1]
    assert session.pipelines["sim0"].chain.describe() == "highpass 1 Hz (order 4)"
    assert session.execute("filters") and session.ui.results[-1].rows[0][1] == "highpass 1 Hz (order 4)"
    assert session.execute("filter sim0 --clear") and session.pipelines["sim0"].filter is None


def test_dataset_epochs_filtered_redoes_the_recorded_chains_exactly_as_monitor_saw_them(session, tmp_path):
    from neuroshell.filters.offline import redo_chains
    from neuroshell.storage.files import open_file

    path = tmp_path / "rec.h5"
    assert session.execute("connect sim --channels 8 --rate 1kHz --seed 4 --isi 300ms:400ms")
    assert session.execute(f"record start {path}") and session.execute("wait 1s")
    assert session.execute("filter sim0 --bandpass 1Hz:40Hz") and session.execute("wait 1.5s")
    assert session.execute("filter sim0 --notch 50Hz") and session.execute("wait 1.5s")
    seen, seen_times = session.pipelines["sim0"].filter.recent.last(1.0)
    assert session.execute("record stop")
    file = open_file(path)
    try:
        view = file.stream("sim0")
        data, times, changes = view.samples(0, view.n_samples), view.time[: view.n_samples], view.filter_changes()
    finally:
        file.close()
    assert [len(json.loads(chain)["stages"]) for _, chain in changes] == [0, 1, 2]
    redone = redo_chains(data, times, 1000.0, np.zeros((0, 2)), changes)
    at = np.searchsorted(times, seen_times)
    np.testing.assert_allclose(redone[at], seen, rtol=0, atol=1e-9 * np.abs(seen).max())
    assert session.execute(f"dataset epochs {path}:/streams/sim0 --window 0s:200ms --filtered --name ep")
    assert "filtered as recorded (none; then bandpass 1-40 Hz (order 4); then bandpass" in session.ui.text
    assert session.datasets["ep"].recipe["filtered"].startswith("none; then bandpass")


def test_filtered_epochs_of_a_raw_recording_are_refused(session, tmp_path):
    path = tmp_path / "raw.h5"
    assert session.execute("connect sim --channels 4 --rate 500Hz --seed 4")
    assert session.execute(f"record start {path} --for 1s") and session.execute("wait 1.3s")
    assert not session.execute(f"dataset epochs {path}:/streams/sim0 --filtered")
    assert (
        session.ui.errors[-1]
        == f"--filtered: no online filter ran while {path}:/streams/sim0 was recorded (its data are raw)"
    )
    assert not session.datasets


class TimesHeard:
    """A follower of a pipeline that keeps the time of every sample it hears, raw or filtered."""

    def __init__(self):
        self.times, self.filtered = [], 0

    def samples(self, device, data, times):
        self.times.append(times)

    def unit_samples(self, device, data, times):
        self.times.append(times)
        self.filtered += len(times)

    def marker(self, device, time_s, label):
        pass

    def gap(self, device, start_s, stop_s):
        pass


def test_filter_changes_under_a_follower_lose_and_repeat_no_sample(session):
    assert session.execute("connect sim --channels 4 --rate 1kHz")
    pipeline = session.pipelines["sim0"]
    heard = TimesHeard()
    pipeline.follow(heard)
    for step in range(12):
        line = "filter sim0 --clear" if step % 3 == 2 else f"filter sim0 --highpass {step + 1}Hz"
        assert session.execute(line) and session.execute("wait 60ms")
    pipeline.unfollow(heard)
    times = np.concatenate(heard.times)
    assert 0 < heard.filtered < len(times)  # some blocks raw, some filtered
    np.testing.assert_allclose(np.diff(times), 1e-3, rtol=0.01)  # every sample once, in order


def test_the_recording_hears_the_raw_signal_through_the_pipeline_and_a_failing_follower_costs_it_nothing(
    session, tmp_path
):
    class Failing(TimesHeard):
        def unit_samples(self, device, data, times):
            raise RuntimeError("a decoder's bug")

    assert session.execute("connect sim --channels 4 --rate 1kHz")
    pipeline, device = session.pipelines["sim0"], session.devices["sim0"]
    assert session.execute("filter sim0 --highpass 1Hz")
    pipeline.follow(Failing())
    assert session.execute(f"record start {tmp_path / 'r.h5'}")
    recording = session.recording
    assert pipeline.raw_listeners == [recording] and recording not in device.listeners
    assert session.execute("wait 500ms") and session.execute("record stop")
    assert pipeline.raw_listeners == []
    stats = recording.final.streams["sim0"]
    assert stats.samples_written >= 400 and stats.blocks_dropped == 0
