"""Random command lines never crash the dispatcher: each gives a result or a one-line error."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neuroshell.sessions import Session
from tests.helpers import RecordingUI, helmet_recording

WORDS = st.sampled_from(
    [
        "help",
        "set",
        "get",
        "unset",
        "echo",
        "history",
        "status",
        "run",
        "seed",
        "plot.format",
        "svg",
        "--keep-going",
        "--overwrite",
        "10ms",
        "-65mV",
        "1kHz",
        "'",
        '"',
        "#",
        "=",
        "--",
        "save-history",
        "wait",
        "0s",
        "x=1",
        ":/",
    ]
)
# Lines starting with "!" run system commands (tested on their own): random ones are kept away from the shell.
LINES = st.one_of(st.text(max_size=40), st.lists(WORDS, max_size=6).map(" ".join)).filter(
    lambda line: not line.lstrip().startswith("!")
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line=LINES)
def test_random_lines_give_a_result_or_one_line_error(neuroshell_home, monkeypatch, line):
    monkeypatch.chdir(neuroshell_home)  # save-history may write files: keep them out of the checkout
    ui = RecordingUI()
    session = Session(ui=ui, home=neuroshell_home)
    try:
        ok = session.execute(line)
    finally:
        session.close()
    if ok:
        assert ui.errors == []
    else:
        assert len(ui.errors) == 1
        assert ui.errors[0] and "\n" not in ui.errors[0]
        assert "failed:" not in ui.errors[0], ui.errors[0]  # never an internal error


VALUES = [
    "0",
    "1",
    "-1",
    "3",
    "10ms",
    "-5ms:0s",
    "1e999s",
    "0Hz",
    "abc",
    "sim0",
    "all",
    "exc",
    "inh",
    "stim/*",
    "0:2",
    "x=1",
    "tau_m=5ms",
    "rec.h5",
    "rec.h5:/streams/meg",
    "rec.h5:/nothing",
    "new.h5",
    "'",
    "--overwrite",
]


@pytest.fixture(scope="module")
def busy_session(tmp_path_factory):
    """One session with a simulated helmet connected, a recording open and a network built."""
    home = tmp_path_factory.mktemp("fuzz")
    helmet_recording(home / "rec.h5", 2.0, channels=4, rate_hz=200.0)
    session = Session(ui=RecordingUI(), home=home)
    for line in (
        "set lsl.timeout 100ms",
        "set plot.show off",
        "connect sim --channels 4 --rate 200Hz",
        f"open {home / 'rec.h5'}",
        "net example cuba --n 200",
    ):
        assert session.execute(line), session.ui.errors
    yield session, home
    session.close()


TYPED_VALUES = {
    "Int": ["0", "1", "3", "-1"],
    "Float": ["0.5", "2", "-1", "inf"],
    "Quantity": ["10ms", "0s", "-1ms", "1e999s", "5Hz", "1mV", "200MB"],
    "Weight": ["0.5mV", "1nS", "2nA", "1s"],
    "H5Path": ["rec.h5:/streams/meg", "rec.h5", "rec.h5:/nothing", "nope.h5:/x"],
    "FilePath": ["rec.h5", "new.h5", "missing/x.nsh", "net.json"],
    "SettingKey": ["seed", "plot.format", "no.such"],
}


def value_for(data, param) -> str:
    """A value for a parameter: usually of its declared type (right or wrong), sometimes anything."""
    kind = type(param.type).__name__
    typed = [*getattr(param.type, "choices", ()), "bad"] if hasattr(param.type, "choices") else []
    typed = typed or TYPED_VALUES.get(kind, [])
    return (
        data.draw(st.sampled_from(typed))
        if typed and data.draw(st.integers(0, 3))
        else data.draw(st.sampled_from(VALUES))
    )


def verb_line(data, registry) -> str:
    """A line for a random verb from its own declaration: its required positionals and some of its
    options and flags, with values that are sometimes right and sometimes wrong."""
    verb = registry.verbs[data.draw(st.sampled_from(sorted(set(registry.verbs) - {"quit", "exit"})))]
    words = [verb.name] + [value_for(data, p) for p in verb.positionals if p.required]
    for param in data.draw(st.lists(st.sampled_from(verb.params), max_size=3)) if verb.params else []:
        if param.flag:
            words.append(f"--{param.name}")
        elif param.option:
            words += [f"--{param.name}", value_for(data, param)]
    if verb.keyvalues and data.draw(st.booleans()):
        words.append(data.draw(st.sampled_from(["x=1", "tau_m=5ms", "name=nothing"])))
    return " ".join(words)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_verb_with_devices_files_and_a_network_gives_no_bare_python_error(busy_session, monkeypatch, data):
    session, home = busy_session
    monkeypatch.chdir(home)  # files the lines write stay in the test's folder
    line = verb_line(data, session.registry)
    session.ui.errors.clear()
    if not session.execute(line):
        assert session.ui.errors, line
        for error in session.ui.errors:  # one line each (run --keep-going reports every failed line)
            assert error and "\n" not in error, line
            assert "failed:" not in error, (line, error)  # never an internal error
