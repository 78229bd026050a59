"""Pickup codes: short, unambiguous, unguessable.

8 characters from a 31-letter alphabet without 0/O, 1/I/L: about 2^39.6
codes, drawn with ``secrets``. With at most a few thousand open orders and
wrong attempts throttled per shop, guessing one is hopeless. Codes are
unique among open orders (a partial unique index); a collision just draws
again.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
_CLEAN = re.compile(r"[\s-]")


def new_pickup_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_pickup_code(text: str) -> str:
    """What staff type or scan, in any case, with spaces or a dash."""
    return _CLEAN.sub("", text or "").upper()


def is_well_formed(code: str) -> bool:
    return len(code) == CODE_LENGTH and all(char in ALPHABET for char in code)


def display(code: str) -> str:
    """ABCD-EFGH: easier to read out at a counter."""
    return f"{code[:4]}-{code[4:]}"


# Letters a person may type that no code holds (they look like others).
AMBIGUOUS = frozenset("0O1IL")


def typed_code_problem(text: str) -> str | None:
    """Why what staff typed cannot be a pickup code, before any lookup (a
    malformed code is not a guess): ``empty``, ``ambiguous`` (0, O, 1, I or
    L, which codes never hold: the hint says so), ``invalid`` (another
    character) or ``length``; ``None`` if it may be one. Case, spaces and
    dashes do not matter."""
    code = normalise_pickup_code(text)
    if not code:
        return "empty"
    if any(char in AMBIGUOUS for char in code):
        return "ambiguous"
    if any(char not in ALPHABET for char in code):
        return "invalid"
    if len(code) != CODE_LENGTH:
        return "length"
    return None
