"""Storage verbs through the dispatcher, on real files."""

import signal
import time

import h5py
import numpy as np

from neuroshell.storage.layout import StreamSpec
from neuroshell.storage.recorder import Recorder
from tests.helpers import read_flushed_until, start_writer


def make_recording(path, seconds=2.0, rate=100.0):
    spec = StreamSpec("meg", ["MEG001", "MEG002"], rate, ["fT", "fT"], source="sim")
    recorder = Recorder(path, [spec], clock=time.monotonic)
    times = np.arange(int(seconds * rate)) / rate
    recorder.put("meg", np.column_stack([times, 2 * times]).astype("float32"), times)
    recorder.mark(0.5, "stim", "sim")
    recorder.stop()
    return path


def test_open_ls_info_files_close(session, tmp_path):
    path = make_recording(tmp_path / "rec.h5")
    assert session.execute(f"open {path}")
    assert "opened" in session.ui.lines[-1] and "1 stream(s): meg" in session.ui.lines[-1]
    assert session.execute("ls")
    tree = session.ui.text
    assert "streams/" in tree and "meg/  (1.990 s)" in tree and "data  [200×2 float32]" in tree
    assert session.execute("info rec.h5:/streams/meg")
    facts = dict(session.ui.results[-1].rows)
    assert facts["@sampling_rate"] == "100" and facts["@channel_names"] == "['MEG001', 'MEG002']"
    assert facts["duration_s"] == "1.99"
    assert session.execute("info rec.h5:/streams/meg/data")
    facts = dict(session.ui.results[-1].rows)
    assert facts["shape"] == "(200, 2)" and facts["compression"] == "none" and facts["chunks"].startswith("(")
    assert session.execute("files")
    assert session.ui.results[-1].rows[0][0] == "rec.h5"
    assert "rec.h5:/streams/meg/data" in session.h5_locations()
    assert session.execute("close rec.h5")
    assert session.files == {}


def test_ls_reads_a_file_that_is_not_open(session, tmp_path):
    path = make_recording(tmp_path / "closed.h5")
    assert session.execute(f"ls {path}:/markers")
    assert "label  [1 |S128]" in session.ui.text
    assert session.files == {}


def test_open_w_creates_and_refuses_to_overwrite(session, tmp_path):
    path = tmp_path / "new.h5"
    assert session.execute(f"open {path} --mode w")
    assert session.execute("close")
    with h5py.File(path) as f:
        assert f.attrs["format"] == "neuroshell" and "markers" in f and "streams" in f
    assert not session.execute(f"open {path} --mode w")
    assert session.ui.errors[-1] == f"{path} exists: choose another name or add --overwrite"
    assert session.execute(f"open {path} --mode w --overwrite")


def test_bad_files_are_one_line_errors(session, tmp_path):
    (tmp_path / "junk.h5").write_text("junk")
    assert not session.execute(f"open {tmp_path / 'junk.h5'}")
    assert session.ui.errors[-1] == f"{tmp_path / 'junk.h5'} is not an HDF5 file"
    assert not session.execute(f"info {tmp_path / 'nope.h5'}:/x")
    assert session.ui.errors[-1] == f"no such file: {tmp_path / 'nope.h5'}"
    path = make_recording(tmp_path / "ok.h5")
    assert not session.execute(f"info {path}:/streams/eeg")
    assert "has no '/streams/eeg'" in session.ui.errors[-1]
    assert not session.execute("close nothing.h5")
    assert "is not open" in session.ui.errors[-1]


def test_recover_verb_writes_a_clean_copy(session, tmp_path):
    path = tmp_path / "crash.h5"
    writer = start_writer(path)
    flushed = read_flushed_until(writer, 300)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    assert session.execute(f"open {path}")
    assert "recording was interrupted" in session.ui.text
    assert not session.execute(f"recover {path}")
    assert "close it first" in session.ui.errors[-1]
    session.execute("close")
    target = tmp_path / "clean.h5"
    assert session.execute(f"recover {path} --to {target}")
    recovered = int(session.ui.results[-2].rows[0][1])
    assert recovered >= flushed
    with h5py.File(target) as f:
        assert f["streams/ramp/data"].shape == (recovered, 4)


def test_the_file_being_recorded_is_not_reopened_by_the_same_session(session, tmp_path):
    path = tmp_path / "live.h5"
    assert session.execute("connect sim --channels 8 --rate 500Hz --seed 1")
    assert session.execute(f"record start {path}")
    assert session.execute("wait 300ms")
    for line in (f"recover {path}", f"open {path}", f"ls {path}"):
        assert not session.execute(line)
        assert session.ui.errors[-1] == (
            f"{path} is being recorded by this session: read it after 'record stop', or from another shell"
        )
    assert session.execute("wait 300ms")
    assert session.execute("record stop")
    assert "0 lost" in session.ui.text and "failed" not in session.ui.text
    with h5py.File(path) as f:
        times = f["streams/sim0/time"][:]
    assert len(times) >= 250 and np.all(np.diff(times) > 0)


def test_info_rounds_to_meaningful_digits(session, tmp_path):
    path = make_recording(tmp_path / "odd.h5", seconds=1.0, rate=999.99)
    assert session.execute(f"info {path}:/streams/meg")
    facts = dict(session.ui.results[-1].rows)
    assert facts["@sampling_rate"] == "999.99"  # not 999.9900000000001
    assert facts["time_span_s"].startswith("(0, 0.99")
