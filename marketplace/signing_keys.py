"""The deployment's pickup-token signing keys: create, seal, rotate, list.

One key signs at a time: the newest one not retired. ``rotate`` retires
it and makes a new one; a retired key still verifies until
``verify_until``, the longest an order can wait for pickup after its
retirement (``placement.MAX_PICKUP_DAYS``, plus a day), so every token
already issued stays checkable until it expires by itself.

Private keys are sealed with AES-GCM under a key derived (HKDF-SHA256) from
``FENGLING_SECRET_KEY``: a database dump alone cannot sign tokens. The
public key is the associated data, so a sealed key cannot be swapped onto
another row. Each process keeps the unsealed signing key for at most
``CACHE_SECONDS``, so a rotation reaches every process within that time
(a token signed by the old key in between still verifies).
"""

from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from community import audit
from community.access import Principal
from community.members import get_member
from community.names import mask_name
from core.clock import utc_now
from core.database import in_write_transaction
from fengling_settings import get_settings
from marketplace import policy, transitions
from marketplace.errors import PickupTokenRefused
from marketplace.models import OrderRecord
from marketplace.orders import confirm_pickup, get_order, member_order
from marketplace.pickup_tokens import PickupClaims, TokenRefused, read_token, sign_token
from marketplace.placement import MAX_PICKUP_DAYS
from marketplace.policy import ShopAction
from marketplace.tables import SigningKey

# How long a retired key still verifies: the longest pickup window, and a day.
VERIFY_AFTER_RETIREMENT = timedelta(days=MAX_PICKUP_DAYS + 1)
CACHE_SECONDS = 60.0
_SEAL_INFO = b"fengling pickup-token signing key v1"
_NONCE_BYTES = 12


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """A key as operators and counters see it: never the private half."""

    key_id: int
    public_key: str  # raw 32 bytes, base64url without padding
    created_at: datetime
    retired_at: datetime | None
    verify_until: datetime | None


@dataclass(frozen=True, slots=True)
class ActiveSigningKey:
    key_id: int
    private_key: Ed25519PrivateKey


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sealing_key(secret_key: str) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SEAL_INFO).derive(secret_key.encode())
    return AESGCM(derived)


def seal(private_key: Ed25519PrivateKey, secret_key: str) -> tuple[str, str]:
    """(public key, sealed private key), both as stored."""
    raw_private = private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    raw_public = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    nonce = os.urandom(_NONCE_BYTES)
    sealed = nonce + _sealing_key(secret_key).encrypt(nonce, raw_private, raw_public)
    return _b64(raw_public), _b64(sealed)


def unseal(public_key: str, sealed_private_key: str, secret_key: str) -> Ed25519PrivateKey:
    """The private key; ``cryptography.exceptions.InvalidTag`` if the secret
    key differs from the one that sealed it or the row was tampered with."""
    sealed = _unb64(sealed_private_key)
    raw = _sealing_key(secret_key).decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], _unb64(public_key))
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_of(stored: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_unb64(stored))


def _info(row: SigningKey) -> KeyInfo:
    return KeyInfo(
        key_id=row.id,
        public_key=row.public_key,
        created_at=row.created_at,
        retired_at=row.retired_at,
        verify_until=row.verify_until,
    )


async def _insert_new_key() -> SigningKey:
    public, sealed = seal(Ed25519PrivateKey.generate(), get_settings().secret_key)
    row = SigningKey(public_key=public, sealed_private_key=sealed, created_at=utc_now())
    await row.save().run()
    return row


_cached: tuple[float, ActiveSigningKey] | None = None


async def signing_key() -> ActiveSigningKey:
    """The key that signs now, made on first use. Two processes making the
    first key at once both succeed; the newer one signs, and the other
    still verifies (it is not retired)."""
    global _cached
    if _cached is not None and time.monotonic() - _cached[0] < CACHE_SECONDS:
        return _cached[1]
    row = (
        await SigningKey.objects()
        .where(SigningKey.retired_at.is_null())
        .order_by(SigningKey.id, ascending=False)
        .first()
    )
    if row is None:
        row = await in_write_transaction(_insert_new_key)
    active = ActiveSigningKey(row.id, unseal(row.public_key, row.sealed_private_key, get_settings().secret_key))
    _cached = (time.monotonic(), active)
    return active


def forget_cached_key() -> None:
    """Read the signing key again on next use (after a rotation in this process)."""
    global _cached
    _cached = None


async def verification_keys(*, now: datetime | None = None) -> list[KeyInfo]:
    """Every key a counter should trust at ``now``: the signing key(s) and
    the retired ones whose tokens may still be unexpired. Oldest first."""
    moment = now or utc_now()
    rows = (
        await SigningKey.objects()
        .where(SigningKey.verify_until.is_null() | (SigningKey.verify_until > moment))
        .order_by(SigningKey.id)
    )
    return [_info(row) for row in rows]


async def all_keys() -> list[KeyInfo]:
    return [_info(row) for row in await SigningKey.objects().order_by(SigningKey.id)]


async def rotate(*, actor_ref: str, now: datetime | None = None) -> KeyInfo:
    """Retire the signing key(s) and make a new one, audited in the same
    transaction. Retired keys verify for ``VERIFY_AFTER_RETIREMENT`` more."""
    moment = now or utc_now()

    async def rotate_in_transaction() -> KeyInfo:
        retiring = await SigningKey.select(SigningKey.id).where(SigningKey.retired_at.is_null())
        retired_ids = [row["id"] for row in retiring]
        if retired_ids:
            await SigningKey.update(
                {SigningKey.retired_at: moment, SigningKey.verify_until: moment + VERIFY_AFTER_RETIREMENT}
            ).where(SigningKey.id.is_in(retired_ids))
        row = await _insert_new_key()
        await audit.record(
            actor_ref, "signing_key.rotated", f"signing_key:{row.id}", retired=retired_ids, public_key=row.public_key
        )
        return _info(row)

    rotated = await in_write_transaction(rotate_in_transaction)
    forget_cached_key()
    return rotated


async def pickup_token_of(principal: Principal, order_id: int, *, now: datetime | None = None) -> str:
    """The signed pickup token of one of the principal's own orders, while it
    waits for pickup: what the order's QR code carries. Another member's
    order does not exist (``orders.member_order``)."""
    order = await member_order(principal, order_id)
    transitions.check_awaiting_pickup(order)
    member = await get_member(order.member_id)
    key = await signing_key()
    claims = PickupClaims(
        key_id=key.key_id,
        order_id=order.id,
        shop_id=order.shop_id,
        item_id=order.item_id,
        quantity=order.quantity,
        member_masked_name=mask_name(member.name),
        issued_at=now or utc_now(),
        expires_at=order.expires_at,
    )
    return sign_token(claims, key.private_key)


async def counter_public_keys(*, now: datetime | None = None) -> dict[int, Ed25519PublicKey]:
    """The keys a token must be signed by to be trusted, by key id."""
    return {key.key_id: public_key_of(key.public_key) for key in await verification_keys(now=now)}


async def confirm_pickup_by_token(
    principal: Principal, *, shop_id: int, token: str, client_ref: str | None = None
) -> OrderRecord:
    """Hand over the order a scanned pickup token names, at the counter of
    ``shop_id``: the same confirmation as a typed code, exactly once.

    The token is checked here too (a counter's offline check is a
    convenience, never trusted). A genuine token for an order that is no
    longer waiting (picked up on another device, cancelled, expired) is
    ``OrderNotOpen``: a conflict the counter shows and syncs no further. A
    token cannot be guessed, so it does not count against the counter's
    wrong codes; the policy check in ``confirm_pickup`` still decides who
    may hand over at this shop."""
    # Who may hand over at this shop is decided before the token is read:
    # to anyone else the answer says nothing about tokens or orders.
    await policy.shop_for(principal, shop_id, ShopAction.COUNTER)
    now = utc_now()
    try:
        claims = read_token(token, await counter_public_keys(now=now), now=now)
    except TokenRefused as refused:
        raise PickupTokenRefused(refused.message, reason=refused.reason) from None
    if claims.shop_id != shop_id:
        raise PickupTokenRefused("this pickup token is for another shop", reason="other_shop")
    order = await get_order(claims.order_id)
    return await confirm_pickup(
        principal, shop_id=shop_id, code=order.pickup_code, expect_order_id=order.id, client_ref=client_ref
    )
