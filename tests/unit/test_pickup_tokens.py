"""Signed pickup tokens (marketplace/pickup_tokens.py): what a counter can
check with no network. A real token reads back exactly; any altered byte,
an unknown key or a past expiry is refused with its reason; the token fits a
QR code that scans off a worn screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey as PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from core import base45
from marketplace.pickup_tokens import (
    MAX_NAME_BYTES,
    PREFIX,
    PickupClaims,
    TokenRefused,
    key_id_of,
    read_token,
    sign_token,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()
OTHER_KEY = Ed25519PrivateKey.generate()


def _claims(**changes: object) -> PickupClaims:
    fields: dict[str, object] = {
        "key_id": 3,
        "order_id": 123_456,
        "shop_id": 7,
        "item_id": 42,
        "quantity": 2,
        "member_masked_name": "张*英",
        "issued_at": NOW,
        "expires_at": NOW + timedelta(days=7),
    }
    fields.update(changes)
    return PickupClaims(**fields)  # type: ignore[arg-type]


def _keys(**by_id: Ed25519PrivateKey) -> dict[int, PublicKey]:
    return {int(key_id.removeprefix("k")): key.public_key() for key_id, key in by_id.items()}


def test_a_signed_token_reads_back_as_the_same_claims() -> None:
    claims = _claims()
    token = sign_token(claims, KEY)
    assert token.startswith(PREFIX)
    assert key_id_of(token) == 3
    assert read_token(token, _keys(k3=KEY), now=NOW) == claims
    # Scanners add spaces and line ends; the token is still read.
    assert read_token(f"  {token}\n", _keys(k3=KEY), now=NOW) == claims


def test_the_token_is_a_small_alphanumeric_qr_code() -> None:
    """Base45 after the prefix keeps the QR in alphanumeric mode: with the
    longest name allowed, version 10 at error level M or smaller."""
    token = sign_token(_claims(member_masked_name="欧" * 12, order_id=2**62), KEY)
    assert set(token) <= set(base45.ALPHABET)
    code = segno.make(token, error="m", micro=False)
    assert code.mode == "alphanumeric"
    assert isinstance(code.version, int) and code.version <= 10


@settings(max_examples=60)
@given(position=st.integers(min_value=len(PREFIX), max_value=150), replacement=st.sampled_from(base45.ALPHABET))
def test_changing_any_character_is_refused(position: int, replacement: str) -> None:
    token = sign_token(_claims(), KEY)
    index = min(position, len(token) - 1)
    if token[index] == replacement:
        return
    altered = token[:index] + replacement + token[index + 1 :]
    with pytest.raises(TokenRefused) as refused:
        read_token(altered, _keys(k3=KEY), now=NOW)
    assert refused.value.reason in {"malformed", "bad_signature", "unknown_key"}


def test_a_token_with_one_payload_byte_changed_fails_its_signature() -> None:
    token = sign_token(_claims(quantity=1), KEY)
    raw = bytearray(base45.decode(token.removeprefix(PREFIX)))
    raw[20] ^= 0x01  # inside the order's fields
    with pytest.raises(TokenRefused) as refused:
        read_token(PREFIX + base45.encode(bytes(raw)), _keys(k3=KEY), now=NOW)
    assert refused.value.reason == "bad_signature"


def test_a_token_signed_by_another_key_under_a_known_id_fails_its_signature() -> None:
    forged = sign_token(_claims(), OTHER_KEY)
    with pytest.raises(TokenRefused) as refused:
        read_token(forged, _keys(k3=KEY), now=NOW)
    assert refused.value.reason == "bad_signature"


def test_a_token_from_a_key_the_counter_does_not_know_is_refused() -> None:
    token = sign_token(_claims(key_id=9), KEY)
    with pytest.raises(TokenRefused) as refused:
        read_token(token, _keys(k3=KEY), now=NOW)
    assert refused.value.reason == "unknown_key"


def test_a_token_is_good_until_its_expiry_and_not_at_it() -> None:
    claims = _claims()
    token = sign_token(claims, KEY)
    assert read_token(token, _keys(k3=KEY), now=claims.expires_at - timedelta(seconds=1)) == claims
    with pytest.raises(TokenRefused) as refused:
        read_token(token, _keys(k3=KEY), now=claims.expires_at)
    assert refused.value.reason == "expired"


@pytest.mark.parametrize("text", ["", "FL1:", "FL2:BB8", "hello", PREFIX + "abc", PREFIX + "BB8" * 30])
def test_text_that_is_no_token_is_malformed(text: str) -> None:
    with pytest.raises(TokenRefused) as refused:
        read_token(text, _keys(k3=KEY), now=NOW)
    assert refused.value.reason == "malformed"


def test_a_long_name_is_cut_on_a_character_boundary() -> None:
    token = sign_token(_claims(member_masked_name="阿" + "*" * 40 + "明"), KEY)
    name = read_token(token, _keys(k3=KEY), now=NOW).member_masked_name
    assert len(name.encode()) <= MAX_NAME_BYTES
    assert name.startswith("阿*")


def test_times_without_a_zone_are_refused_when_signing() -> None:
    with pytest.raises(ValueError, match="timezone"):
        sign_token(_claims(issued_at=datetime(2026, 11, 30, 12, 0)), KEY)  # noqa: DTZ001 -- the point of the test


def test_the_prefix_and_alphabet_survive_a_lower_case_scan_only_as_malformed() -> None:
    """Some scanners lower-case what they read: that is refused as
    malformed, never misread as another order."""
    token = sign_token(_claims(), KEY)
    lowered = PREFIX + token.removeprefix(PREFIX).lower()
    assert lowered != token
    with pytest.raises(TokenRefused) as refused:
        read_token(lowered, _keys(k3=KEY), now=NOW)
    assert refused.value.reason == "malformed"
