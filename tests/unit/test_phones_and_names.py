"""One phone number per person, however it is typed; names without hidden
characters. Pure functions: no database."""

from __future__ import annotations

import pytest

from community.errors import InvalidMemberData
from community.members import check_name
from community.names import BIDI_CONTROLS, hidden_character, name_problem
from community.phones import normalise_phone, phone_search_digits


@pytest.mark.parametrize(
    "typed",
    [
        "13800000002",
        "+8613800000002",
        "008613800000002",
        "138-0000-0002",
        " 138 0000 0002",
        "+86 138 0000 0002",
        "13８00000002",  # one full-width digit, as a Chinese IME types it
        "".join(chr(ord(digit) + 0xFEE0) for digit in "13800000002"),  # all full-width
        "＋８６　１３８－００００－０００２",  # full-width plus, ideographic space, full-width dash
        "138\u20130000\u20130002",  # en dashes pasted from a document
    ],
)
def test_every_way_of_typing_a_number_gives_the_same_ascii_number(typed: str) -> None:
    assert normalise_phone(typed) == "13800000002"


@pytest.mark.parametrize(
    "typed",
    [
        "١٣٨٠٠٠٠٠٠٠٢",  # Arabic-Indic digits: \d matches them, NFKC keeps them
        "१३८००००००००२",  # Devanagari digits
        "13800000002\u200e",  # a bidi mark hidden at the end
        "1380000000２2",  # twelve digits once normalised
        "12800000002",
        "+1 13800000002",
        "",
        "1" * 50,
    ],
)
def test_anything_else_is_not_a_phone_number(typed: str) -> None:
    with pytest.raises(InvalidMemberData) as refused:
        normalise_phone(typed)
    assert refused.value.field == "phone"


def test_a_search_term_of_digits_is_read_like_a_phone_and_other_digits_are_not() -> None:
    assert phone_search_digits("１３８ ０") == "1380"
    assert phone_search_digits("138-0") == "1380"
    assert phone_search_digits("١٣٨") is None
    assert phone_search_digits("张秀英") is None


@pytest.mark.parametrize("char", sorted(BIDI_CONTROLS))
def test_bidi_controls_are_refused_in_names_naming_the_field(char: str) -> None:
    assert len(BIDI_CONTROLS) == 12
    with pytest.raises(InvalidMemberData) as refused:
        check_name(f"张{char}秀英")
    assert refused.value.field == "name"
    assert "bidirectional" in refused.value.message and f"U+{ord(char):04X}" in refused.value.message


@pytest.mark.parametrize("char", ["\x00", "\n", "\t", "\x1b", "\x7f", "\x85", "\u2028", "\u200b", "\ufeff", "\ue000"])
def test_control_and_invisible_characters_are_refused_in_names(char: str) -> None:
    assert hidden_character(f"王{char}建国") == f"U+{ord(char):04X}"
    with pytest.raises(InvalidMemberData):
        check_name(f"王{char}建国")


FAMILY_EMOJI = "👨\u200d👩\u200d👧"  # joined by U+200D, which names may keep


@pytest.mark.parametrize("name", ["张秀英", "Zhang Xiuying", "阿依古丽·买买提", "O'Brien-Smith", f"{FAMILY_EMOJI} 家"])
def test_ordinary_names_pass(name: str) -> None:
    assert name_problem(name) is None
    assert check_name(f"  {name} ") == name
