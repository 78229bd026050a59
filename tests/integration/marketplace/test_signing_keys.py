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

from community.errors import AccessRefused
from community.tables import AuditEvent
from core.clock import utc_now
from fengling_settings import get_settings
from marketplace import orders, signing_keys
from marketplace.accounts import settlement_code
from marketplace.errors import OrderNotFound, OrderNotOpen, PickupTokenRefused, ShopNotFound
from marketplace.models import OrderStatus
from marketplace.pickup_tokens import TokenRefused, read_token
from marketplace.tables import SigningKey
from tests.support.marketplace_helpers import Market, acting, assert_same, balance, snapshot_everything


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


async def test_a_scanned_token_hands_over_its_order_once_and_a_second_device_gets_a_conflict(market: Market) -> None:
    item = await market.item(stock=5)
    member = await market.member("100")
    order = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    token = await signing_keys.pickup_token_of(await acting(member), order.id)
    staff = await acting(market.staff_a)

    done = await signing_keys.confirm_pickup_by_token(staff, shop_id=market.shop_a.id, token=token)
    assert done.id == order.id and done.status == OrderStatus.FULFILLED and done.entry_id is not None
    before = await snapshot_everything()
    with pytest.raises(OrderNotOpen):
        await signing_keys.confirm_pickup_by_token(staff, shop_id=market.shop_a.id, token=token)
    assert_same(before, await snapshot_everything())
    assert await balance(settlement_code(market.shop_a.id)) == order.total


async def test_a_token_whose_code_now_belongs_to_a_newer_order_does_not_hand_that_one_over(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Codes are unique among open orders only: once an order is closed its
    code may be drawn again. Its old token names the old order, so it is a
    conflict, and the newer order waits for its own customer."""
    item = await market.item(stock=5)
    member = await market.member("100")
    monkeypatch.setattr(orders, "new_pickup_code", lambda: "AAAA2222")
    first = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    old_token = await signing_keys.pickup_token_of(await acting(member), first.id)
    await orders.cancel_order(await acting(member), order_id=first.id)
    newer = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    assert newer.pickup_code == first.pickup_code

    with pytest.raises(OrderNotOpen):
        await signing_keys.confirm_pickup_by_token(
            await acting(market.staff_a), shop_id=market.shop_a.id, token=old_token
        )
    assert (await orders.get_order(newer.id)).status == OrderStatus.PLACED


async def test_altered_expired_and_other_shop_tokens_are_refused_by_reason(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = await market.item(stock=5, shops=[market.shop_a.id, market.shop_b.id])
    member = await market.member("100")
    order = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id, pickup_days=1)
    token = await signing_keys.pickup_token_of(await acting(member), order.id)
    staff_a, staff_b = await acting(market.staff_a), await acting(market.staff_b)
    before = await snapshot_everything()

    altered = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    for bad, staff, shop, reason in [
        (altered, staff_a, market.shop_a.id, "bad_signature"),
        (token, staff_b, market.shop_b.id, "other_shop"),
        ("FL1:not a token", staff_a, market.shop_a.id, "malformed"),
    ]:
        with pytest.raises(PickupTokenRefused) as refused:
            await signing_keys.confirm_pickup_by_token(staff, shop_id=shop, token=bad)
        assert refused.value.reason == reason
    monkeypatch.setattr(signing_keys, "utc_now", lambda: order.expires_at + timedelta(minutes=1))
    with pytest.raises(PickupTokenRefused) as expired:
        await signing_keys.confirm_pickup_by_token(staff_a, shop_id=market.shop_a.id, token=token)
    assert expired.value.reason == "expired"
    assert_same(before, await snapshot_everything())


async def test_who_is_not_staff_of_the_shop_learns_nothing_from_a_token(market: Market) -> None:
    item = await market.item(stock=5)
    member = await market.member("100")
    order = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    token = await signing_keys.pickup_token_of(await acting(member), order.id)
    with pytest.raises(ShopNotFound):
        await signing_keys.confirm_pickup_by_token(await acting(member), shop_id=market.shop_a.id, token="garbage")
    with pytest.raises(AccessRefused):
        await signing_keys.confirm_pickup_by_token(
            await acting(market.organiser), shop_id=market.shop_a.id, token=token
        )
    assert (await orders.get_order(order.id)).status == OrderStatus.PLACED
