"""Time that never runs backwards and samples kept as their source sent them, on real parts: pseudo-terminals
read by pyserial, pylsl outlets and inlets on this machine, HDF5 files."""

import threading
import time

import h5py
import numpy as np
import pylsl
import pytest

from neuroshell.devices.base import wait_until
from neuroshell.devices.lsl_device import connect_lsl
from neuroshell.devices.recording import LiveRecording
from neuroshell.devices.serial_device import SerialDevice
from tests.helpers import FakePort

CLOCK = time.monotonic


def test_the_simulated_helmet_over_serial_records_strictly_increasing_times(session, tmp_path):
    """The defect first seen: a step of -0.064 ms near the start of `connect sim; record start`."""
    path = tmp_path / "crash.h5"
    assert session.execute("connect sim --transport serial --channels 32")
    assert session.execute(f"record start {path}")
    device = session.devices["sim0"]
    assert wait_until(lambda: device.samples_received >= 2.5 * device.spec.sampling_rate_hz, 10)
    assert session.execute("record stop")
    with h5py.File(path) as f:
        times = f["streams/sim0/time"][:]
        assert f["streams/sim0/data"].dtype == np.float32  # the frame protocol's own type
    assert len(times) > 2000
    steps = np.diff(times)
    assert steps.min() > 0
    np.testing.assert_allclose(steps, 1e-3, rtol=0.005)


class JitterySender:
    """A CSV device on a pty at 500 Hz whose crystal is ``ppm`` fast: blocks of 10 lines, each sent 0-30 ms
    after its last sample was taken, and every 5 s a 250 ms stall followed by a burst. Column 0 is the
    sample's number, so each recorded sample can be matched with its true acquisition time."""

    RATE_HZ, BLOCK = 500.0, 10

    def __init__(self, ppm: float, seconds: float, seed: int) -> None:
        self.port = FakePort()
        self.period = 1 / (self.RATE_HZ * (1 + ppm * 1e-6))
        self.seconds, self.rng = seconds, np.random.default_rng(seed)
        self.t0 = CLOCK() + 0.2
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def true_time(self, index: np.ndarray) -> np.ndarray:
        return self.t0 + index * self.period

    def run(self) -> None:
        sent_at = self.t0
        for first in range(0, int(self.seconds * self.RATE_HZ), self.BLOCK):
            last_taken = float(self.true_time(np.array(first + self.BLOCK - 1)))
            due = last_taken + self.rng.uniform(0.0, 0.030)
            if int((last_taken - self.t0) / 5.0) != int((last_taken - self.t0 - self.BLOCK * self.period) / 5.0):
                due = last_taken + 0.25  # the stall: this block and all due meanwhile go out together
            sent_at = max(sent_at, due)
            time.sleep(max(0.0, sent_at - CLOCK()))
            lines = "".join(f"{k},{k % 97},{-k}\n" for k in range(first, first + self.BLOCK))
            self.port.write(lines.encode())


@pytest.mark.slow
def test_jitter_bursts_and_a_drifting_crystal_are_followed_over_a_minute(tmp_path):
    seconds = 66.0
    senders = {"fast": JitterySender(+200, seconds, 1), "slow": JitterySender(-200, seconds, 2)}
    devices = [
        SerialDevice(name, s.port.path, CLOCK, protocol="csv", rate_hz=JitterySender.RATE_HZ).start()
        for name, s in senders.items()
    ]
    recording = LiveRecording(tmp_path / "jitter.h5", devices, CLOCK, flush_interval_s=0.5)
    for sender in senders.values():
        sender.thread.join()
    sent = int(seconds * JitterySender.RATE_HZ) // JitterySender.BLOCK * JitterySender.BLOCK
    wait_until(lambda: all(device.samples_received >= sent for device in devices), 5)  # read to the end
    recording.stop()
    for device in devices:
        device.close()
    with h5py.File(tmp_path / "jitter.h5") as f:
        for name, sender in senders.items():
            data, times = f[f"streams/{name}/data"][:], f[f"streams/{name}/time"][:]
            assert f[f"streams/{name}/data"].dtype == np.float64 and len(f[f"streams/{name}/gaps"]) == 0
            index = data[:, 0].astype(np.int64)
            np.testing.assert_array_equal(np.diff(index), 1)  # every sample, once, in order
            steps = np.diff(times)
            assert steps.min() > 0, f"{name}: time went backwards"
            np.testing.assert_allclose(steps, 1 / JitterySender.RATE_HZ, rtol=0.005, err_msg=name)
            error = times - sender.true_time(index)
            after_a_minute = sender.true_time(index) - sender.t0 >= 60.0
            assert after_a_minute.sum() > 2000
            assert np.abs(error[after_a_minute]).max() < 2e-3, f"{name}: {np.abs(error[after_a_minute]).max()}"


def lsl_outlet(name: str, fmt, channels: int, rate: float = 250.0) -> pylsl.StreamOutlet:
    info = pylsl.StreamInfo(name, "EEG", channels, rate, fmt, f"{name}-{time.monotonic_ns()}")
    return pylsl.StreamOutlet(info)


@pytest.mark.parametrize(
    ("fmt", "dtype", "make"),
    [
        # raw ADC counts above 2**24: float32 would make the 8 channels of a sample equal
        (pylsl.cf_int32, np.int32, lambda k, c: 2**30 + 8 * k + c),
        (pylsl.cf_int16, np.int16, lambda k, c: (k * 7 + c) % 30000 - 15000),
        (pylsl.cf_double64, np.float64, lambda k, c: 1e9 + k + c / 3),
    ],
)
def test_lsl_samples_are_stored_in_the_streams_own_type(tmp_path, fmt, dtype, make):
    name = f"native-{np.dtype(dtype).name}"
    outlet = lsl_outlet(name, fmt, 8)
    device = connect_lsl("adc", CLOCK, 5.0, {"name": name})
    recording = LiveRecording(tmp_path / "adc.h5", [device], CLOCK, flush_interval_s=0.2)
    rows = np.array([[make(k, c) for c in range(8)] for k in range(500)], dtype=dtype)
    for first in range(0, 500, 25):
        outlet.push_chunk(rows[first : first + 25])
        time.sleep(0.1)
    assert wait_until(lambda: device.samples_received >= 500, 5)
    recording.stop()
    device.close()
    with h5py.File(tmp_path / "adc.h5") as f:
        stored = f["streams/adc/data"]
        assert stored.dtype == dtype
        np.testing.assert_array_equal(stored[:], rows)
        assert f["streams/adc"].attrs["scale"] == 1.0 and f["streams/adc"].attrs["offset"] == 0.0
        steps = np.diff(f["streams/adc/time"][:])
    assert steps.min() > 0
    np.testing.assert_allclose(steps, 1 / 250.0, rtol=0.005)


def test_a_replayed_recording_keeps_its_gaps_and_its_order(session, tmp_path):
    from tests.helpers import helmet_recording

    original = helmet_recording(tmp_path / "gappy.h5", 1.6, channels=4, rate_hz=500.0, gap=(0.6, 1.0))
    assert session.execute(f"connect replay {original}:/streams/meg")
    assert session.execute(f"record start {tmp_path / 'again.h5'}")
    assert wait_until(lambda: session.devices["replay0"].state == "finished", 5)
    assert session.execute("record stop")
    with h5py.File(tmp_path / "again.h5") as f:
        times, gaps = f["streams/replay0/time"][:], f["streams/replay0/gaps"][:]
    assert np.diff(times).min() > 0
    assert len(gaps) == 1
    # the gap spans the replayed hole: from the last sample before it to the first after
    hole = np.flatnonzero(np.diff(times) > 2 / 500)
    assert len(hole) == 1 and tuple(gaps[0]) == (times[hole[0]], times[hole[0] + 1])


def test_a_driver_that_gets_time_wrong_is_repaired_and_counted():
    from neuroshell.devices.base import Device
    from neuroshell.storage.spec import StreamSpec

    class Backwards(Device):  # a faulty driver: its second block starts before its first ended
        def _connect(self) -> None:
            self.spec = StreamSpec("bad", ["a"], 100.0)

        def _read(self) -> None:
            self._stop.wait(0.05)

        def _disconnect(self) -> None:
            pass

    got = []

    class Collect:
        def samples(self, device, data, times):
            got.append(times)

    device = Backwards("bad", CLOCK).start()
    device.add_listener(Collect())
    device._deliver_samples(np.zeros((3, 1), np.float32), np.array([10.00, 10.01, 10.02]))
    device._deliver_samples(np.zeros((3, 1), np.float32), np.array([10.015, 10.015, 10.03]))
    device.close()
    times = np.concatenate(got)
    assert np.diff(times).min() > 0 and device.timestamp_repairs == 1
    assert times[-1] == 10.03  # a time already after the last is kept as it is
