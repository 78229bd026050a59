"""The one place where point amounts change representation.

Domain and API: ``Decimal`` with exactly two places. Database: ``BIGINT``
hundredths of a point ("minor units") on every engine, because Piccolo keeps
``Numeric`` as a float on SQLite. Nothing else converts amounts.

Rules, enforced here so every boundary gets the same answer:
- a ``float`` is never an amount (binary floats cannot hold 0.1 exactly);
- an amount with more than two decimal places is an error, never rounded;
- ``NaN``/``Infinity`` are errors.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ledger.errors import InvalidAmount

SCALE = 2
QUANTUM = Decimal("0.01")
MINOR_PER_POINT: int = 10**SCALE

# Largest magnitude we accept: fits BIGINT with a wide margin and is far above
# any real points budget (a trillion points).
MAX_MINOR: int = 10**14

_AMOUNT_TEXT = re.compile(r"^[+-]?\d+(\.\d{1,2})?$")


def parse_amount(value: object, *, field: str = "amount") -> Decimal:
    """Turn a ``Decimal``, ``int`` or decimal string into a 2-place ``Decimal``.

    Raises ``InvalidAmount`` naming ``field`` for floats, bools, text that is
    not a plain decimal, more than two places, or out-of-range magnitudes.
    """
    if isinstance(value, bool | float):
        raise InvalidAmount(field, 'must be a decimal string such as "12.50", not a float')
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if not _AMOUNT_TEXT.match(text):
            raise InvalidAmount(field, "must be a decimal string with at most 2 decimal places")
        amount = Decimal(text)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidAmount(field, "must be a finite number")
        amount = value
    else:
        raise InvalidAmount(field, f"must be a decimal string, not {type(value).__name__}")
    try:
        quantized = amount.quantize(QUANTUM)
    except InvalidOperation as error:
        raise InvalidAmount(field, "is out of range") from error
    if quantized != amount:
        raise InvalidAmount(field, "has more than 2 decimal places; amounts are never rounded silently")
    if abs(quantized) * MINOR_PER_POINT > MAX_MINOR:
        raise InvalidAmount(field, "is out of range")
    return quantized


def to_minor(amount: Decimal, *, field: str = "amount") -> int:
    """``Decimal('12.34')`` → ``1234``. Validates like ``parse_amount``.

    A finite ``Decimal`` already at exactly two places (every validated
    ``Leg``'s amount: each posting converts two) is converted directly:
    ``parse_amount`` would accept it unchanged, as long as it is in range,
    which is checked the same way. Anything else goes through
    ``parse_amount``."""
    if type(amount) is Decimal and amount.as_tuple().exponent == -SCALE:
        minor = int(amount.scaleb(SCALE))
        if abs(minor) <= MAX_MINOR:
            return minor
    checked = parse_amount(amount, field=field)
    return int(checked * MINOR_PER_POINT)


def from_minor(minor: int) -> Decimal:
    """``1234`` → ``Decimal('12.34')`` (always two places: the integer's
    digits with the exponent moved, which is exact for any BIGINT)."""
    if type(minor) is not int:
        raise TypeError(f"minor units must be int, got {type(minor).__name__}")
    return Decimal(minor).scaleb(-SCALE)


def minor_text(minor: int) -> str:
    """``1234`` → ``"12.34"``: the JSON form of an amount held in minor
    units, the same text as ``format_amount(from_minor(minor))`` without the
    ``Decimal`` (the wallet read sends several per request)."""
    if type(minor) is int and minor >= 0:  # nearly every amount read: half the time of the general path
        return f"{minor // MINOR_PER_POINT}.{minor % MINOR_PER_POINT:02d}"
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise TypeError(f"minor units must be int, got {type(minor).__name__}")
    whole, hundredths = divmod(abs(minor), MINOR_PER_POINT)
    return f"{'-' if minor < 0 else ''}{whole}.{hundredths:02d}"


def format_amount(amount: Decimal) -> str:
    """The JSON form of an amount: a string with exactly two places."""
    return str(parse_amount(amount))
