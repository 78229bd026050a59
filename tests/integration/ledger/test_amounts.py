"""ledger/amounts.py: the one place amounts change representation.

Pure unit tests (no database). Floats, bools, NaN/Infinity and anything with
more than two decimal places are errors that name the field; never rounded.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.amounts import MAX_MINOR, format_amount, from_minor, minor_text, parse_amount, to_minor
from ledger.errors import InvalidAmount, LedgerError
from ledger.models import Leg

MAX_POINTS = Decimal(MAX_MINOR) / 100


@pytest.fixture(autouse=True)
def clean_database() -> None:
    """Pure unit tests: override the harness's per-test table truncation."""


# No example database on disk, no complaint about the autouse DB fixture.
PROPERTY = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.mark.parametrize(
    "value",
    [
        0.1,
        1.0,
        12.5,
        float("nan"),
        float("inf"),
        True,
        False,
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        "NaN",
        "Infinity",
        "-inf",
        "1.234",
        "0.001",
        Decimal("0.001"),
        Decimal("1.005"),
        Decimal("-0.009"),
        "1e2",
        "12,50",
        "1_000",
        ".5",
        "5.",
        "",
        "   ",
        "abc",
        "1.2.3",
        None,
        [1],
        b"1.00",
        complex(1, 0),
    ],
    ids=repr,
)
def test_rejected_values_raise_invalid_amount_naming_the_field(value: object) -> None:
    """Every non-amount is refused with InvalidAmount carrying the caller's field name."""
    with pytest.raises(InvalidAmount) as caught:
        parse_amount(value, field="price")
    assert caught.value.field == "price"
    assert caught.value.message.startswith("price ")
    assert caught.value.code == "invalid_amount"
    assert isinstance(caught.value, LedgerError)


def test_default_field_name_is_amount() -> None:
    """Without a field name, the error names ``amount``."""
    with pytest.raises(InvalidAmount) as caught:
        parse_amount(0.5)
    assert caught.value.field == "amount"


def test_float_error_message_says_float_and_never_rounds() -> None:
    """A float is refused as a float (not silently rounded to 0.10)."""
    with pytest.raises(InvalidAmount, match="float"):
        parse_amount(0.1, field="amount")
    with pytest.raises(InvalidAmount, match="more than 2 decimal places"):
        parse_amount(Decimal("0.105"), field="amount")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12.5", "12.50"),
        ("12.50", "12.50"),
        ("0", "0.00"),
        ("-3", "-3.00"),
        ("+7.1", "7.10"),
        ("  42.42  ", "42.42"),
        ("0.01", "0.01"),
        (0, "0.00"),
        (15, "15.00"),
        (-15, "-15.00"),
        (Decimal("3"), "3.00"),
        (Decimal("3.1"), "3.10"),
        (Decimal("3.14"), "3.14"),
        (Decimal("1E+2"), "100.00"),
        # Extra trailing zeros are not extra precision: 1.230 == 1.23.
        (Decimal("1.230"), "1.23"),
        (Decimal("-0.50"), "-0.50"),
    ],
    ids=repr,
)
def test_accepted_values_are_quantized_to_two_places(value: object, expected: str) -> None:
    """Strings, ints and Decimals come back as Decimals with exactly 2 places."""
    parsed = parse_amount(value)
    assert isinstance(parsed, Decimal)
    assert parsed == Decimal(expected)
    assert parsed.as_tuple().exponent == -2
    assert str(parsed) == expected


@pytest.mark.parametrize(
    "value",
    [
        MAX_POINTS + Decimal("0.01"),
        -(MAX_POINTS + Decimal("0.01")),
        str(MAX_POINTS + 1),
        int(MAX_POINTS) + 1,
        10**40,
        Decimal("1E+30"),
        Decimal("-" + "9" * 40),
    ],
    ids=repr,
)
def test_out_of_range_is_refused(value: object) -> None:
    """Magnitudes beyond MAX_MINOR hundredths are refused, including ones too big to quantize."""
    with pytest.raises(InvalidAmount, match="out of range") as caught:
        parse_amount(value, field="budget")
    assert caught.value.field == "budget"


def test_range_boundary_is_inclusive() -> None:
    """Exactly MAX_MINOR hundredths (either sign) is still an amount."""
    assert to_minor(MAX_POINTS) == MAX_MINOR
    assert to_minor(-MAX_POINTS) == -MAX_MINOR
    assert parse_amount(str(MAX_POINTS)) == MAX_POINTS


@pytest.mark.parametrize(
    ("amount", "minor"),
    [
        (Decimal("12.34"), 1234),
        (Decimal("0.01"), 1),
        (Decimal("-0.01"), -1),
        (Decimal("0"), 0),
        (Decimal("100"), 10000),
        ("7.5", 750),
        (3, 300),
    ],
    ids=repr,
)
def test_to_minor_counts_hundredths(amount: object, minor: int) -> None:
    """to_minor returns an int of hundredths."""
    result = to_minor(amount)  # type: ignore[arg-type]
    assert result == minor
    assert type(result) is int


def test_to_minor_validates_like_parse_amount() -> None:
    """to_minor refuses floats and over-precise amounts, naming the given field."""
    with pytest.raises(InvalidAmount) as caught:
        to_minor(Decimal("0.001"), field="cost")
    assert caught.value.field == "cost"
    with pytest.raises(InvalidAmount):
        to_minor(1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("minor", "expected"), [(0, "0.00"), (1, "0.01"), (-1, "-0.01"), (1234, "12.34"), (100, "1.00")]
)
def test_from_minor_always_has_two_places(minor: int, expected: str) -> None:
    """from_minor gives the exact 2-place Decimal."""
    assert str(from_minor(minor)) == expected


@pytest.mark.parametrize("minor", [1.0, True, "12", Decimal("12"), None])
def test_from_minor_refuses_non_ints(minor: object) -> None:
    """Minor units are ints only (a bool is not a count of hundredths)."""
    with pytest.raises(TypeError):
        from_minor(minor)  # type: ignore[arg-type]


def test_format_amount_is_a_two_place_string() -> None:
    """The JSON form always carries two places."""
    assert format_amount(Decimal("5")) == "5.00"
    assert format_amount(Decimal("-0.5")) == "-0.50"
    with pytest.raises(InvalidAmount):
        format_amount(Decimal("0.001"))


def test_leg_rejects_float_amount_with_invalid_amount() -> None:
    """The model boundary (Leg) applies the same rules: a float leg is InvalidAmount, not rounded."""
    with pytest.raises(InvalidAmount) as caught:
        Leg(account_code="x", amount=0.1)
    assert caught.value.field == "amount"
    assert Leg(account_code="x", amount="0.1").amount == Decimal("0.10")


two_place_decimals = st.decimals(
    min_value=-MAX_POINTS, max_value=MAX_POINTS, places=2, allow_nan=False, allow_infinity=False
)


@PROPERTY
@given(amount=two_place_decimals)
def test_minor_round_trip_property(amount: Decimal) -> None:
    """For every 2-place Decimal in range: from_minor(to_minor(x)) == x, and the string form parses back."""
    minor = to_minor(amount)
    assert abs(minor) <= MAX_MINOR
    assert from_minor(minor) == amount
    assert from_minor(minor).as_tuple().exponent == -2
    assert parse_amount(str(amount)) == amount
    assert to_minor(from_minor(minor)) == minor


@PROPERTY
@given(minor=st.integers(min_value=-MAX_MINOR, max_value=MAX_MINOR))
def test_minor_to_decimal_round_trip_property(minor: int) -> None:
    """For every int in range: to_minor(from_minor(n)) == n, and format/parse agree."""
    assert to_minor(from_minor(minor)) == minor
    assert parse_amount(format_amount(from_minor(minor))) == from_minor(minor)


@PROPERTY
@given(
    amount=st.decimals(min_value=-1000, max_value=1000, places=3, allow_nan=False, allow_infinity=False).filter(
        lambda d: d != d.quantize(Decimal("0.01"))
    )
)
def test_third_decimal_place_is_always_refused_property(amount: Decimal) -> None:
    """Any value that needs a third place is refused, as Decimal and as text."""
    with pytest.raises(InvalidAmount):
        parse_amount(amount)
    with pytest.raises(InvalidAmount):
        parse_amount(str(amount))


@PROPERTY
@given(minor=st.integers(min_value=-MAX_MINOR, max_value=MAX_MINOR))
def test_minor_text_is_the_wire_form_of_the_same_amount(minor: int) -> None:
    """minor_text (the wallet's fast path) sends exactly what the Decimal path sends."""
    assert minor_text(minor) == format_amount(from_minor(minor))


@pytest.mark.parametrize("minor", [1.0, True, "12", None])
def test_minor_text_refuses_non_ints(minor: object) -> None:
    with pytest.raises(TypeError):
        minor_text(minor)  # type: ignore[arg-type]
