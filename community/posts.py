"""Posts and roles held at an organisation node: grant, revoke, list.

Who may grant which role is decided by ``community.access.can_grant_role``
(at the edge, where the caller is known); this module does the change and
records it in the audit trail in the same transaction, so a grant without
its audit row (or the reverse) cannot exist.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from community import audit
from community.accounts import member_ref, open_wallet
from community.errors import GrantNotFound, InvalidRole
from community.members import get_member, grant_role, revoke_role
from community.organisations import get_organisation
from community.roles import Role
from community.tables import RoleGrant
from ledger.transactions import in_write_transaction

# Holders listed for one node; a grid has a handful of posts, a community
# at most a few hundred volunteers granted there.
MAX_HOLDERS_LISTED = 1000


class PostHolder(BaseModel):
    member_id: int
    name: str
    phone: str
    home_organisation_id: int
    role: Role
    granted_at: datetime


def check_role(value: Role | str) -> Role:
    try:
        return Role(value)
    except ValueError as error:
        raise InvalidRole(f"unknown role {value!r}", field="role") from error


async def grant_post(organisation_id: int, member_id: int, role: Role | str, *, actor_ref: str) -> bool:
    """Give ``member_id`` the role at the node. False if they held it already
    (nothing changes, nothing is audited). A volunteer role opens the wallet."""
    checked = check_role(role)
    await get_organisation(organisation_id)
    member = await get_member(member_id)
    if any(g.organisation_id == organisation_id and g.role == checked for g in member.grants):
        return False

    async def work() -> None:
        await grant_role(member_id, organisation_id, checked)
        if checked == Role.VOLUNTEER:
            await open_wallet(member_id, member.home_organisation_id)
        await audit.record(
            actor_ref, "post.grant", member_ref(member_id), organisation_id=organisation_id, role=checked.value
        )

    await in_write_transaction(work)
    return True


async def revoke_post(organisation_id: int, member_id: int, role: Role | str, *, actor_ref: str) -> None:
    checked = check_role(role)

    async def work() -> None:
        if not await revoke_role(member_id, organisation_id, checked):
            raise GrantNotFound(f"member {member_id} holds no {checked} role at this organisation", field="role")
        await audit.record(
            actor_ref, "post.revoke", member_ref(member_id), organisation_id=organisation_id, role=checked.value
        )

    await in_write_transaction(work)


async def list_post_holders(organisation_id: int, *, role: Role | None = None) -> list[PostHolder]:
    """Who holds which role exactly at this node (not below it), oldest grant first."""
    await get_organisation(organisation_id)
    query = RoleGrant.select(
        RoleGrant.member,
        RoleGrant.role,
        RoleGrant.granted_at,
        RoleGrant.member.name.as_alias("name"),
        RoleGrant.member.phone.as_alias("phone"),
        RoleGrant.member.home_organisation.as_alias("home_organisation"),
    ).where(RoleGrant.organisation == organisation_id)
    if role is not None:
        query = query.where(RoleGrant.role == role.value)
    rows = await query.order_by(RoleGrant.id).limit(MAX_HOLDERS_LISTED).run()
    return [
        PostHolder(
            member_id=row["member"],
            name=row["name"],
            phone=row["phone"],
            home_organisation_id=row["home_organisation"],
            role=Role(row["role"]),
            granted_at=row["granted_at"],
        )
        for row in rows
    ]
