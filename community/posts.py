"""Posts and roles held at an organisation node: grant, revoke, list.

Who may grant which role is ``community.policy.check_post_change``; it is
applied inside the same transaction as the change and its audit record, so
a grant without its audit row (or the reverse), or one made without the
right, cannot exist.
"""

from __future__ import annotations

from community import audit
from community.access import Principal, managed_organisations
from community.accounts import can_earn, member_ref, open_wallet
from community.errors import GrantNotFound, InvalidRole
from community.members import bump_session_version, grant_role, revoke_role
from community.models import PostHolder
from community.organisations import get_organisation
from community.policy import check_post_change, check_post_revoke, listable_organisation
from community.roles import Role
from community.tables import RoleGrant
from core.database import in_write_transaction

# Holders listed for one node; a grid has a handful of posts, a community
# at most a few hundred volunteers granted there.
MAX_HOLDERS_LISTED = 1000


def check_role(value: Role | str) -> Role:
    try:
        return Role(value)
    except ValueError as error:
        raise InvalidRole(f"unknown role {value!r}", field="role") from error


async def grant_post(principal: Principal, organisation_id: int, member_id: int, role: Role | str) -> bool:
    """Give ``member_id`` the role at the node, if ``principal`` may
    (``community.policy.check_post_change``). False if they held it already
    (nothing changes, nothing is audited). A role that earns (volunteer or a post) opens the wallet."""
    checked = check_role(role)
    return await in_write_transaction(lambda: _grant(principal, organisation_id, member_id, checked))


async def _grant(principal: Principal, organisation_id: int, member_id: int, role: Role) -> bool:
    member = await check_post_change(principal, organisation_id, member_id, role)
    if any(g.organisation_id == organisation_id and g.role == role for g in member.grants):
        return False
    await grant_role(member_id, organisation_id, role)
    if can_earn([role]):
        await open_wallet(member_id, member.home_organisation_id)
    await audit.record(
        principal.ref, "post.grant", member_ref(member_id), organisation_id=organisation_id, role=role.value
    )
    return True


async def revoke_post(principal: Principal, organisation_id: int, member_id: int, role: Role | str) -> None:
    """Take the role at the node from ``member_id``, if ``principal`` may
    (granting's rule, and the member does not outrank them:
    ``community.policy.check_post_revoke``). ``GrantNotFound`` if they do
    not hold it."""
    checked = check_role(role)
    await in_write_transaction(lambda: _revoke(principal, organisation_id, member_id, checked))


async def _revoke(principal: Principal, organisation_id: int, member_id: int, role: Role) -> None:
    await check_post_revoke(principal, organisation_id, member_id, role)
    if not await revoke_role(member_id, organisation_id, role):
        raise GrantNotFound(f"member {member_id} holds no {role} role at this organisation", field="role")
    # Tokens issued while the member held the role stop working.
    await bump_session_version(member_id)
    await audit.record(
        principal.ref, "post.revoke", member_ref(member_id), organisation_id=organisation_id, role=role.value
    )


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
    return [PostHolder.from_row(row) for row in rows]


async def visible_post_holders(
    principal: Principal, organisation_id: int, *, role: Role | None = None
) -> tuple[list[PostHolder], set[int]]:
    """The holders at a node whose posts the principal may see (post holders
    and managers over it; to anyone else the node does not exist), and the
    ids of those whose whole phone number they may see (themself and the
    members they manage)."""
    await listable_organisation(principal, organisation_id, listing="whose posts you may see")
    holders = await list_post_holders(organisation_id, role=role)
    managed = await managed_organisations(principal)
    full_phone_of = {
        holder.member_id
        for holder in holders
        if holder.member_id == principal.member_id or holder.home_organisation_id in managed
    }
    return holders, full_phone_of
