"""Names people read on screens: members, teams, organisations.

A name may be any script, but not characters that change how *other* text
is shown or that cannot be seen:

- bidirectional controls (U+200E/F marks, U+202A-U+202E embeddings and
  overrides, U+2066-U+2069 isolates, U+061C Arabic letter mark): in a
  member list or a CSV they can reverse the text around them, so a name
  could make ``138****0001`` or an amount read as something else;
- control characters (C0, DEL, C1), line and paragraph separators, and
  other invisible format characters (zero-width space, BOM, word joiner…),
  which make two different names look the same;
- surrogates and private-use characters.

The two joiners U+200C / U+200D stay allowed: Persian and Indic names and
emoji sequences need them. The check is pure (no database), so the API,
the CSV import and the CLI refuse the same names.
"""

from __future__ import annotations

import unicodedata

BIDI_CONTROLS = frozenset(
    {"\u200e", "\u200f", "\u061c"} | {chr(c) for c in range(0x202A, 0x202F)} | {chr(c) for c in range(0x2066, 0x206A)}
)
_JOINERS = frozenset({"\u200c", "\u200d"})
# Cc control, Cf format (invisible), Cs surrogate, Co private use, Zl/Zp separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def hidden_character(text: str) -> str | None:
    """The first character of ``text`` that a name may not contain, as
    ``U+XXXX``, or None."""
    for char in text:
        if char in BIDI_CONTROLS or (unicodedata.category(char) in _REFUSED_CATEGORIES and char not in _JOINERS):
            return f"U+{ord(char):04X}"
    return None


def name_problem(text: str) -> str | None:
    """Why ``text`` cannot be a name (English sentence), or None."""
    found = hidden_character(text)
    if found is None:
        return None
    kind = "a bidirectional control character" if chr(int(found[2:], 16)) in BIDI_CONTROLS else "a control character"
    return f"names may not contain {kind} ({found})"


# Masked names (张*英): on leaderboards and in pickup tokens, where a name
# must let a neighbour or a shopkeeper recognise someone and expose no more.
STAR = "*"


def _mask_word(word: str) -> str:
    return word[0] + STAR * (len(word) - 1) if len(word) > 1 else STAR


def mask_name(name: str) -> str:
    text = " ".join(name.split())
    if not text:
        return STAR
    if " " in text:
        return " ".join(_mask_word(word) for word in text.split(" "))
    if len(text) >= 3:
        return text[0] + STAR * (len(text) - 2) + text[-1]
    return _mask_word(text)
