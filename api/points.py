"""Point amounts at the HTTP boundary: JSON strings, never numbers.

``"12.50"`` is an amount; ``12.5`` (a JSON number, i.e. a float) is a 422
naming the field, as is ``"12.505"`` (more than two places). So are
full-width digits (``"５.００"``), other Unicode digits and surrounding
whitespace (``" 5.00 "``, ``"5.00\n"``): the text must match
``AMOUNT_PATTERN`` in ASCII exactly as the OpenAPI schema states it.
Responses carry amounts as strings with exactly two places.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from litestar.params import KwargDefinition
from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from ledger.amounts import format_amount, parse_amount
from ledger.errors import InvalidAmount

# The schema's pattern and the check are one string. ``[0-9]``, not ``\d``:
# Python's ``\d`` matches every Unicode digit. ``fullmatch``, because ``$``
# also matches before a trailing newline.
AMOUNT_PATTERN = r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$"
_AMOUNT_TEXT = re.compile(AMOUNT_PATTERN.removeprefix("^").removesuffix("$"), re.ASCII)


def _from_json(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return parse_amount(value)
    if not isinstance(value, str):
        raise ValueError('must be a string such as "12.50" (JSON numbers are not accepted for amounts)')
    if not _AMOUNT_TEXT.fullmatch(value):
        raise ValueError('must be ASCII digits such as "12.50": no spaces, at most 12 digits and 2 decimal places')
    try:
        return parse_amount(value)
    except InvalidAmount as error:
        raise ValueError(error.message.removeprefix("amount ")) from error


Points = Annotated[
    Decimal,
    BeforeValidator(_from_json),
    PlainSerializer(format_amount, return_type=str, when_used="always"),
    WithJsonSchema({"type": "string", "pattern": AMOUNT_PATTERN, "examples": ["12.50"]}),
    # Litestar builds the served OpenAPI from the field, not from pydantic's
    # JSON schema: the pattern reaches /schema through this (pydantic ignores it).
    KwargDefinition(pattern=AMOUNT_PATTERN),
]
