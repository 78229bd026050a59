"""Partner shops and the staff who work their counters.

Every change takes the acting principal, is decided by
``marketplace.policy`` and writes its audit record in the same transaction
as the change itself, so neither exists without the other.
"""

from __future__ import annotations

from community import audit
from community.access import Principal, can_see_member, holds_role_over, managed_organisations
from community.members import grant_role, revoke_role
from community.organisations import ancestor_ids, subtree_ids
from community.roles import Role
from community.tables import Member, RoleGrant
from core.database import in_write_transaction
from marketplace import policy
from marketplace.accounts import open_settlement_account
from marketplace.errors import InvalidCatalogData, ShopNotFound
from marketplace.models import ShopRecord, StaffRecord
from marketplace.policy import ShopAction
from marketplace.tables import Shop, ShopStaff

# Staff listed for one shop: a counter has a handful of clerks; the bound
# keeps one answer small whatever happens.
MAX_STAFF_LISTED = 200


async def get_shop(shop_id: int) -> ShopRecord:
    """The shop, unscoped (callers acting for a person use ``policy.shop_for``)."""
    shop = await policy.find_shop(shop_id)
    if shop is None:
        raise ShopNotFound(f"shop {shop_id} does not exist", field="shop_id")
    return shop


async def create_shop(
    principal: Principal, *, organisation_id: int, name_zh: str, name_en: str = "", address: str = ""
) -> ShopRecord:
    """Register a partner shop at a node the principal manages, with its
    settlement account."""
    if not name_zh.strip() or len(name_zh) > 200:
        raise InvalidCatalogData("a shop needs a Chinese name of 1-200 characters", field="name_zh")
    await policy.authorise_organisation_manager(principal, organisation_id, field="organisation_id")
    shop = Shop(organisation=organisation_id, name_zh=name_zh.strip(), name_en=name_en.strip(), address=address.strip())
    return await get_shop(await in_write_transaction(lambda: _insert_shop(principal, organisation_id, shop)))


async def _insert_shop(principal: Principal, organisation_id: int, shop: Shop) -> int:
    """The shop row, its settlement account and the audit record, together."""
    shop_id = int((await Shop.insert(shop).run())[0]["id"])
    await open_settlement_account(shop_id, organisation_id, shop.name_zh)
    await audit.record(principal.ref, "shop.create", f"shop:{shop_id}", name=shop.name_zh)
    return shop_id


async def list_shops(organisation_ids: set[int]) -> list[ShopRecord]:
    if not organisation_ids:
        return []
    rows = await Shop.select().where(Shop.organisation.is_in(sorted(organisation_ids))).order_by(Shop.id).run()
    return [ShopRecord.from_row(row) for row in rows]


async def shops_for(principal: Principal) -> list[ShopRecord]:
    """The shops of the principal's home organisation and every one above it
    (where they redeem), and those under the organisations they manage."""
    organisations = set(await ancestor_ids(principal.home_organisation_id)) | await managed_organisations(principal)
    return await list_shops(organisations)


async def add_staff(principal: Principal, shop_id: int, member_id: int) -> bool:
    """Make a member the principal manages counter staff of a shop: link them
    to it and grant ``shop_staff`` at the shop's organisation unless a grant
    there or above already covers it. False if they worked there already
    (nothing changes, nothing is audited)."""
    # A unique violation means a twin request linked them first: re-run and
    # find them linked.
    return await in_write_transaction(lambda: _add_staff(principal, shop_id, member_id), retry_unique=True)


async def _add_staff(principal: Principal, shop_id: int, member_id: int) -> bool:
    standing = await policy.authorise_shop(principal, shop_id, ShopAction.MANAGE)
    homes = await Member.select(Member.home_organisation).where(Member.id == member_id).output(as_list=True).run()
    exists = bool(homes)
    managed = exists and homes[0] in await managed_organisations(principal)
    visible = exists and (managed or await can_see_member(principal, member_id, homes[0]))
    policy.check_staff_target(
        actor_id=principal.member_id, member_id=member_id, exists=exists, managed=managed, visible=visible
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


async def remove_staff(principal: Principal, shop_id: int, member_id: int) -> None:
    """Unlink a member from a shop's counter. Each ``shop_staff`` grant over
    the shop that the principal may revoke, and that no longer covers any
    shop the member is linked to, is revoked with it. The unlink alone ends
    the member's counter work at this shop."""
    await in_write_transaction(lambda: _remove_staff(principal, shop_id, member_id))


async def _remove_staff(principal: Principal, shop_id: int, member_id: int) -> None:
    standing = await policy.authorise_shop(principal, shop_id, ShopAction.MANAGE)
    linked = await is_linked(member_id, shop_id)
    policy.check_staff_removal(actor_id=principal.member_id, member_id=member_id, linked=linked)
    await ShopStaff.delete().where((ShopStaff.shop == shop_id) & (ShopStaff.member == member_id)).run()
    revoked = await _revoke_unused_grants(principal, member_id, standing.organisation_id)
    await audit.record(
        principal.ref, "shop.staff.remove", f"shop:{shop_id}", member_id=member_id, roles_revoked_at=revoked
    )


async def _revoke_unused_grants(principal: Principal, member_id: int, organisation_id: int) -> list[int]:
    """Revoke the member's ``shop_staff`` grants at ``organisation_id`` and
    above that the principal manages and that cover none of the member's
    remaining shops. Returns where grants were revoked."""
    chain = await ancestor_ids(organisation_id)
    granted_at_nodes: list[int] = (
        await RoleGrant.select(RoleGrant.organisation)
        .where(
            (RoleGrant.member == member_id)
            & RoleGrant.organisation.is_in(chain)
            & (RoleGrant.role == Role.SHOP_STAFF.value)
        )
        .output(as_list=True)
        .run()
    )
    if not granted_at_nodes:
        return []
    remaining_organisations: set[int] = set(
        await ShopStaff.select(ShopStaff.shop.organisation)
        .where(ShopStaff.member == member_id)
        .output(as_list=True)
        .run()
    )
    managed = await managed_organisations(principal)
    revoked: list[int] = []
    for granted_at in granted_at_nodes:
        if granted_at not in managed:
            continue  # someone above the principal granted it; theirs to revoke
        if remaining_organisations & await subtree_ids(granted_at):
            continue  # it still covers another shop the member works at
        if await revoke_role(member_id, granted_at, Role.SHOP_STAFF):
            revoked.append(granted_at)
    return sorted(revoked)


async def list_staff(principal: Principal, shop_id: int) -> list[StaffRecord]:
    """Who is linked to the shop's counter, oldest first (managers only)."""
    return await staff_of(await policy.shop_for(principal, shop_id, ShopAction.MANAGE))


async def staff_of(shop: ShopRecord) -> list[StaffRecord]:
    """``list_staff`` for a shop already resolved through ``policy.shop_for``
    with ``ShopAction.MANAGE``."""
    rows = (
        await ShopStaff.select(
            ShopStaff.member,
            ShopStaff.added_at,
            ShopStaff.member.name.as_alias("name"),
            ShopStaff.member.home_organisation.as_alias("home_organisation"),
        )
        .where(ShopStaff.shop == shop.id)
        .order_by(ShopStaff.id)
        .limit(MAX_STAFF_LISTED)
        .run()
    )
    return [
        StaffRecord.from_row(
            row, holds_role=await holds_role_over(row["member"], shop.organisation_id, policy.STAFF_ROLE)
        )
        for row in rows
    ]


async def is_linked(member_id: int, shop_id: int) -> bool:
    """The ``ShopStaff`` link alone. Counter work also needs the role:
    ``marketplace.policy.works_at``."""
    return bool(await ShopStaff.exists().where((ShopStaff.shop == shop_id) & (ShopStaff.member == member_id)).run())
