"""Building blocks for the marketplace tests: a community with shops, funded
members, catalog items, whole-database snapshots ("nothing was written") and
the ledger's own view of a shop's settlement account (read straight from
the tables, never through ``marketplace.settlement``)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from community.access import Principal
from community.accounts import issuance_code, open_wallet, wallet_code
from community.members import grant_role
from community.organisations import create_organisation
from community.passwords import hash_password_blocking
from community.roles import Level, Role
from community.tables import Member, RoleGrant
from core.clock import utc_now
from ledger import accounts, posting
from ledger.tables import LedgerHold, LedgerPosting
from ledger.verify import verify_ledger
from marketplace.accounts import settlement_code
from marketplace.catalog import ItemDraft, create_item
from marketplace.models import ItemRecord, ShopRecord
from marketplace.shops import add_staff, create_shop
from marketplace.tables import CatalogItem, RedemptionOrder
from tests.support.community_helpers import principal
from tests.support.database import all_tables, on_postgres
from tests.support.ledger_helpers import check_invariants

PASSWORD = "correct-horse-1"


@functools.cache
def _password_hash() -> str:
    """argon2 costs ~0.2 s a hash: pay it once for every member of the run."""
    return hash_password_blocking(PASSWORD)


_phone_counter = iter(range(10_000_000))
# The market's members joined long ago, past the fraud rules' cooling-off
# (a redemption within days of joining is held for review); the tests of
# that rule make their members today.
LONG_AGO = timedelta(days=90)


async def fast_member(organisation_id: int, name: str = "志愿者", *, joined_ago: timedelta = timedelta(0)) -> int:
    """What ``register_member`` does for a volunteer (member row, volunteer
    role, wallet), with a precomputed password hash."""
    phone = f"139{next(_phone_counter):08d}"
    inserted = await Member.insert(
        Member(
            name=name,
            phone=phone,
            password_hash=_password_hash(),
            home_organisation=organisation_id,
            created_at=utc_now() - joined_ago,
        )
    ).run()
    member_id = int(inserted[0]["id"])
    await grant_role(member_id, organisation_id, Role.VOLUNTEER)
    await open_wallet(member_id, organisation_id)
    return member_id


async def _each(calls: Iterable[Coroutine[Any, Any, Any]]) -> None:
    """Side by side on PostgreSQL (each call waits on its own connection);
    one after another on SQLite, where concurrent writers only queue on the
    busy timeout."""
    if on_postgres():
        await asyncio.gather(*calls)
    else:
        for call in calls:
            await call


async def fast_members(organisation_id: int, count: int, *, joined_ago: timedelta = timedelta(0)) -> list[int]:
    """``fast_member`` for many at once: one insert for the members, one for
    their roles, then the wallets (side by side on PostgreSQL)."""
    phones = [f"139{next(_phone_counter):08d}" for _ in range(count)]
    inserted = await Member.insert(
        *(
            Member(
                name=f"志愿者{n}",
                phone=phone,
                password_hash=_password_hash(),
                home_organisation=organisation_id,
                created_at=utc_now() - joined_ago,
            )
            for n, phone in enumerate(phones)
        )
    ).run()
    member_ids = [int(row["id"]) for row in inserted]
    await RoleGrant.insert(
        *(RoleGrant(member=m, organisation=organisation_id, role=Role.VOLUNTEER.value) for m in member_ids)
    ).run()
    await _each(open_wallet(m, organisation_id) for m in member_ids)
    return member_ids


async def fund_member(organisation_id: int, member_id: int, amount: str | Decimal) -> None:
    await posting.transfer(
        debit_code=issuance_code(organisation_id),
        credit_code=wallet_code(member_id),
        amount=amount,
        kind="award",
        reason_zh="志愿服务奖励",
    )


async def acting(member_id: int) -> Principal:
    """The member as the API sees them on a request (grants read now)."""
    return await principal(member_id)


@dataclass
class Market:
    org_id: int
    shop_a: ShopRecord
    shop_b: ShopRecord
    staff_a: int  # counter staff of shop A
    staff_b: int  # counter staff of shop B
    organiser: int  # organiser of the community: manages both shops and the catalog

    async def member(self, points: str | Decimal = "0") -> int:
        member_id = await fast_member(self.org_id, joined_ago=LONG_AGO)
        if Decimal(points) > 0:
            await fund_member(self.org_id, member_id, points)
        return member_id

    async def members(self, count: int, points: str | Decimal = "0") -> list[int]:
        """``count`` funded volunteers, written in bulk (one by one, 50
        members cost seconds)."""
        member_ids = await fast_members(self.org_id, count, joined_ago=LONG_AGO)
        if Decimal(points) > 0:
            await _each(fund_member(self.org_id, m, points) for m in member_ids)
        return member_ids

    async def item(self, *, shops: list[int] | None = None, **fields: Any) -> ItemRecord:
        fields.setdefault("name_zh", "洗衣液")
        fields.setdefault("name_en", "Laundry liquid")
        fields.setdefault("price", Decimal("10.00"))
        fields.setdefault("category", "household")
        return await create_item(
            await acting(self.organiser), self.org_id, ItemDraft(shop_ids=shops or [self.shop_a.id], **fields)
        )


async def build_market() -> Market:
    """A community that issues points, its organiser, two partner shops the
    organiser opened, one staff member each (added by the organiser)."""
    city = await create_organisation(name_zh="杭州市", level=Level.CITY)
    community = await create_organisation(
        name_zh="凤岭社区", level=Level.COMMUNITY, parent_id=city.id, issues_points=True
    )
    organiser = await fast_member(community.id, "陈书记")
    await grant_role(organiser, community.id, Role.ORGANIZER)
    manager = await acting(organiser)
    shop_a = await create_shop(manager, organisation_id=community.id, name_zh="凤岭便民超市", address="凤岭路 1 号")
    shop_b = await create_shop(manager, organisation_id=community.id, name_zh="东门小卖部", address="东门 3 号")
    staff_a = await fast_member(community.id, "店员甲")
    staff_b = await fast_member(community.id, "店员乙")
    await add_staff(manager, shop_a.id, staff_a)
    await add_staff(manager, shop_b.id, staff_b)
    return Market(
        org_id=community.id, shop_a=shop_a, shop_b=shop_b, staff_a=staff_a, staff_b=staff_b, organiser=organiser
    )


# --- reading back --------------------------------------------------------------


async def balance(code: str) -> Decimal:
    return (await accounts.get_balance(code)).balance


async def available(code: str) -> Decimal:
    return (await accounts.get_balance(code)).available


async def wallet(member_id: int) -> Decimal:
    return await balance(wallet_code(member_id))


async def wallet_available(member_id: int) -> Decimal:
    return await available(wallet_code(member_id))


async def stock(item_id: int) -> int | None:
    rows = await CatalogItem.select(CatalogItem.stock).where(CatalogItem.id == item_id).run()
    found: int | None = rows[0]["stock"]
    return found


async def active_holds() -> list[dict[str, Any]]:
    return list(await LedgerHold.select().where(LedgerHold.status == "active").order_by(LedgerHold.id).run())


async def orders() -> list[dict[str, Any]]:
    return list(await RedemptionOrder.select().order_by(RedemptionOrder.id).run())


async def ledger_into_shop(shop_id: int, start: datetime, end: datetime) -> tuple[int, int]:
    """(credits, debits) in hundredths posted to the shop's settlement account
    by entries created in [start, end), settlement entries excluded."""
    rows = (
        await LedgerPosting.select(LedgerPosting.amount_minor)
        .where(
            (LedgerPosting.account.code == settlement_code(shop_id))
            & (LedgerPosting.entry.kind != "settlement")
            & (LedgerPosting.entry.created_at >= start)
            & (LedgerPosting.entry.created_at < end)
        )
        .run()
    )
    credits = sum(r["amount_minor"] for r in rows if r["amount_minor"] > 0)
    debits = -sum(r["amount_minor"] for r in rows if r["amount_minor"] < 0)
    return credits, debits


async def assert_ledger_ok() -> None:
    """Invariants 1, 2, 4 recomputed from the raw tables, then ``verify_ledger``."""
    await check_invariants()
    report = await verify_ledger()
    assert report.ok, report.faults


# --- "nothing was written" -------------------------------------------------------


async def snapshot_everything() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (ledger, community, marketplace), in key order.

    A refused request must leave this unchanged: stock, holds, balances,
    orders, entries, postings, all of it.
    """
    found: dict[str, list[dict[str, Any]]] = {}
    for table in all_tables():
        rows = await table.select().order_by(table._meta.primary_key).run()
        found[table._meta.tablename] = [dict(row) for row in rows]
    return found


def assert_same(before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]]) -> None:
    changed = [name for name in before if before[name] != after.get(name)]
    assert not changed, f"a refused request wrote to: {changed}"
    assert set(before) == set(after)
