"""Phone numbers: one way to read what people type, everywhere.

Login, invitation acceptance, registration, the CSV import, member search
and the lockout counters all go through ``normalise_phone``, so one person
has one number, however it was written:

- NFKC first: full-width digits and signs (``１３８``, ``＋８６``, ``－``) become
  their ASCII forms, as a phone keyboard in Chinese mode types them;
- spaces (any Unicode space) and dashes are dropped, and a ``+86`` /
  ``0086`` prefix;
- then only ASCII digits are accepted (``[0-9]``, never ``\\d``, which also
  matches Arabic-Indic, Devanagari and other digits that NFKC keeps), in
  the shape of a mainland mobile number: 11 digits, 13x-19x.
"""

from __future__ import annotations

import re
import unicodedata

from community.errors import InvalidMemberData

# Mainland China mobile numbers: 11 ASCII digits starting 13x-19x.
_MAINLAND_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_ASCII_DIGITS = re.compile(r"^[0-9]+$")
# After NFKC: whitespace of any kind, ASCII hyphen and the Unicode dashes
# (U+2010-U+2015, U+2212 minus) people paste from documents.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]")
_COUNTRY_PREFIXES = ("+86", "0086")
# Longer input is not a phone number; do not spend time normalising it.
MAX_PHONE_INPUT_CHARS = 40


def _clean(text: str) -> str:
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text or ""))


def normalise_phone(phone: str) -> str:
    """The canonical 11-digit form, or ``InvalidMemberData`` naming ``phone``."""
    if len(phone or "") > MAX_PHONE_INPUT_CHARS:
        raise InvalidMemberData("phone must be a mainland mobile number (11 digits, 13x-19x)", field="phone")
    digits = _clean(phone)
    for prefix in _COUNTRY_PREFIXES:
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    if not _MAINLAND_MOBILE.match(digits):
        raise InvalidMemberData("phone must be a mainland mobile number (11 digits, 13x-19x)", field="phone")
    return digits


def phone_search_digits(text: str) -> str | None:
    """The ASCII digits of a search term that is part of a phone number
    (``１３８ ０``, ``138-0``), or None when the term is not digits only."""
    digits = _clean(text)
    return digits if _ASCII_DIGITS.match(digits) else None


def mask_phone(phone: str) -> str:
    """138****0001: what people who are not this member's organisers see."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"
