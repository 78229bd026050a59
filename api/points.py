"""Point amounts at the HTTP boundary: JSON strings, never numbers.

``"12.50"`` is an amount; ``12.5`` (a JSON number, i.e. a float) is a 422
naming the field, as is ``"12.505"`` (more than two places). Responses carry
amounts as strings with exactly two places.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from ledger.amounts import format_amount, parse_amount
from ledger.errors import InvalidAmount

AMOUNT_PATTERN = r"^-?\d{1,12}(\.\d{1,2})?$"


def _from_json(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return parse_amount(value)
    if not isinstance(value, str):
        raise ValueError('must be a string such as "12.50" (JSON numbers are not accepted for amounts)')
    try:
        return parse_amount(value)
    except InvalidAmount as error:
        raise ValueError(error.message.removeprefix("amount ")) from error


Points = Annotated[
    Decimal,
    BeforeValidator(_from_json),
    PlainSerializer(format_amount, return_type=str, when_used="always"),
    WithJsonSchema({"type": "string", "pattern": AMOUNT_PATTERN, "examples": ["12.50"]}),
]
