"""The deployment's pickup-token keys (marketplace/signing_keys.py): a
member's order gets a token any counter with the public keys can check; a
rotation keeps old tokens checkable until their keys' grace ends; private
keys are stored sealed; rotation is audited; another member's order has no
token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from community.tables import AuditEvent
from core.clock import utc_now
from fengling_settings import get_settings
from marketplace import orders, signing_keys
from marketplace.errors import OrderNotFound, OrderNotOpen
from marketplace.pickup_tokens import TokenRefused, read_token
from marketplace.tables import SigningKey
from tests.support.marketplace_helpers import Market, acting


@pytest.fixture(autouse=True)
def no_cached_key() -> None:
    """Each test's database starts empty: so must the process's key cache."""
    signing_keys.forget_cached_key()


async def _counter_keys() -> dict[int, Ed25519PublicKey]:
    return {key.key_id: signing_keys.public_key_of(key.public_key) for key in await signing_keys.verification_keys()}


async def test_an_orders_token_is_checked_with_the_public_keys_alone(market: Market) -> None:
    item = await market.item(stock=5)
    member = await market.member("100")
    order = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id, quantity=2)

    token = await signing_keys.pickup_token_of(await acting(member), order.id)
    claims = read_token(token, await _counter_keys(), now=utc_now())

    assert (claims.order_id, claims.shop_id, claims.item_id, claims.quantity) == (order.id, order.shop_id, item.id, 2)
    assert claims.expires_at == order.expires_at.replace(microsecond=0)
    assert "*" in claims.member_masked_name
    assert int(await SigningKey.count().run()) == 1  # made on first use, once


async def test_another_members_order_has_no_token_and_a_closed_order_neither(market: Market) -> None:
    item = await market.item(stock=5)
    owner, stranger = await market.member("100"), await market.member("100")
    order = await orders.place_order(await acting(owner), item_id=item.id, shop_id=market.shop_a.id)

    with pytest.raises(OrderNotFound):
        await signing_keys.pickup_token_of(await acting(stranger), order.id)
    await orders.cancel_order(await acting(owner), order_id=order.id)
    with pytest.raises(OrderNotOpen):
        await signing_keys.pickup_token_of(await acting(owner), order.id)


async def test_after_a_rotation_old_tokens_verify_until_the_old_keys_grace_ends(market: Market) -> None:
    item = await market.item(stock=5)
    member = await market.member("100")
    order = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    old_token = await signing_keys.pickup_token_of(await acting(member), order.id)

    rotated = await signing_keys.rotate(actor_ref="cli:keys-rotate")
    new_token = await signing_keys.pickup_token_of(await acting(member), order.id)

    keys = await _counter_keys()
    assert read_token(old_token, keys, now=utc_now()).key_id != rotated.key_id
    assert read_token(new_token, keys, now=utc_now()).key_id == rotated.key_id
    old = next(key for key in await signing_keys.all_keys() if key.key_id != rotated.key_id)
    assert old.retired_at is not None and old.verify_until == old.retired_at + signing_keys.VERIFY_AFTER_RETIREMENT
    # Once the grace has passed, counters stop trusting the old key.
    later = await signing_keys.verification_keys(now=old.verify_until + timedelta(seconds=1))
    assert [key.key_id for key in later] == [rotated.key_id]
    with pytest.raises(TokenRefused) as refused:
        read_token(old_token, {key.key_id: signing_keys.public_key_of(key.public_key) for key in later}, now=utc_now())
    assert refused.value.reason == "unknown_key"


async def test_a_rotation_is_audited_with_the_keys_it_retired(market: Market) -> None:
    first = await signing_keys.signing_key()
    rotated = await signing_keys.rotate(actor_ref="cli:keys-rotate")
    events = await AuditEvent.select().where(AuditEvent.action == "signing_key.rotated").run()
    assert len(events) == 1
    assert events[0]["actor_ref"] == "cli:keys-rotate"
    assert events[0]["target_ref"] == f"signing_key:{rotated.key_id}"
    assert f"[{first.key_id}]" in events[0]["detail"]


async def test_private_keys_are_stored_sealed_and_only_this_deployments_secret_opens_them(market: Market) -> None:
    key = await signing_keys.signing_key()
    row = await SigningKey.objects().where(SigningKey.id == key.key_id).first()
    assert row is not None
    raw_private = key.private_key.private_bytes_raw()
    assert raw_private not in signing_keys._unb64(row.sealed_private_key)
    with pytest.raises(InvalidTag):
        signing_keys.unseal(row.public_key, row.sealed_private_key, "another deployment's secret key")
    # Sealed under one public key, it cannot be passed off as another row's.
    other = await signing_keys.rotate(actor_ref="test")
    with pytest.raises(InvalidTag):
        signing_keys.unseal(other.public_key, row.sealed_private_key, get_settings().secret_key)
