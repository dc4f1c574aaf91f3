"""The real ``neuroshell`` executable, run as a user runs it."""

import os
import subprocess
import sys
from pathlib import Path

import h5py

EXECUTABLE = Path(sys.executable).with_name("neuroshell")


def neuroshell(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(EXECUTABLE), *args], capture_output=True, text=True, timeout=60, cwd=cwd, env=os.environ.copy()
    )


def test_commands_run_and_exit_zero():
    result = neuroshell("-c", "set seed 3; get seed; echo done")
    assert result.returncode == 0, result.stderr
    assert "seed = 3" in result.stdout
    assert result.stdout.rstrip().endswith("done")


def test_failing_command_exits_one_with_one_line_and_stops():
    result = neuroshell("-c", "echo first; wait 10Hz; echo never")
    assert result.returncode == 1
    assert "first" in result.stdout and "never" not in result.stdout
    assert result.stderr.strip().splitlines() == [
        "error: wait DURATION: wrong unit in '10Hz': expected a time (s), e.g. 250ms"
    ]


def test_usage_errors_exit_two():
    assert neuroshell("--no-such-flag").returncode == 2
    result = neuroshell("missing-script.nsh")
    assert result.returncode == 2
    assert "no such script: missing-script.nsh" in result.stderr


def test_script_replays_and_reports_file_and_line(tmp_path):
    script = tmp_path / "experiment.nsh"
    script.write_text("# set up\nset seed 4\n\necho configured\nset plot.format bmp\necho unreachable\n")
    result = neuroshell(str(script))
    assert result.returncode == 1
    assert "configured" not in result.stdout and "unreachable" not in result.stdout  # read through: nothing ran
    assert f"error: {script}:5: plot.format: 'bmp' is not one of: png, svg, pdf" in result.stderr
    assert "Traceback" not in result.stderr


def test_keep_going_finishes_the_script(tmp_path):
    script = tmp_path / "s.nsh"
    script.write_text("nonsense\necho still here\n")
    result = neuroshell("--keep-going", str(script))
    assert result.returncode == 1
    assert "still here" in result.stdout
    assert f"{script}:1: unknown command 'nonsense'" in result.stderr


def test_a_good_script_exits_zero(tmp_path):
    script = tmp_path / "ok.nsh"
    script.write_text("set seed 1\necho fine\n")
    result = neuroshell(str(script))
    assert result.returncode == 0 and "fine" in result.stdout


def test_no_colour_codes_in_pipes():
    result = neuroshell("-c", "help; get; wait 1Hz")
    assert result.returncode == 1  # the last command fails, after the first two printed their tables
    assert "record start" in result.stdout and "plot.format" in result.stdout
    assert result.stderr.strip() == "error: wait DURATION: wrong unit in '1Hz': expected a time (s), e.g. 250ms"
    assert "\x1b[" not in result.stdout and "\x1b[" not in result.stderr


def test_debug_shows_the_traceback(tmp_path):
    script = tmp_path / "deep.nsh"
    script.write_text(f"run {script}\n")
    plain = neuroshell("-c", f"run {script}")
    debug = neuroshell("--debug", "-c", f"run {script}")
    assert "Traceback" not in plain.stderr and "nested more than" in plain.stderr
    assert "Traceback" in debug.stderr


def test_start_up_imports_no_heavy_library():
    code = (
        "import sys; from neuroshell.cli.app import main; main(['-c', 'help']);"
        "print(sorted(m for m in ('torch', 'numba', 'matplotlib', 'h5py', 'numpy', 'snntorch', 'pylsl')"
        " if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_our_neuron_folder_does_not_shadow_neuron(tmp_path):
    code = "import importlib.util; spec = importlib.util.find_spec('neuron'); print(spec and spec.origin)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.stdout.strip() == "None"
    code = "import neuroshell.neuron, os; print(os.path.basename(os.path.dirname(neuroshell.neuron.__file__)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.stdout.strip() == "neuron", result.stderr


def test_non_editable_wheel_holds_every_subpackage(tmp_path):
    root = Path(__file__).resolve().parents[1]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(root),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("neuroshell-*.whl"))
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    engines = ("neuron", "neuron/kernels", "devices", "storage", "training", "formats", "sweeps", "filters", "decoding")
    for package in ("cli", "sessions", *engines):
        assert (target / "neuroshell" / package / "__init__.py").is_file()
    assert not (target / "neuron").exists()
    shipped = (target / "neuroshell" / "sessions" / "demo.nsh").read_text()
    assert shipped == (root / "examples" / "demo.nsh").read_text()  # `neuroshell demo` works when installed
    code = "import neuroshell.sessions.registry as r; print(r.__file__)"
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {code}"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.stdout.strip().startswith(str(target)), result.stderr


def test_version_and_empty_tables_say_one_line():
    from importlib.metadata import version

    result = neuroshell("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"neuroshell {version('neuroshell')}"
    result = neuroshell("-c", "devices; files; datasets; models")
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "no devices connected (connect sim, connect serial, connect lsl)",
        "no files open",
        "no datasets in this session (dataset epochs, dataset spikes)",
        "no models in this session or in models.dir (models): train DATASET",
    ]


def test_shell_habits_cd_pwd_and_system_commands(tmp_path):
    (tmp_path / "inside").mkdir()
    result = neuroshell("-c", f"cd {tmp_path / 'inside'}; pwd; !echo from-the-system; !exit 3; echo never")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [f"now in {tmp_path / 'inside'}", str(tmp_path / "inside"), "from-the-system"]
    assert result.stderr.strip() == "error: !exit 3 exited with status 3"


def test_a_pasted_huge_argument_is_elided_in_errors():
    result = neuroshell("-c", "wait " + "9" * 3000 + "x")
    line = result.stderr.strip()
    assert result.returncode == 1 and "\n" not in line
    assert len(line) < 300 and "characters) …" in line


def test_leaving_says_what_it_stopped(tmp_path):
    path = tmp_path / "left.h5"
    result = neuroshell("-c", f"connect sim --channels 4 --rate 100Hz; record start {path}; wait 300ms")
    assert result.returncode == 0
    *_, stopped, disconnected = result.stdout.splitlines()
    assert stopped.startswith(f"warning: stopped the recording on leaving: recorded {path}: ")
    assert disconnected == "disconnected sim0"
    with h5py.File(path) as f:  # closed cleanly: plain h5py opens it
        assert f["streams/sim0/time"].shape[0] > 0


def test_typos_get_a_close_match(tmp_path):
    cases = {
        "simulte 1s": "error: unknown command 'simulte' (did you mean simulate?): type 'help' for the list of commands",
        "plot traces x.h5:/streams/a --chanels 0:4": "error: plot traces: unknown option --chanels (did you mean "
        "--channels?) (options: --channels, --from, --to)",
        "net add x --n 3 --model lfi": "error: net add --model: 'lfi' is not one of: lif, adex, izh, poisson "
        "(did you mean lif?)",
        "net example cuba --n 100; net connect exc inhh --rule p=0.1 --w 1mV": "error: no population 'inhh' (did you "
        "mean inh?) (populations: exc, inh)",
    }
    for line, expected in cases.items():
        result = neuroshell("-c", line)
        assert result.returncode == 1 and result.stderr.strip() == expected, result.stderr


def test_a_name_given_is_the_name_used_and_never_silently_replaced(tmp_path):
    net = "net example cuba --n 200"
    first = neuroshell("-c", f"{net}; simulate 50ms --to r.h5 --run base", cwd=tmp_path)
    assert first.returncode == 0 and "wrote r.h5:/simulations/base" in first.stdout
    again = neuroshell("-c", f"{net}; simulate 50ms --to r.h5 --run base --seed 2", cwd=tmp_path)
    assert again.returncode == 1
    assert again.stderr.strip() == "error: r.h5 already holds a run 'base': choose another --run, or add --overwrite"
    replaced = neuroshell("-c", f"{net}; simulate 50ms --to r.h5 --run base --seed 2 --overwrite", cwd=tmp_path)
    assert replaced.returncode == 0 and "wrote r.h5:/simulations/base" in replaced.stdout
    with h5py.File(tmp_path / "r.h5") as f:
        assert list(f["simulations"]) == ["base"] and f["simulations/base"].attrs["seed"] == 2


def test_plots_without_a_target_take_the_latest_result_and_say_which(tmp_path):
    script = (
        "net example cuba --n 200; set plot.show off; simulate 50ms --to r.h5; simulate 50ms --to r.h5; plot raster"
    )
    result = neuroshell("-c", script, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "wrote r.h5:/simulations/run2" in result.stdout
    assert result.stdout.rstrip().endswith("(the latest: r.h5:/simulations/run2)")
    nothing = neuroshell("-c", "plot raster", cwd=tmp_path)
    assert nothing.stderr.strip() == (
        "error: no simulation run made in this session yet: give one, or make one with simulate DURATION --to FILE"
    )


def test_derived_data_never_goes_into_the_raw_recording(tmp_path):
    from tests.helpers import helmet_recording

    recording = helmet_recording(tmp_path / "raw.h5", seconds=40, channels=4, seed=1)
    before = recording.read_bytes()
    result = neuroshell("-c", "dataset epochs raw.h5:/streams/meg --name ep", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"stored in {Path('raw-datasets.h5')}:/datasets/ep" in result.stdout
    assert recording.read_bytes() == before
    with h5py.File(tmp_path / "raw-datasets.h5") as f:
        assert f["datasets/ep/X"].shape[1] == 4


def test_piped_output_keeps_lines_whole():
    words = " ".join(f"word{i}" for i in range(80))  # about 550 characters
    result = neuroshell("-c", f"echo {words}")
    assert result.stdout.splitlines() == [words]


def test_every_recording_ends_with_one_summary(tmp_path):
    result = neuroshell(
        "-c",
        "connect sim --channels 4 --rate 100Hz; record start a.h5 --for 500ms; wait 1s; "
        "record start b.h5; wait 300ms; mark stim/x; record stop",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    summaries = [line for line in result.stdout.splitlines() if line.startswith("recorded 0 min ")]
    assert len(summaries) == 2, result.stdout
    timed, stopped = summaries
    assert " to a.h5 (" in timed and "sim0 " in timed and " samples (0 lost); " in timed and timed.endswith(" gaps")
    assert " to b.h5 (" in stopped and int(stopped.split("; ")[-2].split()[0]) >= 1  # the typed marker at least
    with h5py.File(tmp_path / "a.h5") as f:
        written = f["streams/sim0/time"].shape[0]
    assert f"sim0 {written} samples (0 lost)" in timed


def test_times_read_as_time_into_the_recording_and_wall_clock_on_request(tmp_path):
    import re
    from datetime import datetime

    result = neuroshell(
        "-c",
        "connect sim --channels 2 --rate 100Hz; record start w.h5; wait 200ms; mark go --wall; record stop; "
        "info w.h5:/streams/sim0",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    marked = re.search(r"marker go at t=(\d+\.\d{3}) s into w\.h5 \((\S+ \S+) \S+\)", result.stdout)
    assert marked and 0.15 < float(marked.group(1)) < 2.0
    wall = datetime.strptime(marked.group(2), "%Y-%m-%d %H:%M:%S.%f")
    assert abs((datetime.now() - wall).total_seconds()) < 30
    assert "starts (wall clock)" in result.stdout and "ends (wall clock)" in result.stdout
