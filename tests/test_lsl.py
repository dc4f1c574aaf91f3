"""LSL through real pylsl outlets and inlets on this machine (machine-only config, see conftest)."""

import time
import uuid

import h5py
import numpy as np
import pylsl
import pytest

from neuroshell.devices.base import DeviceError, wait_until
from neuroshell.devices.lsl_device import connect_lsl, list_streams
from neuroshell.devices.recording import LiveRecording

CLOCK = pylsl.local_clock


def outlet(name: str, channels: int = 3, rate: float = 500.0, kind: str = "EEG", fmt=pylsl.cf_float32):
    source = f"test-{uuid.uuid4().hex[:8]}"
    info = pylsl.StreamInfo(name, kind, channels, rate, fmt, source)
    return pylsl.StreamOutlet(info), source


def test_data_and_markers_from_outlets_land_in_one_file(tmp_path):
    name = f"eeg-{uuid.uuid4().hex[:6]}"
    data_outlet, _ = outlet(name)
    marker_outlet, _ = outlet(f"{name}-markers", 1, pylsl.IRREGULAR_RATE, "Markers", pylsl.cf_string)
    data_outlet.push_chunk(np.full((50, 3), -1.0, dtype=np.float32))  # stale: before connecting
    eeg = connect_lsl("eeg", CLOCK, 5.0, {"name": name})
    markers = connect_lsl("mk", CLOCK, 5.0, {"name": f"{name}-markers"})
    assert markers.spec.n_channels == 0
    recording = LiveRecording(tmp_path / "lsl.h5", [eeg, markers], CLOCK, flush_interval_s=0.2)
    assert data_outlet.wait_for_consumers(5) and marker_outlet.wait_for_consumers(5)
    sent = 0
    marker_times = []
    for block in range(20):
        values = (sent + np.arange(25))[:, None] * np.array([1.0, -1.0, 0.5])
        data_outlet.push_chunk(values.astype(np.float32))
        sent += 25
        if block in (5, 12):
            marker_times.append(CLOCK())
            marker_outlet.push_sample([f"stim{block}"], marker_times[-1])
        time.sleep(0.05)
    assert wait_until(lambda: eeg.samples_received >= sent and markers.markers_received == 2, 5)
    recording.mark("by-hand")
    stats = recording.stop()
    eeg.close()
    markers.close()
    assert stats.streams["eeg"].samples_written == sent
    with h5py.File(tmp_path / "lsl.h5") as f:
        data = f["streams/eeg/data"][:]
        times = f["streams/eeg/time"][:]
        labels = [v.decode() for v in f["markers/label"][:]]
        sources = [v.decode() for v in f["markers/source"][:]]
        when = f["markers/time"][:]
        offsets = f["streams/eeg/clock_offsets"][:]
        assert list(f["streams/eeg"].attrs["channel_types"]) == ["eeg"] * 3  # the stream's LSL type
    assert (data[:, 0] >= 0).all(), "no stale samples from before connect"
    np.testing.assert_array_equal(data[:, 0], np.arange(sent))
    np.testing.assert_array_equal(data[:, 1], -np.arange(sent))
    assert np.all(np.diff(times) > 0)
    assert labels == ["stim5", "stim12", "by-hand"]
    assert sources == ["mk", "mk", "user"]
    np.testing.assert_allclose(when[:2], marker_times, atol=1e-3)
    assert np.all((when >= times[0]) & (when <= times[-1] + 0.5))
    assert len(offsets) >= 1 and abs(offsets[0, 1]) < 0.01


def test_simulated_helmet_over_lsl(tmp_path):
    from neuroshell.devices.simhelmet import connect_sim

    device = connect_sim("sim", CLOCK, transport="lsl", n_channels=16, rate_hz=500.0, seed=3)
    recording = LiveRecording(tmp_path / "sim.h5", [device], CLOCK, flush_interval_s=0.2)
    assert wait_until(lambda: device.samples_received >= 2.5 * 500, 10)
    recording.stop()
    server_markers = list(device.on_close[0].__self__.markers_sent)
    device.close()
    with h5py.File(tmp_path / "sim.h5") as f:
        data = f["streams/sim/data"][:]
        times = f["streams/sim/time"][:]
        when = f["markers/time"][:]
        labels = [v.decode() for v in f["markers/label"][:]]
        assert list(f["streams/sim"].attrs["channel_units"]) == ["fT"] * 16
        assert list(f["streams/sim"].attrs["channel_types"]) == ["mag"] * 16
    assert data.shape[1] == 16 and len(data) >= 500
    np.testing.assert_allclose(np.diff(times), 1 / 500, rtol=1e-3)
    assert labels and all(label.startswith("stim/") for label in labels)
    assert np.all((when >= times[0]) & (when <= times[-1]))
    sent = {label: t for t, label in server_markers}
    for t, label in zip(when, labels, strict=True):
        assert any(abs(t - st) < 1e-3 for st, lab in server_markers if lab == label), (label, sent)


def test_no_stream_found_is_a_clear_error():
    with pytest.raises(DeviceError, match=r"no LSL stream matching name='absent-stream' found within 0.3 s"):
        connect_lsl("x", CLOCK, 0.3, {"name": "absent-stream"})


def test_lsl_streams_lists_outlets():
    name = f"listed-{uuid.uuid4().hex[:6]}"
    keep, source = outlet(name, 7, 250.0)
    found = [s for s in list_streams(1.0) if s.name == name]
    assert found and found[0].channels == 7 and found[0].rate_hz == 250.0 and found[0].source_id == source
    del keep


def test_lost_outlet_is_reported_and_reconnected(tmp_path):
    name = f"flaky-{uuid.uuid4().hex[:6]}"
    source = f"flaky-{uuid.uuid4().hex[:6]}"
    info = pylsl.StreamInfo(name, "EEG", 2, 100.0, pylsl.cf_float32, source)
    first = pylsl.StreamOutlet(info)
    device = connect_lsl("flaky", CLOCK, 5.0, {"name": name})
    recording = LiveRecording(tmp_path / "flaky.h5", [device], CLOCK, flush_interval_s=0.2)
    assert first.wait_for_consumers(5)
    first.push_chunk(np.ones((20, 2), dtype=np.float32))
    assert wait_until(lambda: device.samples_received >= 20, 3)
    del first
    assert wait_until(lambda: device.state == "lost", 10)
    second = pylsl.StreamOutlet(pylsl.StreamInfo(name, "EEG", 2, 100.0, pylsl.cf_float32, source))
    assert wait_until(lambda: device.state == "streaming" and device.reconnects == 1, 10)
    assert second.wait_for_consumers(5)
    second.push_chunk(np.full((20, 2), 2.0, dtype=np.float32))
    assert wait_until(lambda: device.samples_received >= 40, 5)
    recording.stop()
    device.close()
    with h5py.File(tmp_path / "flaky.h5") as f:
        data = f["streams/flaky/data"][:]
        gaps = f["streams/flaky/gaps"][:]
        times = f["streams/flaky/time"][:]
    np.testing.assert_array_equal(data[:, 0], [1.0] * 20 + [2.0] * 20)
    assert len(gaps) == 1 and gaps[0, 0] == times[19] and gaps[0, 1] == times[20]
