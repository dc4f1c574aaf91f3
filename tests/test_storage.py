"""The HDF5 layer on real files: layout, appends, SWMR readers, crash recovery, bad files."""

import signal
import threading
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from neuroshell.storage.errors import StorageError
from neuroshell.storage.files import open_file
from neuroshell.storage.layout import StreamSpec
from neuroshell.storage.recorder import Recorder
from neuroshell.storage.recovery import recover
from tests.helpers import read_flushed_until, start_writer


def spec(name="meg", channels=3, rate=1000.0):
    return StreamSpec(name, [f"MEG{c:03d}" for c in range(channels)], rate, ["fT"] * channels, source="sim")


def test_layout_reads_with_plain_h5py(tmp_path):
    path = tmp_path / "rec.h5"
    recorder = Recorder(path, [spec()], clock=lambda: 100.0)
    data = np.arange(30, dtype="float32").reshape(10, 3)
    recorder.put("meg", data, 100.0 + np.arange(10) / 1000)
    recorder.mark(100.004, "stim/left", "user")
    recorder.gap("meg", 100.0095, 100.02)
    recorder.clock_offset("meg", 100.0, -0.0012)
    stats = recorder.stop()
    assert stats.streams["meg"].samples_written == 10 and stats.error is None

    with h5py.File(path, "r") as f:  # plain h5py, no neuroshell
        assert f.attrs["format"] == "neuroshell"
        assert f.attrs["format_version"] == "1.0"
        assert f.attrs["created"].endswith("+00:00")
        assert f.attrs["neuroshell_version"]
        assert abs(f.attrs["clock_zero_unix_s"] - (time.time() - 100.0)) < 5
        stream = f["streams/meg"]
        assert stream["data"].dtype == np.float32
        assert stream["data"].maxshape == (None, 3) and stream["data"].chunks is not None
        np.testing.assert_array_equal(stream["data"][:], data)
        np.testing.assert_allclose(stream["time"][:], 100.0 + np.arange(10) / 1000)
        assert stream["time"].attrs["units"] == "s"
        assert stream.attrs["sampling_rate"] == 1000.0 and stream.attrs["sampling_rate_units"] == "Hz"
        assert list(stream.attrs["channel_names"]) == ["MEG000", "MEG001", "MEG002"]
        assert list(stream.attrs["channel_units"]) == ["fT"] * 3
        assert stream.attrs["source"] == "sim"
        np.testing.assert_allclose(stream["gaps"][:], [[100.0095, 100.02]])
        np.testing.assert_allclose(stream["clock_offsets"][:], [[100.0, -0.0012]])
        assert f["markers/time"][:].tolist() == [100.004]
        assert f["markers/label"][0].decode() == "stim/left"
        assert f["markers/source"][0].decode() == "user"


def test_appends_from_many_threads_round_trip_exactly(tmp_path):
    path = tmp_path / "threads.h5"
    streams = [spec("a", 4), spec("b", 2, rate=250.0)]
    recorder = Recorder(path, streams, clock=time.monotonic, flush_interval_s=0.05)
    rng = np.random.default_rng(1)
    expected = {
        "a": rng.normal(size=(5000, 4)).astype("float32"),
        "b": rng.normal(size=(1200, 2)).astype("float32"),
    }

    def produce(name):
        values = expected[name]
        for start in range(0, len(values), 37):
            chunk = values[start : start + 37]
            assert recorder.put(name, chunk, np.arange(start, start + len(chunk), dtype=float))

    threads = [threading.Thread(target=produce, args=(name,)) for name in expected]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = recorder.stop()
    assert stats.flushes >= 1
    handle = open_file(path)
    for name, values in expected.items():
        view = handle.stream(name)
        np.testing.assert_array_equal(view.data[:], values)
        np.testing.assert_array_equal(view.time[:], np.arange(len(values)))
        assert stats.streams[name].samples_written == len(values)
    handle.close()


def test_full_queue_is_counted_and_written_as_gaps(tmp_path):
    recorder = Recorder(tmp_path / "full.h5", [spec("s", 64)], clock=time.monotonic, queue_blocks=2)
    total, accepted = 0, 0
    block = np.zeros((2000, 64), dtype="float32")
    for k in range(400):
        times = np.arange(k * 2000, (k + 1) * 2000, dtype=float)
        accepted += recorder.put("s", block, times)
        total += 2000
    stats = recorder.stop()
    counts = stats.streams["s"]
    assert counts.blocks_dropped > 0, "a queue of 2 blocks must overflow"
    assert counts.samples_written + counts.samples_dropped == total
    assert counts.samples_written == accepted * 2000
    with h5py.File(tmp_path / "full.h5") as f:
        gaps = f["streams/s/gaps"][:]
        assert len(gaps) == counts.blocks_dropped
        assert np.all(gaps[:, 1] - gaps[:, 0] == 1999)


def test_time_slices_are_lazy_views(tmp_path):
    path = tmp_path / "slices.h5"
    recorder = Recorder(path, [spec("s", 2, rate=100.0)], clock=time.monotonic)
    times = np.arange(1000) / 100.0
    recorder.put("s", np.column_stack([times, -times]).astype("float32"), times)
    recorder.stop()
    view = open_file(path).stream("s")
    data, t = view.between(2.0, 2.05)
    np.testing.assert_allclose(t, [2.0, 2.01, 2.02, 2.03, 2.04])
    np.testing.assert_allclose(data[:, 0], t, rtol=1e-6)
    assert view.index_at(9.995) == 1000 and view.index_at(-1) == 0
    assert view.time_span_s == (0.0, 9.99)


def test_swmr_reader_in_another_process_sees_data_grow(tmp_path):
    path = tmp_path / "growing.h5"
    writer = start_writer(path)
    try:
        read_flushed_until(writer, 200)
        with h5py.File(path, "r", swmr=True) as f:
            data = f["streams/ramp/data"]
            first = data.shape[0]
            assert first >= 200
            deadline = time.monotonic() + 10
            while data.shape[0] <= first and time.monotonic() < deadline:
                time.sleep(0.1)
                data.refresh()
            assert data.shape[0] > first
            assert data[first - 1, 0] == first - 1
    finally:
        writer.kill()
        writer.wait()


def check_ramp(path: Path, at_least: int) -> int:
    with h5py.File(path, "r") as f:  # plain h5py opens the recovered file
        data = f["streams/ramp/data"][:]
        times = f["streams/ramp/time"][:]
        gaps = f["streams/ramp/gaps"][:]
        assert f.attrs["interrupted"]
        n = len(data)
        assert n >= at_least and len(times) == n
        expected = np.arange(n)[:, None] + np.arange(4)[None, :] / 10
        np.testing.assert_allclose(data, expected, rtol=1e-6)
        np.testing.assert_allclose(times, np.arange(n) / 1000)
        # The interruption is no gap with an open end: the recording's end is said in an attribute.
        assert len(gaps) == 0 and np.isfinite(gaps).all()
        if n:
            assert f.attrs["interrupted_at_s"] == times[-1]
            assert f["streams/ramp"].attrs["interrupted_at_s"] == times[-1]
        else:
            assert "interrupted_at_s" not in f.attrs
        labels = [v.decode() for v in f["markers/label"][:]]
        assert labels == [f"m{k}" for k in range(500, 500 * (len(labels) + 1), 500)]
    return n


def test_sigkill_mid_recording_keeps_every_flushed_sample(tmp_path):
    path = tmp_path / "killed.h5"
    writer = start_writer(path)
    flushed = read_flushed_until(writer, 1500)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    with pytest.raises(OSError):
        h5py.File(path, "r")  # the "open for write" flag is still set
    handle = open_file(path)
    assert handle.interrupted and handle.stream("ramp").n_samples >= flushed
    handle.close()
    target, counts = recover(path)
    assert target == tmp_path / "killed-recovered.h5"
    assert counts["ramp"] == check_ramp(target, flushed)


def test_sigkill_before_the_first_flush_still_recovers(tmp_path):
    path = tmp_path / "early.h5"
    writer = start_writer(path, "before-first-flush")
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    target, counts = recover(path, tmp_path / "early-clean.h5")
    assert counts == {"ramp": 0}
    assert check_ramp(target, 0) == 0


def test_bad_files_give_clear_errors(tmp_path):
    text = tmp_path / "notes.h5"
    text.write_text("not hdf5 at all")
    with pytest.raises(StorageError, match="is not an HDF5 file"):
        open_file(text)
    with pytest.raises(StorageError, match="no such file"):
        open_file(tmp_path / "absent.h5")
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = [1, 2, 3]
    with pytest.raises(StorageError, match="not a neuroshell file"):
        open_file(other)
    good = tmp_path / "good.h5"
    recorder = Recorder(good, [spec("s", 8)], clock=time.monotonic)
    recorder.put("s", np.ones((5000, 8), "float32"), np.arange(5000.0))
    recorder.stop()
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    with pytest.raises(StorageError, match=r"ends before HDF5 expects .*: 'recover .*' keeps everything"):
        open_file(truncated)
    with pytest.raises(StorageError, match="exists: choose another name or add --overwrite"):
        open_file(good, "w", clock=time.monotonic)


def test_min_max_overview_summarises_every_block(tmp_path):
    path = tmp_path / "overview.h5"
    recorder = Recorder(path, [spec("s", 3)], clock=time.monotonic)
    data = np.random.default_rng(2).normal(size=(256 * 7 + 100, 3)).astype("float32")
    for start in range(0, len(data), 333):  # blocks that do not line up with the overview's
        recorder.put("s", data[start : start + 333], np.arange(start, min(len(data), start + 333)) / 1000)
    recorder.stop()
    with h5py.File(path) as f:
        stream = f["streams/s"]
        assert stream.attrs["overview_block_samples"] == 256
        whole = data[: 256 * 7].reshape(7, 256, 3)
        np.testing.assert_array_equal(stream["overview_min"][:], whole.min(axis=1))
        np.testing.assert_array_equal(stream["overview_max"][:], whole.max(axis=1))
        np.testing.assert_allclose(stream["overview_time"][:], np.arange(7) * 256 / 1000)
