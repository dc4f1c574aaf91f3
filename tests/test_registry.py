import pytest

from neuroshell.sessions.argtypes import Choice, H5Location, H5Path, Int, Quantity
from neuroshell.sessions.errors import UsageError
from neuroshell.sessions.registry import Arg, Flag, Opt, Registry, VerbSet, split_commands


@pytest.fixture
def registry():
    verbs = VerbSet("test")

    @verbs.verb(
        "record start",
        "start",
        Arg("file", H5Path()),
        Opt("for", Quantity(unit="s")),
        Opt("mode", Choice(choices=("r", "a"))),
        Flag("overwrite"),
    )
    def record_start(session, args):
        return args

    @verbs.verb("record stop", "stop")
    def record_stop(session, args):
        return args

    @verbs.verb("net add", "add", Arg("pop"), Opt("n", Int(minimum=1)), keyvalues="parameters")
    def net_add(session, args):
        return args

    registry = Registry()
    verbs.install(registry)
    return registry


def test_sub_verbs_options_flags_and_units(registry):
    verb, args = registry.parse("record start rec.h5:/streams/sim --for 10s --overwrite --mode=a")
    assert verb.name == "record start"
    assert args.file == H5Location("rec.h5", "/streams/sim")
    assert getattr(args, "for") == 10.0
    assert args.overwrite is True
    assert args.mode == "a"


def test_defaults_fill_unused_options(registry):
    _, args = registry.parse("record start rec.h5")
    assert args.file == H5Location("rec.h5", "/")
    assert args.overwrite is False
    assert args.mode is None


def test_key_values(registry):
    _, args = registry.parse("net add exc --n 3200 tau_m=20ms v_th=-50mV")
    assert args.pop == "exc"
    assert args.n == 3200
    assert args.kv == {"tau_m": "20ms", "v_th": "-50mV"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("recrd", "unknown command 'recrd' (did you mean record?): type 'help'"),
        ("record", "'record' needs a sub-verb: start, stop"),
        ("record begin", "'record' needs a sub-verb (not 'begin'): start, stop"),
        ("record start", "record start: missing FILE"),
        ("record start f.h5 --for 10Hz", "record start --for: wrong unit in '10Hz'"),
        ("record start f.h5 --mode x", "record start --mode: 'x' is not one of: r, a"),
        ("record start f.h5 --colour red", "unknown option --colour"),
        ("record start f.h5 --for", "--for needs a value"),
        ("record stop now", "unexpected word 'now'"),
        ("net add exc --n 0", "net add --n: 0 is too small"),
        ("record start 'unclosed", "cannot read the command"),
    ],
)
def test_bad_lines_are_one_line_errors(registry, line, message):
    with pytest.raises(UsageError) as error:
        registry.parse(line)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_split_commands_respects_quotes():
    assert split_commands("echo a; echo 'b;c' ; echo \"d;\"") == ["echo a", "echo 'b;c'", 'echo "d;"']
    assert split_commands(" ; ;") == []


def test_structured_argument_types_parse_once_with_clear_errors():
    from neuroshell.sessions.argtypes import CsvList, Float, H5Path, LabelledSpan, Span
    from neuroshell.sessions.channels import Channels
    from neuroshell.sessions.errors import UsageError

    assert Span().convert("-100ms:500ms") == (-0.1, 0.5)
    for text, message in (("500ms", "write START:STOP"), ("1s:0s", "the end must come after the start")):
        with pytest.raises(UsageError, match=message):
            Span().convert(text)
    names = ["MEG001", "MEG002", "MEG003", "MEG004"]
    assert Channels().convert("1:3").indices(names) == [1, 2]
    assert Channels().convert("3,MEG001").indices(names) == [3, 0]
    with pytest.raises(UsageError, match="no channel 'MEG009'"):
        Channels().convert("MEG009").indices(names)
    for outside in ("8:16", "0:5"):  # a range reaching past the device is refused, not cut short
        with pytest.raises(UsageError, match="there are 4 channels, 0:4"):
            Channels().convert(outside).indices(names)
    assert CsvList(item=Float(), length=3).convert("0.7, 0.2,0.1") == [0.7, 0.2, 0.1]
    assert LabelledSpan().convert("0s:1s=rest") == (0.0, 1.0, "rest")
    assert H5Path(under="/streams/").convert("a.h5:/streams/meg").path == "/streams/meg"
    with pytest.raises(UsageError, match="is not under /streams/: give FILE:/streams/NAME"):
        H5Path(under="/streams/").convert("a.h5:/datasets/x")


def test_an_option_defaults_to_its_setting_when_the_line_runs(session):
    assert session.execute("set seed 11")
    verb, args = session.registry.parse("connect sim")
    from neuroshell.sessions.registry import fill_setting_defaults

    fill_setting_defaults(verb, args, session.settings)
    assert args.seed == 11 and args.isi == (0.8, 1.5)
    verb, args = session.registry.parse("connect sim --seed 4")
    fill_setting_defaults(verb, args, session.settings)
    assert args.seed == 4


def test_help_for_a_group_and_help_where_the_hands_are(session):
    assert session.execute("help record")
    table = session.ui.results[-1]
    assert [row[0] for row in table.rows] == ["record start", "record status", "record stop"]
    for line in ("record start --help", "record start ?"):
        session.ui.lines.clear()
        assert session.execute(line)
        assert session.ui.lines[0] == "usage: record start FILE [--devices A,B,...] [--for QUANTITY] [--overwrite]"
    assert session.recording is None  # help, not a recording


def test_help_shows_every_default_as_typed_and_settings_as_now(session):
    assert session.execute("set sim.dt 50us")
    assert session.execute("simulate --help")
    defaults = {row[0]: row[2] for row in session.ui.results[-1].rows}
    assert defaults["DURATION"] == "required"
    assert defaults["[--dt QUANTITY]"] == "50us (setting sim.dt)"
    assert defaults["[--every QUANTITY]"] == "1s"
    assert defaults["[--record A,B,...]"] == "spikes,rate"
    assert defaults["[--overwrite]"] == "off"
    assert defaults["[--run TEXT]"] == "run1, run2, ..."  # said in its meaning
    assert defaults["[--to FILE]"] == "none"
    from neuroshell.sessions.output import Table
    from neuroshell.sessions.verbs.core import verb_help

    for verb in session.registry.verbs.values():
        tables = [item for item in verb_help(verb, session.settings) if isinstance(item, Table)]
        rows = [row for table in tables for row in table.rows if row[0] != "key=value ..."]
        assert all(row[2] for row in rows), verb.name
