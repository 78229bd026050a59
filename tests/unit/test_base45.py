"""Base45 (core/base45.py) against RFC 9285's examples, round trips, and
text that no bytes encode to."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import base45


@pytest.mark.parametrize(
    ("data", "text"),
    [(b"AB", "BB8"), (b"Hello!!", "%69 VD92EX0"), (b"base-45", "UJCLQE7W581"), (b"ietf!", "QED8WEX0"), (b"", "")],
)
def test_the_rfc_examples_encode_and_decode(data: bytes, text: str) -> None:
    assert base45.encode(data) == text
    assert base45.decode(text) == data


@given(st.binary(max_size=300))
def test_any_bytes_round_trip_through_qr_alphanumeric_characters(data: bytes) -> None:
    text = base45.encode(data)
    assert set(text) <= set(base45.ALPHABET)
    assert base45.decode(text) == data


@pytest.mark.parametrize(
    "text",
    ["GGW", "ZZZZ", "A", "abc", "BB8!", "BB8B"],  # above 65535; 3n+1 long; lower case; a stray mark
)
def test_text_no_bytes_encode_to_is_refused(text: str) -> None:
    with pytest.raises(base45.Base45Error):
        base45.decode(text)
