"""Counter powers follow role grants (issue #8): a member works a shop's
counter only while linked to the shop *and* holding the ``shop_staff`` role
over its organisation. Adding staff is limited to members the caller
manages, never the caller; removing staff is possible. Every refusal writes
nothing; every change is audited in its own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from community import audit
from community.errors import AccessRefused, MemberNotFound
from community.members import grant_role
from community.organisations import create_organisation
from community.posts import revoke_post
from community.roles import Level, Role
from community.tables import AuditEvent, RoleGrant
from marketplace import orders
from marketplace.errors import PickupCodeNotFound, PickupThrottled, ShopNotFound, StaffNotFound
from marketplace.models import OrderRecord, OrderStatus
from marketplace.orders import GuessStanding, confirm_pickup, return_order, shop_orders
from marketplace.periods import period_bounds
from marketplace.settlement import settle_period, shop_statement
from marketplace.shops import add_staff, list_staff, remove_staff
from marketplace.tables import ShopStaff
from tests.support.marketplace_helpers import (
    Market,
    acting,
    assert_same,
    fast_member,
    snapshot_everything,
)


def month(moment: datetime) -> str:
    start, _ = period_bounds("month", moment)
    return f"{start.year}-{start.month:02d}"


async def open_and_fulfilled(market: Market) -> tuple[OrderRecord, OrderRecord]:
    """At shop A: one order waiting for pickup and one picked up."""
    item = await market.item(stock=10)
    member = await acting(await market.member("100"))
    waiting = await orders.place_order(member, item_id=item.id, shop_id=market.shop_a.id)
    picked = await orders.place_order(member, item_id=item.id, shop_id=market.shop_a.id)
    done = await confirm_pickup(await acting(market.staff_a), shop_id=market.shop_a.id, code=picked.pickup_code)
    return waiting, done


async def staff_grants(member_id: int) -> list[int]:
    rows = (
        await RoleGrant.select(RoleGrant.organisation)
        .where((RoleGrant.member == member_id) & (RoleGrant.role == Role.SHOP_STAFF.value))
        .run()
    )
    return sorted(int(row["organisation"]) for row in rows)


async def refused_alike(error: type[Exception], call: Any) -> Exception:
    """Await ``call``, expect ``error``, and prove nothing was written."""
    before = await snapshot_everything()
    with pytest.raises(error) as caught:
        await call
    assert_same(before, await snapshot_everything())
    return caught.value


async def test_revoked_shop_staff_lose_pickups_returns_orders_and_statements(market: Market) -> None:
    """The clerk's shop_staff role is revoked (the ShopStaff link stays): all
    four counter powers answer ShopNotFound at once, even for a Principal built
    before the revocation, and nothing is written."""
    waiting, done = await open_and_fulfilled(market)
    clerk = await acting(market.staff_a)
    assert (await shop_orders(clerk, market.shop_a.id)).orders  # works before
    await revoke_post(await acting(market.organiser), market.org_id, market.staff_a, Role.SHOP_STAFF)
    assert await ShopStaff.exists().where(ShopStaff.member == market.staff_a).run()  # only the role went

    for principal in (clerk, await acting(market.staff_a)):
        await refused_alike(ShopNotFound, confirm_pickup(principal, shop_id=market.shop_a.id, code=waiting.pickup_code))
        await refused_alike(
            ShopNotFound,
            return_order(principal, shop_id=market.shop_a.id, order_id=done.id, restock=True, reason_zh="退货"),
        )
        await refused_alike(ShopNotFound, shop_orders(principal, market.shop_a.id))
        assert done.fulfilled_at is not None
        await refused_alike(ShopNotFound, shop_statement(principal, market.shop_a.id, month(done.fulfilled_at)))
    assert (await orders.get_order(waiting.id)).status == "placed"
    assert (await orders.get_order(done.id)).status == "fulfilled"


async def test_counter_needs_the_link_and_the_role_and_managers_are_not_clerks(market: Market) -> None:
    """Holding shop_staff over the community without a link to shop A is not
    enough (404); the organiser manages shop A but does not work its counter (403)."""
    waiting, _ = await open_and_fulfilled(market)
    unlinked = await fast_member(market.org_id, "别店店员")
    await grant_role(unlinked, market.org_id, Role.SHOP_STAFF)
    await refused_alike(
        ShopNotFound, confirm_pickup(await acting(unlinked), shop_id=market.shop_a.id, code=waiting.pickup_code)
    )
    error = await refused_alike(
        AccessRefused,
        confirm_pickup(await acting(market.organiser), shop_id=market.shop_a.id, code=waiting.pickup_code),
    )
    assert isinstance(error, AccessRefused) and error.code == "not_shop_staff"
    # Staff of shop B see nothing of shop A.
    await refused_alike(ShopNotFound, shop_orders(await acting(market.staff_b), market.shop_a.id))


class SlowedCounter:
    """A pickup-guess counter past its limit: slowed for a minute, with the
    slow lookup slot free or just taken."""

    def __init__(self, *, slot_free: bool) -> None:
        self.slot_free = slot_free
        self.failures = 0
        self.lookups_taken = 0

    async def standing(self, shop_id: int, code: str) -> GuessStanding:
        return GuessStanding(tries_left=0, locked_for=60)

    async def take_slow_lookup(self, shop_id: int) -> int:
        self.lookups_taken += 1
        return 0 if self.slot_free else 4

    async def record_failure(self, shop_id: int, code: str) -> GuessStanding:
        self.failures += 1
        return GuessStanding(tries_left=0, locked_for=60)


async def test_a_slowed_counter_still_hands_over_a_right_code(market: Market) -> None:
    """Past the limit of wrong codes the shop keeps serving its customers:
    a right code, looked up in the slowed counter's slot, is handed over."""
    waiting, _ = await open_and_fulfilled(market)
    counter = SlowedCounter(slot_free=True)
    done = await confirm_pickup(
        await acting(market.staff_a), shop_id=market.shop_a.id, code=waiting.pickup_code, guesses=counter
    )
    assert done.status == OrderStatus.FULFILLED
    assert (counter.lookups_taken, counter.failures) == (1, 0)


async def test_a_wrong_code_at_a_slowed_counter_says_no_tries_are_left_and_for_how_long(market: Market) -> None:
    await open_and_fulfilled(market)
    counter = SlowedCounter(slot_free=True)
    before = await snapshot_everything()
    with pytest.raises(PickupCodeNotFound) as wrong:
        await confirm_pickup(await acting(market.staff_a), shop_id=market.shop_a.id, code="ZZZZ2222", guesses=counter)
    assert wrong.value.problem_extensions == {"tries_left": 0, "locked_for": 60}
    assert counter.failures == 1
    assert_same(before, await snapshot_everything())


async def test_a_code_typed_before_the_slowed_counters_next_slot_waits_and_only_its_staff_hear_why(
    market: Market,
) -> None:
    """While another code was looked up moments ago, the clerk is told to
    wait a few seconds and nothing is written; staff of another shop and
    managers get the refusal they get anyway (404 / 403), never the
    throttle, which would say the shop exists and is being tried."""
    waiting, _ = await open_and_fulfilled(market)
    counter = SlowedCounter(slot_free=False)
    before = await snapshot_everything()
    code = waiting.pickup_code
    with pytest.raises(PickupThrottled) as throttled:
        await confirm_pickup(await acting(market.staff_a), shop_id=market.shop_a.id, code=code, guesses=counter)
    assert throttled.value.retry_after_seconds == 4
    with pytest.raises(ShopNotFound):
        await confirm_pickup(await acting(market.staff_b), shop_id=market.shop_a.id, code=code, guesses=counter)
    with pytest.raises(AccessRefused):
        await confirm_pickup(await acting(market.organiser), shop_id=market.shop_a.id, code=code, guesses=counter)
    assert counter.failures == 0
    assert_same(before, await snapshot_everything())


async def test_staff_do_not_settle_and_other_communities_do_not_see_the_shop(market: Market) -> None:
    """Settling needs a manager of the shop's organisation: the clerk gets 403
    (not_manager), an organiser of another community 404, nothing written."""
    _, done = await open_and_fulfilled(market)
    assert done.fulfilled_at is not None
    period = month(done.fulfilled_at)
    error = await refused_alike(
        AccessRefused, settle_period(await acting(market.staff_a), shop_id=market.shop_a.id, period=period)
    )
    assert isinstance(error, AccessRefused) and error.code == "not_manager"
    elsewhere = await create_organisation(name_zh="别的社区", level=Level.COMMUNITY, issues_points=True)
    stranger = await fast_member(elsewhere.id, "外社区书记")
    await grant_role(stranger, elsewhere.id, Role.ORGANIZER)
    await refused_alike(ShopNotFound, settle_period(await acting(stranger), shop_id=market.shop_a.id, period=period))
    await refused_alike(ShopNotFound, shop_statement(await acting(stranger), market.shop_a.id, period))


async def test_add_staff_refuses_the_caller_itself(market: Market) -> None:
    """An organiser adding themself would dodge "nobody changes their own
    roles": AccessRefused with code own_roles, no grant, no link, no audit."""
    error = await refused_alike(
        AccessRefused, add_staff(await acting(market.organiser), market.shop_a.id, market.organiser)
    )
    assert isinstance(error, AccessRefused) and error.code == "own_roles" and error.field == "member_id"


async def test_add_staff_refuses_another_communitys_member_like_a_missing_id(market: Market) -> None:
    """A member of another community and a member id that does not exist get
    the same error and the same words (the id aside): member ids cannot be probed."""
    elsewhere = await create_organisation(name_zh="别的社区", level=Level.COMMUNITY, issues_points=True)
    foreigner = await fast_member(elsewhere.id, "外人")
    organiser = await acting(market.organiser)
    foreign = await refused_alike(MemberNotFound, add_staff(organiser, market.shop_a.id, foreigner))
    missing = await refused_alike(MemberNotFound, add_staff(organiser, market.shop_a.id, foreigner + 1000))
    assert isinstance(foreign, MemberNotFound) and isinstance(missing, MemberNotFound)
    assert foreign.message.replace(str(foreigner), "N") == missing.message.replace(str(foreigner + 1000), "N")
    assert foreign.field == missing.field == "member_id"


async def test_add_staff_grants_links_and_audits_then_the_member_works_the_counter(market: Market) -> None:
    """A new clerk: shop_staff granted at the shop's organisation, linked, one
    audit row; adding again changes nothing; the clerk confirms a pickup."""
    waiting, _ = await open_and_fulfilled(market)
    clerk = await fast_member(market.org_id, "新店员")
    assert await add_staff(await acting(market.organiser), market.shop_a.id, clerk) is True
    assert await staff_grants(clerk) == [market.org_id]
    audits = await AuditEvent.select().where(AuditEvent.action == "shop.staff.add").run()
    assert [row["target_ref"] for row in audits][-1] == f"shop:{market.shop_a.id}"
    count = await AuditEvent.count().run()
    assert await add_staff(await acting(market.organiser), market.shop_a.id, clerk) is False
    assert await AuditEvent.count().run() == count
    done = await confirm_pickup(await acting(clerk), shop_id=market.shop_a.id, code=waiting.pickup_code)
    assert done.status == "fulfilled"
    listed = await list_staff(await acting(market.organiser), market.shop_a.id)
    assert [(s.member_id, s.holds_role) for s in listed] == [(market.staff_a, True), (clerk, True)]


async def test_add_staff_and_its_audit_commit_together(market: Market, monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit write fails: the grant and the link roll back with it."""
    clerk = await fast_member(market.org_id, "新店员")

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("audit store down")

    monkeypatch.setattr(audit, "record", broken)
    await refused_alike(RuntimeError, add_staff(await acting(market.organiser), market.shop_a.id, clerk))
    assert await staff_grants(clerk) == []


async def test_removed_staff_lose_the_counter_and_the_unused_role(market: Market) -> None:
    """Removing the only clerk of shop A unlinks them and revokes their
    shop_staff grant (it covers no other shop of theirs); their next pickup is
    refused and nothing is written by it."""
    waiting, _ = await open_and_fulfilled(market)
    await remove_staff(await acting(market.organiser), market.shop_a.id, market.staff_a)
    assert await staff_grants(market.staff_a) == []
    assert not await ShopStaff.exists().where(ShopStaff.member == market.staff_a).run()
    (row,) = await AuditEvent.select().where(AuditEvent.action == "shop.staff.remove").run()
    assert row["actor_ref"] == f"member:{market.organiser}"
    await refused_alike(
        ShopNotFound, confirm_pickup(await acting(market.staff_a), shop_id=market.shop_a.id, code=waiting.pickup_code)
    )


async def test_removing_staff_from_one_shop_keeps_the_role_another_shop_needs(market: Market) -> None:
    """Shop B's clerk also works at shop A; removed from A they keep the
    community's shop_staff grant and still work B's counter, not A's."""
    organiser = await acting(market.organiser)
    await add_staff(organiser, market.shop_a.id, market.staff_b)
    item = await market.item(stock=5, shops=[market.shop_a.id, market.shop_b.id])
    member = await acting(await market.member("100"))
    at_a = await orders.place_order(member, item_id=item.id, shop_id=market.shop_a.id)
    at_b = await orders.place_order(member, item_id=item.id, shop_id=market.shop_b.id)
    await remove_staff(organiser, market.shop_a.id, market.staff_b)
    assert await staff_grants(market.staff_b) == [market.org_id]
    clerk = await acting(market.staff_b)
    await refused_alike(ShopNotFound, confirm_pickup(clerk, shop_id=market.shop_a.id, code=at_a.pickup_code))
    assert (await confirm_pickup(clerk, shop_id=market.shop_b.id, code=at_b.pickup_code)).status == "fulfilled"


async def test_remove_staff_refuses_self_and_members_who_do_not_work_there(market: Market) -> None:
    """Nobody removes themself (own_roles); a member not linked to the shop and
    an unknown id both answer StaffNotFound; nothing is written."""
    organiser = await acting(market.organiser)
    await add_staff(organiser, market.shop_a.id, market.staff_b)
    # A second organiser makes the first one a clerk of shop A.
    other_organiser = await fast_member(market.org_id, "副书记")
    await grant_role(other_organiser, market.org_id, Role.ORGANIZER)
    await add_staff(await acting(other_organiser), market.shop_a.id, market.organiser)
    error = await refused_alike(AccessRefused, remove_staff(organiser, market.shop_a.id, market.organiser))
    assert isinstance(error, AccessRefused) and error.code == "own_roles"
    await refused_alike(StaffNotFound, remove_staff(organiser, market.shop_b.id, market.staff_a))
    await refused_alike(StaffNotFound, remove_staff(organiser, market.shop_a.id, 10_000))
    # A clerk is no manager: removing a colleague is a 403.
    error = await refused_alike(
        AccessRefused, remove_staff(await acting(market.staff_a), market.shop_a.id, market.staff_b)
    )
    assert isinstance(error, AccessRefused) and error.code == "not_manager"
