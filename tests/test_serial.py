"""Serial devices through pyserial on real pseudo-terminals."""

import time

import h5py
import numpy as np
import pytest

from neuroshell.devices.base import DeviceError, wait_until
from neuroshell.devices.protocols import encode_samples
from neuroshell.devices.recording import LiveRecording
from neuroshell.devices.serial_device import SerialDevice
from tests.helpers import FakePort, Feeder

CLOCK = time.monotonic
CHANNELS = 4
FRAME_SAMPLES = 10


def ramp_frame(k: int) -> bytes:
    """Frame k holds samples 10k..10k+9; channel c of sample i is i + c/8."""
    index = np.arange(k * FRAME_SAMPLES, (k + 1) * FRAME_SAMPLES)
    return encode_samples(k * FRAME_SAMPLES, index[:, None] + np.arange(CHANNELS)[None, :] / 8)


def check_ramp(data: np.ndarray) -> np.ndarray:
    """Sample numbers of a recorded ramp, checking every channel holds exactly its value."""
    index = data[:, 0].astype(np.int64)
    np.testing.assert_array_equal(data, index[:, None] + np.arange(CHANNELS)[None, :] / 8)
    return index


def cyton_packet(counter: int, counts: list[int], footer: int = 0xC0) -> bytes:
    """A Cyton packet built from the published format: 0xA0, counter, 8 x int24 BE, 6 aux bytes, footer."""
    channels = b"".join((c & 0xFFFFFF).to_bytes(3, "big") for c in counts)
    return bytes([0xA0, counter & 0xFF]) + channels + bytes(6) + bytes([footer])


def cyton_counts(k: int) -> list[int]:
    return [(-1) ** c * (k * 1000 + c * 37) for c in range(8)]


def test_cyton_packets_decode_to_microvolts_and_start_stop_commands(tmp_path):
    port = FakePort()
    feeder = Feeder(port, lambda k: b"".join(cyton_packet(5 * k + j, cyton_counts(5 * k + j)) for j in range(5)), 0.02)
    device = SerialDevice("cyton", port.path, CLOCK, protocol="cyton").start()
    got = []

    class Collect:
        def samples(self, dev, data, times):
            got.append((data.copy(), times.copy()))

    device.add_listener(Collect())
    assert wait_until(lambda: sum(len(d) for d, _ in got) >= 100, 5)
    device.close()
    feeder.stop()
    commands = port.read_available()
    assert commands.startswith(b"b") and commands.endswith(b"s")
    counts = np.concatenate([d for d, _ in got])
    times = np.concatenate([t for _, t in got])
    # The ADC counts are kept as the board sends them; the spec's scale makes them microvolts on reading.
    assert counts.dtype == np.int32
    first = counts[0, 0] // 1000
    expected = np.array([cyton_counts(first + i) for i in range(len(counts))])
    np.testing.assert_array_equal(counts, expected)
    scale = 4.5 / 24 / (2**23 - 1) * 1e6  # uV per count, gain 24 (OpenBCI docs)
    assert device.spec.scale == scale and device.spec.dtype == "int32"
    np.testing.assert_allclose(device.spec.to_unit(counts), expected * scale, rtol=1e-12)
    np.testing.assert_allclose(device.recent.last(60.0)[0][-len(counts) :], expected * scale, rtol=1e-12)
    assert device.spec.sampling_rate_hz == 250 and device.spec.channel_units == ["uV"] * 8
    # Dejittered: steps of 1/250 s, slewed by at most 0.4% while the clock settles.
    np.testing.assert_allclose(np.diff(times), 1 / 250, rtol=4.1e-3)
    assert np.all(np.diff(times) > 0)
    assert device.samples_lost == 0 and device.corrupt_frames == 0


def test_csv_lines_decode_exactly():
    port = FakePort()
    feeder = Feeder(port, lambda k: f"{k},{-k * 0.5} {k * 2};{k + 0.25}\n".encode(), 0.005)
    device = SerialDevice("csv", port.path, CLOCK, protocol="csv", rate_hz=200.0).start()
    assert wait_until(lambda: device.samples_received >= 60, 5)
    data, _ = device.recent.last(10.0)
    device.close()
    feeder.stop()
    k = data[:, 0]
    np.testing.assert_array_equal(np.diff(k), 1)
    np.testing.assert_array_equal(data, np.column_stack([k, -k * 0.5, k * 2, k + 0.25]))
    assert device.spec.n_channels == 4


def test_corrupt_frames_are_counted_and_skipped_with_gaps(tmp_path):
    port = FakePort()
    corrupted = set(range(30, 200, 7))

    def frame(k):
        raw = bytearray(ramp_frame(k))
        if k in corrupted:
            raw[20] ^= 0xFF  # a flipped payload byte: the CRC no longer matches
        return bytes(raw)

    feeder = Feeder(port, frame, 0.01)
    device = SerialDevice("ns", port.path, CLOCK, protocol="neuroshell", rate_hz=1000.0).start()
    recording = LiveRecording(tmp_path / "corrupt.h5", [device], CLOCK, flush_interval_s=0.2)
    assert wait_until(lambda: feeder.count >= 200, 10)
    # Every frame fed is read before the recording stops: else a corrupt frame counted by the device could
    # fall after the recording's last frame (seen: frame 198 counted, the recording ending at 197).
    feeder.stop()
    assert wait_until(lambda: _unchanged_for(lambda: device.next_index, 0.2), 10)
    recording.stop()
    device.close()
    with h5py.File(tmp_path / "corrupt.h5") as f:
        index = check_ramp(f["streams/ns/data"][:])
        gaps = f["streams/ns/gaps"][:]
        times = f["streams/ns/time"][:]
    frames = sorted(set(index // FRAME_SAMPLES))
    missing = sorted(set(range(frames[0], frames[-1] + 1)) - set(frames))
    assert missing and set(missing) <= corrupted, "only corrupted frames may be missing"
    assert device.corrupt_frames == len(missing)
    assert len(gaps) == len(missing)
    assert device.samples_lost == FRAME_SAMPLES * len(missing)
    for k, (start, stop) in zip(missing, gaps, strict=True):
        before = times[index == k * FRAME_SAMPLES - 1][0]
        after = times[index == (k + 1) * FRAME_SAMPLES][0]
        assert before < start <= stop < after
        # nine sample periods at the clock's current spacing (1/rate within 0.5%, slewed under load)
        assert stop - start == pytest.approx((FRAME_SAMPLES - 1) / 1000, rel=0.01)


def record_then_pull(path):
    """A recording of a ramp over a pseudo-terminal whose port is pulled after 300 samples, lost 0.3 s now."""
    port = FakePort(link=path.with_suffix(".port"))
    feeder = Feeder(port, ramp_frame, 0.01)
    device = SerialDevice("ns", port.path, CLOCK, protocol="neuroshell", rate_hz=1000.0).start()
    recording = LiveRecording(path, [device], CLOCK, flush_interval_s=0.2)
    assert wait_until(lambda: device.samples_received >= 300, 5)
    feeder.paused.set()
    port.pull()
    assert wait_until(lambda: device.state == "lost", 3)
    time.sleep(0.3)
    return port, feeder, device, recording


def test_pulled_device_reconnects_and_records_the_gap(tmp_path):
    port, feeder, device, recording = record_then_pull(tmp_path / "pulled.h5")
    port.plug()
    feeder.paused.clear()
    assert wait_until(lambda: device.state == "streaming" and device.reconnects == 1, 5)
    received = device.samples_received
    assert wait_until(lambda: device.samples_received >= received + 300, 5)
    stats = recording.stop()
    device.close()
    feeder.stop()
    with h5py.File(tmp_path / "pulled.h5") as f:
        index = check_ramp(f["streams/ns/data"][:])
        times = f["streams/ns/time"][:]
        gaps = f["streams/ns/gaps"][:]
    jumps = np.flatnonzero(np.diff(index) != 1)
    assert len(jumps) == 1, "frames are lost only while the device is unplugged"
    assert len(gaps) == 1
    assert gaps[0, 0] == times[jumps[0]] and gaps[0, 1] == times[jumps[0] + 1]
    assert stats.streams["ns"].samples_dropped == 0


def test_bad_ports_and_channel_counts_are_clear_errors():
    with pytest.raises(DeviceError, match="cannot open serial port /dev/no-such-port: no such port"):
        SerialDevice("x", "/dev/no-such-port", CLOCK).start()
    port = FakePort()
    feeder = Feeder(port, ramp_frame, 0.01)
    with pytest.raises(DeviceError, match="sends 4 channels, not 8: check --channels"):
        SerialDevice("x", port.path, CLOCK, n_channels=8).start()
    feeder.stop()
    silent = FakePort()
    with pytest.raises(DeviceError, match=r"no neuroshell data from .* within 3 s"):
        SerialDevice("x", silent.path, CLOCK).start()


def _unchanged_for(read, seconds: float) -> bool:
    """Whether ``read()`` gives the same value before and after ``seconds``."""
    before = read()
    time.sleep(seconds)
    return read() == before


def test_a_device_lost_until_the_end_leaves_a_gap_to_the_end_and_a_word_in_the_summary(tmp_path):
    _, feeder, device, recording = record_then_pull(tmp_path / "unplugged.h5")
    recording.stop()
    ended = CLOCK()
    summary = recording.summary()
    device.close()
    feeder.stop()
    with h5py.File(tmp_path / "unplugged.h5") as f:
        times = f["streams/ns/time"][:]
        gaps = f["streams/ns/gaps"][:]
    assert len(gaps) == 1 and gaps[0, 0] == times[-1] and ended - 0.1 < gaps[0, 1] <= ended
    assert "; 1 gap; ns lost at t=" in summary and summary.endswith(" and not back by the end (a gap to the end)")
