"""The real PromptSession, driven through prompt-toolkit's pipe input."""

import threading

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from neuroshell.cli.completer import CommandCompleter
from neuroshell.cli.interrupts import InterruptRouter
from neuroshell.cli.shell import build_prompt, run_shell
from neuroshell.devices.base import wait_until


def completions(session, text):
    completer = CommandCompleter(session)
    return [c.text for c in completer.get_completions(Document(text, len(text)), CompleteEvent())]


@pytest.fixture
def pipe():
    with create_pipe_input() as pipe_input, create_app_session(input=pipe_input, output=DummyOutput()):
        yield pipe_input


def test_completes_verbs_options_choices_and_settings(session, tmp_path):
    assert completions(session, "sa") == ["save-history"]
    assert set(completions(session, "")) >= {"help", "set", "run", "quit", "exit"}
    assert completions(session, "run --k") == ["--keep-going"]
    assert completions(session, "set plot.f") == ["plot.format"]
    assert completions(session, "set plot.format ") == ["png", "svg", "pdf"]
    assert completions(session, "set color o") == ["on", "off"]
    assert completions(session, "help hi") == ["history"]
    assert completions(session, "echo a; he") == ["help"]


def test_completes_file_paths(session, tmp_path, monkeypatch):
    (tmp_path / "experiment.nsh").write_text("echo hi\n")
    monkeypatch.chdir(tmp_path)
    # prompt-toolkit's path completer inserts the rest of the name after what was typed.
    assert completions(session, "run exp") == ["eriment.nsh"]


def test_completes_paths_with_spaces_escaped_as_the_command_line_reads_them(session, tmp_path, monkeypatch):
    (tmp_path / "day one").mkdir()
    (tmp_path / "day one" / "block #2.nsh").write_text("echo hi\n")
    monkeypatch.chdir(tmp_path)
    assert completions(session, "run day") == ["day\\ one"]
    assert completions(session, "run day\\ one/bl") == ["day\\ one/block\\ \\#2.nsh"]
    assert completions(session, 'run "day one/bl') == ["day\\ one/block\\ \\#2.nsh"]  # a quoted start too
    _, args = session.registry.parse("run " + completions(session, "run day\\ one/b")[0])
    assert str(args.file) == "day one/block #2.nsh"


def type_when_shown(pipe, prompt, *steps: tuple[str, str]):
    """Type each chunk once the prompt's line reads what it must (event-driven: the line is the prompt's
    own state, so completion that runs in the background has caught up by then)."""

    def shows(text: str) -> bool:
        return prompt.app.is_running and prompt.app.current_buffer.text == text

    def typist():
        for expected, chunk in steps:
            assert wait_until(lambda expected=expected: shows(expected), 10, 0.005), (expected, chunk)
            pipe.send_text(chunk)

    thread = threading.Thread(target=typist, daemon=True)
    thread.start()
    return thread


def test_tab_completes_in_the_real_prompt(session, pipe):
    prompt = build_prompt(session)
    typist = type_when_shown(pipe, prompt, ("", "save-hi"), ("save-hi", "\t"), ("save-history", "\r"))
    assert prompt.prompt() == "save-history"
    typist.join()
    typist = type_when_shown(  # Tab takes the first choice
        pipe, prompt, ("", "set plot.format "), ("set plot.format ", "\t"), ("set plot.format png", "\r")
    )
    assert prompt.prompt().strip() == "set plot.format png"
    typist.join()


def test_commands_run_and_land_in_the_history_file(session, pipe):
    prompt = build_prompt(session)
    pipe.send_text("set seed 9\recho hello\rquit\r")
    assert run_shell(session, prompt) == 0
    assert session.settings["seed"] == 9
    assert "hello" in session.ui.lines
    history = (session.home / "history").read_text()
    assert "+set seed 9" in history and "+echo hello" in history


def test_a_typed_line_runs_its_commands_in_turn_up_to_the_first_failing_one(session, pipe):
    prompt = build_prompt(session)
    pipe.send_text("set seed 9; echo 'a;b'; bogus; echo never\rquit\r")
    assert run_shell(session, prompt) == 0
    assert session.settings["seed"] == 9 and "a;b" in session.ui.lines and "never" not in session.ui.lines
    assert session.ui.errors[-1].startswith("unknown command 'bogus'")


def test_up_arrow_recalls_the_previous_command(session, pipe):
    prompt = build_prompt(session)
    pipe.send_text("echo again\r")
    assert prompt.prompt() == "echo again"
    pipe.send_text("\x1b[A\r")  # Up, Enter
    assert prompt.prompt() == "echo again"


def test_ctrl_r_searches_the_history(session, pipe):
    prompt = build_prompt(session)
    for line in ("set seed 42", "echo one", "echo two"):
        pipe.send_text(line + "\r")
        prompt.prompt()
    pipe.send_text("\x12seed\r\r")  # Ctrl-R, type, accept the match, submit
    assert prompt.prompt() == "set seed 42"


def test_ctrl_c_drops_the_line_and_the_shell_goes_on(session, pipe):
    prompt = build_prompt(session)
    pipe.send_text("echo half-typed\x03echo kept\rquit\r")
    assert run_shell(session, prompt) == 0
    assert "kept" in session.ui.lines
    assert "half-typed" not in session.ui.text


def test_a_sigint_as_the_prompt_finishes_cancels_the_command_just_entered(session, pipe):
    """The terminal gives Ctrl-C back as SIGINT a few ms before prompt() returns: that Ctrl-C is the command's."""
    import signal
    import time

    prompt = build_prompt(session)
    router = InterruptRouter(session, prompt)
    with router.installed(), router.at_prompt():
        signal.raise_signal(signal.SIGINT)  # no prompt is waiting for input: the line was already entered
    assert session.interrupt_pending
    started = time.monotonic()
    assert session.execute("wait 5s") is False
    assert time.monotonic() - started < 1
    assert session.ui.errors[-1] == "interrupted: wait cancelled; nothing kept"
    assert session.execute("echo next") and session.ui.lines[-1] == "next"  # only that command was cancelled
    with router.installed(), pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)  # while a command runs: it is cancelled at once


def test_ctrl_d_leaves(session, pipe):
    prompt = build_prompt(session)
    pipe.send_text("echo before\r\x04")
    assert run_shell(session, prompt) == 0
    banner, *shown = session.ui.lines
    assert banner.startswith("neuroshell ") and shown == ["before"]


def test_toolbar_and_lexer(session):
    from pygments.token import Comment, Keyword, Name, Number

    from neuroshell.cli.lexer import command_lexer
    from neuroshell.cli.toolbar import toolbar_text

    assert "help lists commands" in "".join(text for _, text in toolbar_text(session))
    tokens = [(t, v) for t, v in command_lexer(session.registry.top_words).get_tokens("wait 250ms --x=1 # note")]
    assert (Keyword, "wait") in tokens
    assert (Number, "250ms") in tokens
    assert (Name.Attribute, "--x") in tokens
    assert (Comment.Single, "# note") in tokens


def test_completes_paths_inside_open_hdf5_files(session, tmp_path, monkeypatch):
    import time as _time

    import numpy as np

    from neuroshell.storage.layout import StreamSpec
    from neuroshell.storage.recorder import Recorder

    monkeypatch.chdir(tmp_path)
    recorder = Recorder(tmp_path / "rec.h5", [StreamSpec("meg", ["a"], 100.0)], clock=_time.monotonic)
    recorder.put("meg", np.zeros((10, 1), "f4"), np.arange(10.0))
    recorder.stop()
    assert session.execute("open rec.h5")
    found = completions(session, "info rec.h5:/streams/m")
    assert "rec.h5:/streams/meg" in found and "rec.h5:/streams/meg/data" in found
    assert completions(session, "plot traces rec.h5:/streams/meg/t") == ["rec.h5:/streams/meg/time"]


def test_open_plot_windows_are_serviced_while_the_prompt_waits(session, pipe, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = plt.figure("psd")
    slices = []
    run_gui_loop = figure.canvas.start_event_loop
    monkeypatch.setattr(
        figure.canvas, "start_event_loop", lambda timeout: (slices.append(timeout), run_gui_loop(timeout))
    )
    prompt = build_prompt(session)

    def typist():  # types only once the figure's event loop has run while the prompt waited
        for line in ("set seed 7\r", "quit\r"):
            seen = len(slices)
            assert wait_until(lambda seen=seen: len(slices) >= seen + 3, 10, 0.005)
            pipe.send_text(line)

    thread = threading.Thread(target=typist, daemon=True)
    thread.start()
    try:
        run_shell(session, prompt)
    finally:
        plt.close(figure)
    thread.join()
    assert session.settings["seed"] == 7 and session.quit_requested
    # The figure's event loop ran in short slices while the prompt waited, and let the keys through.
    assert len(slices) >= 6 and max(slices) <= 0.1


def test_grey_suggestions_come_only_from_lines_that_succeeded(session, pipe):
    from prompt_toolkit.buffer import Buffer

    prompt = build_prompt(session)
    pipe.send_text("set seed 12\rset sead 13\rclear\rquit\r")
    assert run_shell(session, prompt) == 0
    assert session.settings["seed"] == 12 and any("sead" in e for e in session.ui.errors)
    suggest = prompt.auto_suggest
    assert suggest.get_suggestion(Buffer(), Document("set se")).text == "ed 12"
    again = build_prompt(session)  # a new shell reads the earlier sessions' successes
    assert again.auto_suggest.get_suggestion(Buffer(), Document("set s")).text == "eed 12"
    assert again.auto_suggest.get_suggestion(Buffer(), Document("set sea")) is None


def test_leaving_while_recording_asks_once(session, pipe, tmp_path):
    prompt = build_prompt(session)
    path = tmp_path / "rec.h5"
    pipe.send_text(f"connect sim --channels 2 --rate 100Hz\rrecord start {path}\r\x04n\recho still here\rquit\ry\r")
    assert run_shell(session, prompt) == 0
    assert "still recording; quit again (or record stop) when done" in session.ui.lines
    assert "still here" in session.ui.lines
    assert session.recording.running  # the answer was yes: leaving (session.close, tested apart) stops it


def test_completes_the_live_names_each_argument_takes(session, tmp_path):
    assert session.execute("net example cuba --n 100")
    assert set(completions(session, "net connect ")) == {"exc", "inh"}
    assert completions(session, "net connect exc i") == ["inh"]
    assert completions(session, "net input e") == ["exc"]
    assert session.execute("connect sim --channels 2 --rate 100Hz")
    assert completions(session, "disconnect ") == ["sim0"] and completions(session, "monitor s") == ["sim0"]
    assert completions(session, "train ") == [] and completions(session, "plot training ") == []


def test_completes_paths_inside_a_file_on_disk_that_is_not_open(session, tmp_path, monkeypatch):
    from tests.helpers import helmet_recording

    monkeypatch.chdir(tmp_path)
    helmet_recording(tmp_path / "just-recorded.h5", seconds=1, channels=2)
    offered = completions(session, "plot traces just-recorded.h5:/str")
    assert "just-recorded.h5:/streams/meg" in offered
    assert "just-recorded.h5:/streams/meg/data" in completions(session, "info just-recorded.h5:/streams/meg/d")
    assert not session.files  # looked inside, left closed
    assert completions(session, "plot traces nothere.h5:/s") == []


def test_news_from_background_work_leaves_the_line_being_typed_intact(session, pipe):
    prompt = build_prompt(session)

    def typist():
        def shows(text):
            return prompt.app.is_running and prompt.app.current_buffer.text == text

        assert wait_until(lambda: shows(""), 10, 0.005)
        pipe.send_text("echo hal")
        assert wait_until(lambda: shows("echo hal"), 10, 0.005)
        session.notify("decoder: stim/left (p=0.91) for stim/left, 4.2 ms", False)  # as a reader thread does
        assert wait_until(lambda: "decoder: stim/left (p=0.91) for stim/left, 4.2 ms" in session.ui.lines, 5, 0.005)
        assert shows("echo hal")  # shown at once, while the prompt waits, and the typed line is still there
        pipe.send_text("f-way\rquit\r")

    thread = threading.Thread(target=typist, daemon=True)
    thread.start()
    assert run_shell(session, prompt) == 0
    thread.join()
    assert session.ui.lines[-1] == "half-way"
