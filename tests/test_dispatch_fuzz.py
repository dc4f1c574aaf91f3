"""Random command lines never crash the dispatcher: each gives a result or a one-line error."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neuroshell.sessions import Session
from tests.helpers import RecordingUI

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
LINES = st.one_of(st.text(max_size=40), st.lists(WORDS, max_size=6).map(" ".join))


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
