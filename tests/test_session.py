"""The Session and the core verbs, run through the real dispatcher."""

import pytest

from neuroshell.sessions.errors import ScriptError


def test_set_get_unset_are_typed(session):
    assert session.execute("set storage.flush_interval 250ms")
    assert session.settings["storage.flush_interval"] == pytest.approx(0.25)
    assert session.ui.lines[-1] == "storage.flush_interval = 250ms"
    assert not session.execute("set storage.flush_interval 3Hz")
    assert "wrong unit in '3Hz'" in session.ui.errors[-1]
    assert not session.execute("set no.such.key 1")
    assert "unknown setting 'no.such.key'" in session.ui.errors[-1]
    assert session.execute("unset storage.flush_interval")
    assert session.settings["storage.flush_interval"] == 1.0


def test_get_lists_every_setting(session):
    session.execute("get")
    table = session.ui.results[-1]
    assert {row[0] for row in table.rows} >= {"plot.dir", "seed", "torch.threads", "storage.flush_interval"}


def test_help_lists_verbs_and_explains_one(session):
    session.execute("help")
    table = session.ui.results[-1]
    assert len(table.rows) <= 12  # one screen: the areas, each with its commands
    names = ", ".join(row[1] for row in table.rows).split(", ")
    for verb in (
        "help",
        "history",
        "set",
        "get",
        "unset",
        "echo",
        "wait",
        "run",
        "save-history",
        "status",
        "quit",
    ):
        assert verb in names
    session.execute("help wait")
    assert "usage: wait DURATION" in session.ui.lines


def test_history_shows_numbered_commands(session):
    for line in ("echo one", "echo two", "echo three"):
        session.execute(line)
    session.execute("history 2")
    assert session.ui.lines[-2:] == ["    2  echo two", "    3  echo three"]


def test_wait_takes_the_time_it_says(session):
    import time

    start = time.monotonic()
    assert session.execute("wait 120ms")
    assert 0.11 <= time.monotonic() - start < 0.5


def test_script_replay_and_file_line_errors(session, tmp_path):
    script = tmp_path / "setup.nsh"
    script.write_text("# comment\n\nset seed 7\necho ready   # trailing comment\nset seed seven\necho never\n")
    assert not session.execute(f"run {script}")
    assert session.ui.errors[-1] == f"{script}:5: seed: 'seven' is not a whole number"
    assert session.settings["seed"] == 0 and "ready" not in session.ui.lines  # read through first: nothing ran
    script.write_text("# comment\n\nset seed 7\necho ready   # trailing comment\necho ${missing}\necho never\n")
    assert session.run_script(script, keep_going=True) == 1  # line by line: line 5 fails as it comes
    assert session.settings["seed"] == 7 and "ready" in session.ui.lines and "never" in session.ui.lines


def test_a_script_is_read_through_before_it_runs_and_every_problem_is_said(session, tmp_path):
    script = tmp_path / "experiment.nsh"
    lines = ["connect sim --channels 2 --rate 100Hz", "record start ${out}", "simlate 1s", "wait 10sec", "monitor",
             "net save ${out}.json", "net load ${out}.json"]  # fmt: skip
    script.write_text("\n".join(lines) + "\n")
    with pytest.raises(ScriptError) as raised:
        session.run_script(script, params={"out": str(tmp_path / "r.h5"), "seeed": "3"})
    said = [*session.ui.errors, str(raised.value)]
    assert said == [
        f"{script}:3: unknown command 'simlate' (did you mean simulate?): type 'help' for the list of commands",
        f"{script}:4: wait DURATION: unknown unit in '10sec': expected a time (s), e.g. 250ms (did you mean 10s?)",
        f"{script}:5: monitor needs --for in a script: it would run until Ctrl-C",
        f"{script}: parameter seeed is not used by the script (it takes: out)",
    ]
    assert not session.devices and not (tmp_path / "r.h5").exists()  # line 1 and 2 did not run


def test_keep_going_runs_every_line(session, tmp_path):
    script = tmp_path / "s.nsh"
    script.write_text("bogus\necho after\n")
    assert session.run_script(script, keep_going=True) == 1
    assert "after" in session.ui.lines
    assert session.ui.errors[0].startswith(f"{script}:1: unknown command 'bogus'")
    with pytest.raises(ScriptError, match=r":1: unknown command"):
        session.run_script(script)


def test_a_script_that_runs_itself_stops_with_an_error(session, tmp_path):
    script = tmp_path / "loop.nsh"
    script.write_text(f"run {script}\n")
    assert not session.execute(f"run {script}")
    assert "nested more than" in session.ui.errors[-1]


def test_save_history_writes_a_replayable_script(session, tmp_path):
    from neuroshell.sessions import Session
    from tests.helpers import RecordingUI

    session.execute("set seed 11")
    session.execute("set plot.format svg")
    session.execute("set plot.format bmp")  # fails: not saved
    session.execute("help")  # not replayable: not saved
    target = tmp_path / "saved.nsh"
    assert session.execute(f"save-history {target}")
    lines = [line for line in target.read_text().splitlines() if not line.startswith("#")]
    assert lines == ["set seed 11", "set plot.format svg"]
    assert not session.execute(f"save-history {target}")
    assert "--overwrite" in session.ui.errors[-1]

    replay = Session(ui=RecordingUI(), home=session.home)
    assert replay.run_script(target) == 0
    assert replay.settings["seed"] == 11 and replay.settings["plot.format"] == "svg"
    replay.close()


def test_saved_history_replays_a_script_once(session, tmp_path):
    script = tmp_path / "inner.nsh"
    script.write_text("set seed 3\necho inner\n")
    session.execute(f"run {script}")
    session.execute(f"save-history {tmp_path / 'saved.nsh'}")
    lines = [line for line in (tmp_path / "saved.nsh").read_text().splitlines() if not line.startswith("#")]
    assert lines == [f"run {script}"]


def test_status_names_the_log_file(session):
    session.execute("status")
    rows = dict(session.ui.results[-1].rows)
    assert rows["log file"] == str(session.log_path)
    assert session.log_path.exists()


def test_old_session_logs_are_pruned(neuroshell_home):
    from neuroshell.sessions import Session
    from neuroshell.sessions.session import KEPT_LOGS
    from tests.helpers import RecordingUI

    logs = neuroshell_home / "logs"
    logs.mkdir(exist_ok=True)
    for day in range(KEPT_LOGS + 20):
        (logs / f"session-2025{day:04d}-000000-1-0.log").write_text("old\n")
    session = Session(ui=RecordingUI(), home=neuroshell_home)
    session.close()
    kept = sorted(logs.glob("session-*.log"))
    assert len(kept) == KEPT_LOGS + 1 and session.log_path in kept
    assert not (logs / "session-20250000-000000-1-0.log").exists()


def test_quit_requests_the_end(session):
    assert session.execute("exit")
    assert session.quit_requested


def test_internal_errors_are_one_line_and_logged(session):
    from neuroshell.sessions.registry import VerbSet

    verbs = VerbSet("test")

    @verbs.verb("explode", "raise an unexpected error")
    def explode(session, args):
        raise ZeroDivisionError("division by zero")

    verbs.install(session.registry)
    assert not session.execute("explode")
    message = session.ui.errors[-1]
    assert message.startswith("explode failed: ZeroDivisionError: division by zero")
    assert "\n" not in message
    assert "ZeroDivisionError" in session.log_path.read_text()


def test_two_sessions_in_one_process_keep_their_own_logs(neuroshell_home):
    from neuroshell.sessions import Session
    from tests.helpers import RecordingUI

    first = Session(ui=RecordingUI(), home=neuroshell_home / "a")
    second = Session(ui=RecordingUI(), home=neuroshell_home / "b")
    assert first.execute("echo only-in-first") and second.execute("echo only-in-second")
    first.close()
    second.close()
    first_log, second_log = first.log_path.read_text(), second.log_path.read_text()
    assert "only-in-first" in first_log and "only-in-second" not in first_log
    assert "only-in-second" in second_log and "only-in-first" not in second_log
