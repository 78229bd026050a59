"""Partner shops and the staff who work their counters.

Every change takes the acting principal, is decided by
``marketplace.policy`` and writes its audit record in the same transaction
as the change itself, so neither exists without the other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from community import audit
from community.access import Principal, can_see_member, holds_role_over, managed_organisations
from community.members import grant_role, revoke_role
from community.organisations import ancestor_ids, subtree_ids
from community.roles import Role
from community.tables import Member, RoleGrant
from core.database import in_write_transaction
from marketplace import policy
from marketplace.accounts import open_settlement_account, settlement_code
from marketplace.errors import InvalidCatalogData, ShopNotFound
from marketplace.policy import ShopAction
from marketplace.tables import Shop, ShopStaff

# Staff listed for one shop: a counter has a handful of clerks; the bound
# keeps one answer small whatever happens.
MAX_STAFF_LISTED = 200


class ShopOut(BaseModel):
    id: int
    organisation_id: int
    name_zh: str
    name_en: str
    address: str
    active: bool
    settlement_account: str


def _out(row: dict[str, Any]) -> ShopOut:
    return ShopOut(
        id=row["id"],
        organisation_id=row["organisation"],
        name_zh=row["name_zh"],
        name_en=row["name_en"],
        address=row["address"],
        active=bool(row["active"]),
        settlement_account=settlement_code(row["id"]),
    )


async def get_shop(shop_id: int) -> ShopOut:
    rows = await Shop.select().where(Shop.id == shop_id).run()
    if not rows:
        raise ShopNotFound(f"shop {shop_id} does not exist", field="shop_id")
    return _out(rows[0])


async def create_shop(
    principal: Principal, *, organisation_id: int, name_zh: str, name_en: str = "", address: str = ""
) -> ShopOut:
    """Register a partner shop at a node the principal manages, with its
    settlement account."""
    if not name_zh.strip() or len(name_zh) > 200:
        raise InvalidCatalogData("a shop needs a Chinese name of 1-200 characters", field="name_zh")
    await policy.authorise_organisation_manager(principal, organisation_id, field="organisation_id")

    async def work() -> int:
        inserted = await Shop.insert(
            Shop(
                organisation=organisation_id,
                name_zh=name_zh.strip(),
                name_en=name_en.strip(),
                address=address.strip(),
            )
        ).run()
        shop_id = int(inserted[0]["id"])
        await open_settlement_account(shop_id, organisation_id, name_zh.strip())
        await audit.record(principal.ref, "shop.create", f"shop:{shop_id}", name=name_zh.strip())
        return shop_id

    return await get_shop(await in_write_transaction(work))


async def list_shops(organisation_ids: set[int]) -> list[ShopOut]:
    if not organisation_ids:
        return []
    rows = await Shop.select().where(Shop.organisation.is_in(sorted(organisation_ids))).order_by(Shop.id).run()
    return [_out(row) for row in rows]


async def shops_for(principal: Principal) -> list[ShopOut]:
    """The shops of the principal's home organisation and every one above it
    (where they redeem), and those under the organisations they manage."""
    organisations = set(await ancestor_ids(principal.home_organisation_id)) | await managed_organisations(principal)
    return await list_shops(organisations)


async def shop_for(principal: Principal, shop_id: int, action: ShopAction) -> ShopOut:
    """The shop, if ``principal`` may do ``action`` there (``marketplace.policy``)."""
    await policy.authorise_shop(principal, shop_id, action)
    return await get_shop(shop_id)


async def add_staff(principal: Principal, shop_id: int, member_id: int) -> bool:
    """Make a member the principal manages counter staff of a shop: link them
    to it and grant ``shop_staff`` at the shop's organisation unless a grant
    there or above already covers it. False if they worked there already
    (nothing changes, nothing is audited)."""

    async def work() -> bool:
        standing = await policy.authorise_shop(principal, shop_id, ShopAction.MANAGE)
        rows = await Member.select(Member.home_organisation).where(Member.id == member_id).run()
        home = int(rows[0]["home_organisation"]) if rows else 0
        managed = bool(rows) and home in await managed_organisations(principal)
        visible = bool(rows) and (managed or await can_see_member(principal, member_id, home))
        policy.check_staff_target(
            actor_id=principal.member_id, member_id=member_id, exists=bool(rows), managed=managed, visible=visible
        )
        linked = await is_linked(member_id, shop_id)
        granted = await holds_role_over(member_id, standing.organisation_id, policy.STAFF_ROLE)
        if linked and granted:
            return False
        if not granted:
            await grant_role(member_id, standing.organisation_id, Role.SHOP_STAFF)
        if not linked:
            await ShopStaff.insert(ShopStaff(shop=shop_id, member=member_id)).run()
        await audit.record(
            principal.ref,
            "shop.staff.add",
            f"shop:{shop_id}",
            member_id=member_id,
            role_granted_at=standing.organisation_id if not granted else None,
        )
        return True

    # A unique violation means a twin request linked them first: re-run and
    # find them linked.
    return await in_write_transaction(work, retry_unique=True)


async def remove_staff(principal: Principal, shop_id: int, member_id: int) -> None:
    """Unlink a member from a shop's counter. Each ``shop_staff`` grant over
    the shop that the principal may revoke, and that no longer covers any
    shop the member is linked to, is revoked with it. The unlink alone ends
    the member's counter work at this shop."""

    async def work() -> None:
        standing = await policy.authorise_shop(principal, shop_id, ShopAction.MANAGE)
        linked = await is_linked(member_id, shop_id)
        policy.check_staff_removal(actor_id=principal.member_id, member_id=member_id, linked=linked)
        await ShopStaff.delete().where((ShopStaff.shop == shop_id) & (ShopStaff.member == member_id)).run()
        revoked = await _revoke_unused_grants(principal, member_id, standing.organisation_id)
        await audit.record(
            principal.ref, "shop.staff.remove", f"shop:{shop_id}", member_id=member_id, roles_revoked_at=revoked
        )

    await in_write_transaction(work)


async def _revoke_unused_grants(principal: Principal, member_id: int, organisation_id: int) -> list[int]:
    """Revoke the member's ``shop_staff`` grants at ``organisation_id`` and
    above that the principal manages and that cover none of the member's
    remaining shops. Returns where grants were revoked."""
    chain = await ancestor_ids(organisation_id)
    grants = (
        await RoleGrant.select(RoleGrant.organisation)
        .where(
            (RoleGrant.member == member_id)
            & RoleGrant.organisation.is_in(chain)
            & (RoleGrant.role == Role.SHOP_STAFF.value)
        )
        .run()
    )
    if not grants:
        return []
    remaining = (
        await ShopStaff.select(ShopStaff.shop.organisation.as_alias("organisation"))
        .where(ShopStaff.member == member_id)
        .run()
    )
    remaining_organisations = {int(row["organisation"]) for row in remaining}
    managed = await managed_organisations(principal)
    revoked: list[int] = []
    for row in grants:
        granted_at = int(row["organisation"])
        if granted_at not in managed:
            continue  # someone above the principal granted it; theirs to revoke
        if remaining_organisations & await subtree_ids(granted_at):
            continue  # it still covers another shop the member works at
        if await revoke_role(member_id, granted_at, Role.SHOP_STAFF):
            revoked.append(granted_at)
    return sorted(revoked)


class StaffOut(BaseModel):
    member_id: int
    name: str
    home_organisation_id: int
    added_at: datetime
    # False when the member is still linked but the shop_staff role was
    # revoked: they can no longer work the counter.
    holds_role: bool


async def list_staff(principal: Principal, shop_id: int) -> list[StaffOut]:
    """Who is linked to the shop's counter, oldest first (managers only)."""
    standing = await policy.authorise_shop(principal, shop_id, ShopAction.MANAGE)
    rows = (
        await ShopStaff.select(
            ShopStaff.member,
            ShopStaff.added_at,
            ShopStaff.member.name.as_alias("name"),
            ShopStaff.member.home_organisation.as_alias("home_organisation"),
        )
        .where(ShopStaff.shop == shop_id)
        .order_by(ShopStaff.id)
        .limit(MAX_STAFF_LISTED)
        .run()
    )
    return [
        StaffOut(
            member_id=row["member"],
            name=row["name"],
            home_organisation_id=row["home_organisation"],
            added_at=row["added_at"],
            holds_role=await holds_role_over(row["member"], standing.organisation_id, policy.STAFF_ROLE),
        )
        for row in rows
    ]


async def is_linked(member_id: int, shop_id: int) -> bool:
    """The ``ShopStaff`` link alone. Counter work also needs the role:
    ``marketplace.policy.works_at``."""
    return bool(await ShopStaff.exists().where((ShopStaff.shop == shop_id) & (ShopStaff.member == member_id)).run())
