"""Device verbs through the dispatcher: connect, devices, record, mark, monitor, replay, disconnect."""

import re

import h5py
import numpy as np
import pytest

from neuroshell.devices.base import wait_until
from neuroshell.storage.files import open_file
from tests.helpers import FakePort, flat_and_saturated_board


def test_record_the_simulated_helmet_with_marks(session, tmp_path):
    path = tmp_path / "session.h5"
    assert session.execute("connect sim --channels 32 --rate 500Hz --seed 2")
    assert session.ui.lines[-1] == "connected sim0 (sim/serial): 32 channels at 500 Hz"
    assert session.execute(f"record start {path}")
    assert ("rec", f"{path.name} 0s", "warn") in session.facts()
    assert session.execute("wait 700ms")
    assert session.execute("mark button/press")
    assert session.execute("wait 700ms")
    assert session.execute("record status")
    assert "samples written" in session.ui.text
    assert session.execute("record stop")
    assert session.execute("devices")
    row = session.ui.results[-1].rows[0]
    assert row[:4] == ("sim0", "sim/serial", 32, "500") and row[7] == "streaming"
    with h5py.File(path) as f:
        times = f["streams/sim0/time"][:]
        assert f["streams/sim0/data"].shape[1] == 32
        labels = [v.decode() for v in f["markers/label"][:]]
        sources = [v.decode() for v in f["markers/source"][:]]
        when = f["markers/time"][:]
    assert len(times) > 500
    assert "button/press" in labels and sources[labels.index("button/press")] == "command"
    assert all(s == "sim0" for s, label in zip(sources, labels, strict=True) if label.startswith("stim/"))
    assert np.all((when >= times[0]) & (when <= times[-1]))
    assert session.execute("disconnect all")
    assert session.devices == {}


def test_record_for_a_duration_stops_by_itself(session, tmp_path):
    session.execute("connect sim --channels 4 --rate 200Hz")
    assert session.execute(f"record start {tmp_path / 'early.h5'} --for 200ms") and session.execute("wait 400ms")
    assert session.execute(f"record start {tmp_path / 'short.h5'} --for 300ms")
    assert wait_until(lambda: not session.recording.running, 3)
    # ended by itself, it is the latest recording, as one ended by `record stop` would be
    assert session.execute(f"set plot.dir {tmp_path}") and session.execute("plot traces"), session.ui.errors
    assert f"(the latest: {tmp_path / 'short.h5'}:/streams/sim0)" in session.ui.text
    assert not session.execute("mark late")
    assert session.ui.errors[-1] == "not recording: 'record start FILE' first"
    session.execute("record stop")
    with h5py.File(tmp_path / "short.h5") as f:
        n = f["streams/sim0/time"].shape[0]
    assert 30 <= n <= 120


def test_a_fast_replay_is_not_recorded_and_a_real_time_one_keeps_its_time(session, tmp_path):
    original = tmp_path / "original.h5"
    session.execute("connect sim --channels 8 --rate 250Hz --seed 4")
    session.execute(f"record start {original} --for 1s")
    assert wait_until(lambda: not session.recording.running, 4)
    session.execute("record stop")
    session.execute("disconnect sim0")
    assert session.execute(f"connect replay {original}:/streams/sim0 --speed 4")
    replayed = tmp_path / "replayed.h5"
    assert not session.execute(f"record start {replayed}")
    assert session.ui.errors[-1].startswith("replay0 replays at 4x real time: recorded, its samples would lie 1/4")
    assert session.recording is None and not replayed.exists()
    session.execute("disconnect replay0")
    assert session.execute(f"connect replay {original}:/streams/sim0")
    session.execute(f"record start {replayed}")
    assert wait_until(lambda: session.devices["replay0"].state == "finished", 5)
    session.execute("record stop")
    with h5py.File(original) as a, h5py.File(replayed) as b:
        played = b["streams/replay0/data"][:]
        # Replay starts at connect; the recording catches all that played after it started.
        assert len(played) >= 200
        np.testing.assert_array_equal(played, a["streams/sim0/data"][-len(played) :])
        t_a, t_b = a["streams/sim0/time"][-len(played) :], b["streams/replay0/time"][:]
        np.testing.assert_allclose(t_b - t_b[0], t_a - t_a[0], atol=1e-9)  # samples stay 1/rate apart
        original_markers = [
            (t, v.decode()) for t, v in zip(a["markers/time"][:], a["markers/label"][:], strict=True) if t >= t_a[0]
        ]
        replayed_markers = [(t, v.decode()) for t, v in zip(b["markers/time"][:], b["markers/label"][:], strict=True)]
        assert [label for _, label in replayed_markers] == [label for _, label in original_markers]
        for (t_orig, _), (t_play, _) in zip(original_markers, replayed_markers, strict=True):
            assert t_play - t_b[0] == pytest.approx(t_orig - t_a[0], abs=1e-6)


def test_monitor_flags_flat_and_saturated_channels(session):
    port = FakePort()
    feeder = flat_and_saturated_board(port)
    try:
        assert session.execute(f"connect serial {port.path} --protocol csv --rate 250Hz --name board")
        assert wait_until(lambda: session.devices["board"].samples_received > 300, 5)
        assert session.execute("monitor board --for 300ms")
    finally:
        feeder.stop()
    tables = [r for r in session.ui.results if getattr(r, "columns", None) == ("channel", "RMS", "flag")]
    flags = {row[0]: row[2] for row in tables[-1].rows}
    assert flags == {"ch001": "flat", "ch002": "saturated", "ch000": ""}
    summary = [r for r in session.ui.results if getattr(r, "columns", ("",))[0] == "device"][-1].rows[0]
    assert summary[0] == "board" and summary[6] == 2


def test_device_errors_are_one_line(session, tmp_path):
    assert not session.execute("connect serial /dev/no-such-tty")
    assert session.ui.errors[-1] == "serial0: cannot open serial port /dev/no-such-tty: no such port"
    assert not session.execute("connect lsl name=nothing-here --timeout 200ms")
    assert session.ui.errors[-1] == "no LSL stream matching name='nothing-here' found within 0.2 s (see 'lsl streams')"
    assert not session.execute("connect lsl colour=red")
    assert "unknown property colour" in session.ui.errors[-1]
    assert not session.execute(f"record start {tmp_path / 'x.h5'}")
    assert session.ui.errors[-1] == "no devices connected: connect one first (e.g. connect sim)"
    assert not session.execute("monitor")
    assert not session.execute("disconnect ghost")
    assert session.ui.errors[-1] == "no device called ghost (devices: none)"
    session.execute(f"open {tmp_path / 'taken.h5'} --mode w")
    session.execute("connect sim --channels 2 --rate 100Hz")
    assert not session.execute(f"record start {tmp_path / 'taken.h5'} --overwrite")
    assert "is open in this session: close it first" in session.ui.errors[-1]
    assert not session.execute("connect sim --rate 10ms")
    assert "wrong unit in '10ms': expected a frequency (Hz)" in session.ui.errors[-1]


def test_a_marker_label_of_any_length_is_kept_whole(session, tmp_path):
    long_label = "stimulus: " + "é€x" * 330  # 1000 characters, 2320 bytes of UTF-8
    assert session.execute("connect sim --channels 4 --rate 100Hz")
    assert session.execute(f"record start {tmp_path / 'm.h5'}")
    assert session.execute("mark short")
    assert session.execute(f"mark '{long_label}'")
    assert session.execute("record stop")
    file = open_file(tmp_path / "m.h5")
    _, labels, _ = file.markers()
    file.close()
    typed = [label for label in labels if not label.startswith("stim/")]
    assert typed == ["short", long_label]
    with h5py.File(tmp_path / "m.h5") as f:  # a plain reader of the column gets whole characters
        prefixes = [v.decode("utf-8") for v in f["markers/label"][:]]
    assert long_label[:40] in [p[:40] for p in prefixes]


def test_monitor_says_how_many_channels_it_leaves_out(session):
    assert session.execute("connect sim --channels 32 --rate 200Hz --isi 100ms:200ms")
    assert wait_until(lambda: session.devices["sim0"].markers_received > 2, 5)
    assert session.execute("monitor --for 300ms")
    table = [r for r in session.ui.results if getattr(r, "columns", None) == ("channel", "RMS", "flag")][-1]
    assert len(table.rows) == 13 and table.rows[-1] == ("+20 more", "", "not flagged")
    ages = [line for line in session.ui.lines if line.startswith("marker stim/")]
    assert ages and all(re.fullmatch(r"marker stim/\w+ \d+\.\d s ago", line) for line in ages)


def test_typed_markers_say_where_they_were_typed(session, tmp_path):
    path, script = tmp_path / "where.h5", tmp_path / "marks.nsh"
    script.write_text("mark from/script\n")
    assert session.execute("connect sim --channels 4 --rate 100Hz --isi 100ms:200ms")
    assert session.execute(f"record start {path}")
    stimuli_before = session.devices["sim0"].markers_received
    assert session.execute("mark from/command")
    seconds_in = float(session.ui.lines[-1].split("t=")[1].split(" s")[0])
    assert session.ui.lines[-1].endswith(" s into where.h5") and 0 <= seconds_in < 5  # not the machine's uptime
    assert session.execute(f"run {script}")
    session.interactive = True
    assert session.execute("mark from/prompt")
    assert wait_until(lambda: session.devices["sim0"].markers_received > stimuli_before, 5)  # the helmet's
    assert session.execute("record stop")
    with h5py.File(path) as f:
        labels, sources = f["markers/label"][:], f["markers/source"][:]
        pairs = {(label.decode(), source.decode()) for label, source in zip(labels, sources, strict=True)}
    assert {("from/command", "command"), ("from/script", "script"), ("from/prompt", "prompt")} <= pairs
    assert any(label.startswith("stim/") and source == "sim0" for label, source in pairs)  # the helmet's own
