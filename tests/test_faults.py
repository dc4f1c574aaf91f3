"""The faults a long experiment meets, on real parts: real neuroshell processes, the simulated helmet on a
pseudo-terminal, a real file-size limit, SIGKILL, HDF5 files read back."""

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from neuroshell.devices.base import wait_until
from neuroshell.storage.errors import StorageError
from neuroshell.storage.files import open_file
from neuroshell.storage.locks import ensure_not_recorded, lock_path
from neuroshell.storage.recorder import Recorder
from neuroshell.storage.recovery import recover
from neuroshell.storage.spec import StreamSpec

EXECUTABLE = Path(sys.executable).with_name("neuroshell")
ENVIRONMENT = {**os.environ, "PYTHONUNBUFFERED": "1"}


def neuroshell(*args: str, timeout: float = 60, **options) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(EXECUTABLE), *args], capture_output=True, text=True, timeout=timeout, env=ENVIRONMENT, **options
    )


def test_a_script_never_waits_for_a_ctrl_c(tmp_path):
    started = time.monotonic()
    result = neuroshell("-c", "connect sim --channels 4; monitor; echo never", timeout=30)
    assert result.returncode == 1 and "never" not in result.stdout
    assert "error: monitor needs --for in a script: it would run until Ctrl-C" in result.stderr
    script = tmp_path / "forever.nsh"
    script.write_text("wait 1e999s\n")
    result = neuroshell(str(script), timeout=30)
    assert result.returncode == 1
    assert f"{script}:1: wait DURATION: '1e999s' is too large: give a finite number" in result.stderr
    result = neuroshell("-c", "connect sim --channels 4; monitor --for 1s; echo ended", timeout=30)
    assert result.returncode == 0 and result.stdout.splitlines()[-2:] == ["ended", "disconnected sim0"]
    assert time.monotonic() - started < 25


def test_a_session_refuses_endless_verbs_in_scripts_but_not_at_the_prompt(session, tmp_path):
    script = tmp_path / "s.nsh"
    script.write_text("monitor\n")
    session.interactive = True
    assert not session.execute(f"run {script}")
    assert session.ui.errors[-1].endswith("monitor needs --for in a script: it would run until Ctrl-C")
    assert not session.execute("monitor")  # at the prompt it is allowed: it fails only for want of a device
    assert session.ui.errors[-1].startswith("no devices connected")


def limit_file_size(limit_bytes: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return apply


def test_a_full_disk_stops_the_recording_cleanly_and_the_shell_goes_on(tmp_path):
    path, limit = tmp_path / "full.h5", 6_000_000
    commands = (
        f"connect sim --channels 128 --rate 4kHz; record start {path}; wait 5s; devices; record status; echo alive"
    )
    result = neuroshell("-c", commands, preexec_fn=limit_file_size(limit))
    assert result.returncode == 0, result.stderr
    assert "reached this process's file-size limit (6 MB): recording stopped" in result.stderr
    assert "devices stay connected" in result.stderr and "Traceback" not in result.stderr
    assert "stopped by a fault" in result.stdout and result.stdout.splitlines()[-2:] == ["alive", "disconnected sim0"]
    device_row = next(line for line in result.stdout.splitlines() if "sim0" in line and "streaming" in line)
    received = int(device_row.split("│")[5])
    # the file closed cleanly: plain h5py opens it, and every sample written is there, in order
    assert path.stat().st_size <= limit and not lock_path(path).exists()
    with h5py.File(path) as f:
        times = f["streams/sim0/time"][:]
        assert f["streams/sim0/data"].shape == (len(times), 128)
    assert 4000 < len(times) < received
    assert np.diff(times).min() > 0


def test_a_second_neuroshell_cannot_write_a_file_being_recorded(session, tmp_path):
    path = tmp_path / "shared.h5"
    assert session.execute("connect sim --channels 8")
    assert session.execute(f"record start {path}")
    assert wait_until(lambda: session.recording.stats().streams["sim0"].samples_written >= 100, 5)
    for command in (
        f"connect sim --channels 8; record start {path} --overwrite",
        f"open {path} --mode w --overwrite",
        f"open {path} --mode a",
    ):
        result = neuroshell("-c", command)
        assert result.returncode == 1, command
        assert f"{path} is being recorded by neuroshell (pid {os.getpid()}" in result.stderr, result.stderr
    assert session.execute("record stop")
    with h5py.File(path) as f:
        times = f["streams/sim0/time"][:]
        assert len(f["streams/sim0/gaps"]) == 0
    assert np.diff(times).min() > 0
    assert abs((times[-1] - times[0]) * 1000 - (len(times) - 1)) <= 0.005 * len(times) + 1  # none missing
    assert len(times) > 1000 and not lock_path(path).exists()


def test_sigkill_at_random_points_always_recovers_a_clean_file(tmp_path):
    rng = np.random.default_rng(12)
    marks = "; ".join(f"mark m{i}; wait 30ms" for i in range(100))
    for trial in range(10):
        path = tmp_path / f"kill{trial}.h5"
        command = f"connect sim --channels 16 --isi 100ms:300ms; record start {path}; {marks}"
        process = subprocess.Popen(
            [str(EXECUTABLE), "-c", command],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=ENVIRONMENT,
        )
        while "recording sim0" not in (line := process.stdout.readline()):
            assert line, "neuroshell ended before it started recording"
        time.sleep(rng.uniform(0.0, 1.5))
        process.send_signal(signal.SIGKILL)
        process.communicate()
        ensure_not_recorded(path)  # the claim died with the process
        target, counts = recover(path, tmp_path / f"kill{trial}-clean.h5")
        check_recovered(target, counts["sim0"])


def check_recovered(path: Path, n: int) -> None:
    with h5py.File(path) as f:
        data, times = f["streams/sim0/data"][:], f["streams/sim0/time"][:]
        assert len(times) == n and len(data) == n and f.attrs["interrupted"]
        marker_times = f["markers/time"][:]
        labels = [label.decode() for label in f["markers/label"][:]]
        if n:
            assert f.attrs["interrupted_at_s"] == times[-1]
    if n:
        assert np.diff(times).min() > 0
        assert len(np.unique(data, axis=0)) == n  # no sample twice
        assert abs((times[-1] - times[0]) * 1000 - (n - 1)) <= 0.005 * n + 1  # and none missing
    assert np.all(np.diff(marker_times) >= 0)
    typed = [int(label[1:]) for label in labels if label.startswith("m")]
    assert typed == list(range(len(typed)))


def test_integer_counts_are_read_in_their_unit_and_replayed_as_counts(session, tmp_path):
    path = tmp_path / "counts.h5"
    spec = StreamSpec("adc", ["a", "b"], 1000.0, ["uV", "uV"], dtype="int32", scale=[0.5, 2.0], offset=10.0)
    recorder = Recorder(path, [spec], clock=time.monotonic)
    counts = np.column_stack([np.arange(3000), -np.arange(3000)]).astype(np.int32)
    times = 5.0 + np.arange(3000) / 1000.0
    recorder.put("adc", counts, times)
    for k, onset in enumerate(np.arange(5.2, 7.6, 0.3)):
        recorder.mark(onset, f"stim/{'xy'[k % 2]}", "test")
    recorder.stop()
    unit = counts * np.array([0.5, 2.0]) + 10.0
    handle = open_file(path)
    np.testing.assert_array_equal(handle.stream("adc").between()[0], unit)
    handle.close()
    assert session.execute(f"dataset epochs {path}:/streams/adc --window 0s:100ms --split 1,0,0 --name counts")
    epochs = session.datasets["counts"].X
    assert len(epochs) == 8
    for epoch in epochs:  # each epoch is the stream in microvolts from its marker on
        first = round((epoch[0, 0] - 10.0) / 0.5)
        np.testing.assert_array_equal(epoch, unit[first : first + 100].T)
    replayed = tmp_path / "replayed.h5"
    assert session.execute(f"connect replay {path}:/streams/adc --name again")
    assert session.execute(f"record start {replayed}")
    assert wait_until(lambda: session.recording.stats().streams["again"].samples_written >= 100, 5)
    assert session.execute("record stop")
    with h5py.File(replayed) as f:
        stream = f["streams/again"]
        assert stream["data"].dtype == np.int32
        np.testing.assert_array_equal(stream.attrs["scale"], [0.5, 2.0])
        assert stream.attrs["offset"] == 10.0
        assert set(stream["data"][:, 0]) <= set(counts[:, 0])


FAILING_WRITER = """
import sys, time, numpy as np
from neuroshell.storage.layout import create_file, create_stream
from neuroshell.storage.rows import append_rows
from neuroshell.storage.spec import StreamSpec
handle = create_file(sys.argv[1], time.monotonic)
group = create_stream(handle, StreamSpec("ramp", [f"c{c}" for c in range(64)], 1000.0))
handle.swmr_mode = True
written = 0
try:
    while True:
        block = np.arange(written, written + 100)
        append_rows(group["data"], (block[:, None] + np.zeros(64)).astype(np.float32))
        append_rows(group["time"], block / 1000.0)
        written += 100
        if written % 500 == 0:
            handle.flush()
            print("flushed", written, flush=True)
except Exception as error:
    print("failed", type(error).__name__, flush=True)
    handle.close()  # HDF5 records the end of the space it had allocated, beyond what reached the disk
"""


def test_a_recording_whose_last_write_failed_is_recovered_up_to_the_disk(tmp_path):
    path = tmp_path / "cut.h5"
    result = subprocess.run(
        [sys.executable, "-c", FAILING_WRITER, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=limit_file_size(3_000_000),
    )
    lines = result.stdout.split("\n")
    assert any(line.startswith("failed") for line in lines), result.stdout + result.stderr
    flushed = max(int(line.split()[1]) for line in lines if line.startswith("flushed"))
    assert _plain_open_fails(path)  # HDF5 alone refuses it: "truncated file"
    with pytest.raises(StorageError, match="ends before HDF5 expects"):
        open_file(path)
    size = path.stat().st_size
    target, counts = recover(path, tmp_path / "cut-clean.h5")
    assert path.stat().st_size == size
    with h5py.File(target) as f:
        data, times = f["streams/ramp/data"][:], f["streams/ramp/time"][:]
    assert counts["ramp"] >= flushed
    np.testing.assert_array_equal(data, np.arange(len(data))[:, None] + np.zeros((1, 64), np.float32))
    np.testing.assert_array_equal(times, np.arange(len(times)) / 1000.0)


def _plain_open_fails(path: Path) -> bool:
    try:
        h5py.File(path, "r").close()
    except OSError:
        return True
    return False
