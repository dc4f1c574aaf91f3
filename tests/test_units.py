import pytest

from neuroshell.common.words import format_quantity
from neuroshell.sessions.errors import UsageError
from neuroshell.sessions.units import parse_quantity


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("1s", "s", 1.0),
        ("250ms", "s", 0.25),
        ("0.1ms", "s", 1e-4),
        ("2min", "s", 120.0),
        ("1kHz", "Hz", 1000.0),
        ("10Hz", "Hz", 10.0),
        ("-65mV", "V", -0.065),
        ("1nA", "A", 1e-9),
        ("200pF", "F", 2e-10),
        ("1.5e-3s", "s", 1.5e-3),
        ("10nS", "S", 1e-8),
    ],
)
def test_quantities_are_returned_in_si(text, unit, expected):
    assert parse_quantity(text, unit) == pytest.approx(expected)


def test_wrong_unit_names_the_expected_unit():
    with pytest.raises(UsageError, match=r"wrong unit in '10Hz': expected a time \(s\), e.g. 250ms"):
        parse_quantity("10Hz", "s")


def test_missing_unit_and_garbage_are_clear_errors():
    with pytest.raises(UsageError, match="needs a unit"):
        parse_quantity("10", "s")
    with pytest.raises(UsageError, match="not a number"):
        parse_quantity("ten", "s")
    with pytest.raises(UsageError, match="unknown unit"):
        parse_quantity("10furlongs", "s")


def test_bare_numbers_when_allowed():
    assert parse_quantity("3", "s", allow_bare=True) == 3.0


def test_format_quantity_picks_a_readable_prefix():
    assert format_quantity(0.00025, "s") == "250us"
    assert format_quantity(1000.0, "Hz") == "1kHz"
    assert format_quantity(-0.065, "V") == "-65mV"


@pytest.mark.parametrize(
    ("text", "unit", "meant"),
    [
        ("10sec", "s", "10s"),
        ("0.1msec", "s", "0.1ms"),
        ("10hz", "Hz", "10Hz"),
        ("1khz", "Hz", "1kHz"),
        ("5mv", "V", "5mV"),
    ],
)
def test_a_mistyped_unit_gets_a_did_you_mean(text, unit, meant):
    with pytest.raises(UsageError) as error:
        parse_quantity(text, unit)
    assert str(error.value).endswith(f"(did you mean {meant}?)")
    assert parse_quantity(meant, unit) > 0  # and what it suggests is accepted
