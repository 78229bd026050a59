"""Signed pickup tokens: what an order's QR code carries, checkable offline.

A shop counter with no network must still tell a real order from a forged
or edited one. The token holds the order's facts and an Ed25519 signature
by the deployment's current signing key (``marketplace/signing_keys.py``);
a counter that cached the public keys checks it without the server.

A token is **not bearer money**. It only names an order. Confirming a
hand-over still goes to the server, which checks the order's state and
posts the ledger once (``marketplace.orders``); a copied token for an
order already picked up, cancelled or expired is a conflict there.

Wire form, version 1: ``FL1:`` + base45(payload ‖ signature), where the
payload is fixed-width big-endian fields and the member's masked name:

====  ======  ====================================================
bytes field   meaning
====  ======  ====================================================
1     version 1
4     key id  which signing key signed it (``signing_keys``)
8     order   order id
4     shop    shop id
4     item    catalog item id
2     qty     quantity
4     issued  issue time, Unix seconds (UTC)
4     expires expiry time, Unix seconds: the order's pickup deadline
1     n       length of the name in UTF-8 bytes (≤ 36)
n     name    the member's masked name (张*英), UTF-8
64    sig     Ed25519 over everything above
====  ======  ====================================================

About 120 bytes, 180 base45 characters: a version 8 QR code at error
level M, in alphanumeric mode. Everything here is pure: no database, no clock
but the one passed in.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from core import base45

PREFIX = "FL1:"
VERSION = 1
SIGNATURE_BYTES = 64
MAX_NAME_BYTES = 36
_HEADER = struct.Struct(">BIQIIHIIB")

RefusalReason = Literal["malformed", "unknown_key", "bad_signature", "expired"]


@dataclass(frozen=True, slots=True)
class PickupClaims:
    """What a pickup token says about its order."""

    key_id: int
    order_id: int
    shop_id: int
    item_id: int
    quantity: int
    member_masked_name: str
    issued_at: datetime
    expires_at: datetime


class TokenRefused(ValueError):
    """A token that does not prove an order: unreadable, signed by no key
    this counter knows, altered, or past its expiry."""

    def __init__(self, reason: RefusalReason, message: str) -> None:
        super().__init__(message)
        self.reason: RefusalReason = reason
        self.message = message


def _unix(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("pickup token times must be timezone-aware")
    return int(moment.timestamp())


def _name_bytes(name: str) -> bytes:
    """The masked name, cut on a character boundary to fit its byte budget."""
    encoded = name.encode()
    while len(encoded) > MAX_NAME_BYTES:
        name = name[:-1]
        encoded = name.encode()
    return encoded


def payload_of(claims: PickupClaims) -> bytes:
    """The signed bytes of ``claims``."""
    name = _name_bytes(claims.member_masked_name)
    header = _HEADER.pack(
        VERSION,
        claims.key_id,
        claims.order_id,
        claims.shop_id,
        claims.item_id,
        claims.quantity,
        _unix(claims.issued_at),
        _unix(claims.expires_at),
        len(name),
    )
    return header + name


def sign_token(claims: PickupClaims, private_key: Ed25519PrivateKey) -> str:
    """The token text for ``claims``, signed by ``private_key`` (whose id
    must be ``claims.key_id``)."""
    payload = payload_of(claims)
    return PREFIX + base45.encode(payload + private_key.sign(payload))


def _parse_payload(payload: bytes) -> PickupClaims:
    if len(payload) < _HEADER.size:
        raise TokenRefused("malformed", "pickup token too short")
    version, key_id, order_id, shop_id, item_id, quantity, issued, expires, name_length = _HEADER.unpack_from(payload)
    if version != VERSION:
        raise TokenRefused("malformed", f"unknown pickup token version {version}")
    name = payload[_HEADER.size :]
    if len(name) != name_length:
        raise TokenRefused("malformed", "pickup token name length does not match")
    try:
        masked_name = name.decode()
    except UnicodeDecodeError:
        raise TokenRefused("malformed", "pickup token name is not UTF-8") from None
    return PickupClaims(
        key_id=key_id,
        order_id=order_id,
        shop_id=shop_id,
        item_id=item_id,
        quantity=quantity,
        member_masked_name=masked_name,
        issued_at=datetime.fromtimestamp(issued, UTC),
        expires_at=datetime.fromtimestamp(expires, UTC),
    )


def key_id_of(token: str) -> int:
    """Which key signed ``token`` (to look it up), before any check."""
    payload, _ = _split(token)
    return _parse_payload(payload).key_id


def _split(token: str) -> tuple[bytes, bytes]:
    text = token.strip()
    if not text.startswith(PREFIX):
        raise TokenRefused("malformed", "not a Fengling pickup token")
    try:
        raw = base45.decode(text.removeprefix(PREFIX))
    except base45.Base45Error as error:
        raise TokenRefused("malformed", f"pickup token is not base45: {error}") from None
    if len(raw) <= SIGNATURE_BYTES:
        raise TokenRefused("malformed", "pickup token too short")
    return raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]


def read_token(token: str, public_keys: dict[int, Ed25519PublicKey], *, now: datetime) -> PickupClaims:
    """The claims of ``token`` if one of ``public_keys`` (by key id) signed
    exactly these bytes and the token has not expired at ``now``; otherwise
    ``TokenRefused`` with the reason. The signature is checked before any
    claim is trusted; the expiry after, so an expired token is told apart
    from a forged one."""
    payload, signature = _split(token)
    claims = _parse_payload(payload)
    public_key = public_keys.get(claims.key_id)
    if public_key is None:
        raise TokenRefused("unknown_key", f"pickup token signed by unknown key {claims.key_id}")
    try:
        public_key.verify(signature, payload)
    except InvalidSignature:
        raise TokenRefused("bad_signature", "pickup token signature does not match") from None
    if now >= claims.expires_at:
        raise TokenRefused("expired", "pickup token has expired")
    return claims
