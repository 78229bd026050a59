"""Cells for files people open in Excel or WPS: CSV exports and reports.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula (CSV injection, OWASP), and a leading tab or carriage return can
hide one. Anything that came from a person (an item name, a member's name,
a reason) may start that way, so every text cell the project writes goes
through ``safe_cell``: such a cell gets a leading apostrophe, which
spreadsheets show as text and never evaluate.

Amounts the project formats itself (``-12.50``) are numbers the reader
should be able to sum, so writers pass them through ``number_cell``, which
accepts only a plain decimal and leaves it alone.
"""

from __future__ import annotations

import re

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_PLAIN_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def safe_cell(value: object) -> str:
    """The text of ``value`` as a cell no spreadsheet will evaluate."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def number_cell(value: object) -> str:
    """A number the project formatted itself, left as a number; anything
    else is escaped like text."""
    text = "" if value is None else str(value)
    if _PLAIN_NUMBER.match(text):
        return text
    return safe_cell(text)
