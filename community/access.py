"""Who may see and move what. One place, so every face (API, CLI, admin)
answers the same way.

- A member sees their own wallet and nothing else of other members.
- Organisers and admins of an organisation see and adjust accounts scoped
  to that organisation or any organisation below it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from community.accounts import member_ref
from community.errors import MemberNotFound
from community.organisations import ancestor_ids, subtree_ids
from community.roles import MANAGING_ROLES, VERIFYING_ROLES, Role
from community.tables import Member, RoleGrant
from ledger.models import AccountBalance


@dataclass(frozen=True, slots=True)
class Principal:
    member_id: int
    name: str
    home_organisation_id: int
    grants: tuple[tuple[int, Role], ...]

    def has_role(self, *roles: Role) -> bool:
        return any(role in roles for _, role in self.grants)

    def organisations_with(self, *roles: Role) -> list[int]:
        return [organisation_id for organisation_id, role in self.grants if role in roles]

    @property
    def ref(self) -> str:
        return member_ref(self.member_id)


async def load_principal(member_id: int) -> Principal:
    """The member as an acting principal, read from the database: for faces
    that act for a known member without a token (seeds, jobs, tests).
    ``MemberNotFound`` if there is no such member."""
    rows = await Member.select(Member.name, Member.home_organisation).where(Member.id == member_id).run()
    if not rows:
        raise MemberNotFound(f"member {member_id} does not exist", field="member_id")
    grants = await RoleGrant.select(RoleGrant.organisation, RoleGrant.role).where(RoleGrant.member == member_id).run()
    return Principal(
        member_id=member_id,
        name=str(rows[0]["name"]),
        home_organisation_id=int(rows[0]["home_organisation"]),
        grants=tuple((int(row["organisation"]), Role(row["role"])) for row in grants),
    )


def _scope_organisation(account: AccountBalance) -> int | None:
    prefix, _, value = account.scope_ref.partition(":")
    if prefix != "org" or not value.isdigit():
        return None
    return int(value)


async def managed_organisations(principal: Principal) -> set[int]:
    """Every organisation the principal manages (their grants' subtrees)."""
    managed: set[int] = set()
    for organisation_id in principal.organisations_with(*MANAGING_ROLES):
        managed |= await subtree_ids(organisation_id)
    return managed


async def can_manage_account(principal: Principal, account: AccountBalance) -> bool:
    organisation_id = _scope_organisation(account)
    if organisation_id is None:
        return False
    return organisation_id in await managed_organisations(principal)


async def can_read_account(principal: Principal, account: AccountBalance) -> bool:
    if account.owner_ref == principal.ref:
        return True
    return await can_manage_account(principal, account)


async def can_manage_organisation(principal: Principal, organisation_id: int) -> bool:
    return organisation_id in await managed_organisations(principal)


async def holds_role_over(member_id: int, organisation_id: int, roles: frozenset[Role]) -> bool:
    """Does ``member_id`` hold one of ``roles`` at ``organisation_id`` or
    any organisation above it? Read from the database, so every face (API,
    CLI, jobs) gets the same answer."""
    chain = await ancestor_ids(organisation_id)
    return bool(
        await RoleGrant.exists()
        .where(
            (RoleGrant.member == member_id)
            & RoleGrant.organisation.is_in(chain)
            & RoleGrant.role.is_in([role.value for role in roles])
        )
        .run()
    )


# --- Members, posts and the tree (issue #3, community structure) -------------
#
# - A member's record is visible to the member, to managers of their home
#   organisation and to post holders (VERIFYING_ROLES) over it; to everyone
#   else it does not exist (the API answers 404).
# - Full phone numbers: the member themself and managers of their home
#   organisation. Post holders and everyone else see ``mask_phone``.
# - Who may grant a role at a node:
#     volunteer, shop_staff and the posts (three heads, grid worker): any
#     manager (organizer or admin) of the node;
#     organizer: an admin over the node, or an organizer whose own grant sits
#     strictly above the node (organisers delegate downwards, never make
#     peers at their own level);
#     admin: an admin over the node.
#   Revoking follows the same rule as granting that role.


async def verifying_organisations(principal: Principal) -> set[int]:
    """Every organisation where the principal holds a post or manages (with
    the subtrees below those grants)."""
    covered: set[int] = set()
    for organisation_id in principal.organisations_with(*VERIFYING_ROLES):
        covered |= await subtree_ids(organisation_id)
    return covered


async def can_see_organisation(principal: Principal, organisation_id: int) -> bool:
    """The tree is not secret to members: a member sees where they live (home
    and every node above it) and every node under any of their grants."""
    if organisation_id in await ancestor_ids(principal.home_organisation_id):
        return True
    for granted_at, _ in principal.grants:
        if organisation_id in await subtree_ids(granted_at):
            return True
    return False


async def can_see_member(principal: Principal, member_id: int, home_organisation_id: int) -> bool:
    if member_id == principal.member_id:
        return True
    return home_organisation_id in await verifying_organisations(principal)


async def sees_full_phone(principal: Principal, member_id: int, home_organisation_id: int) -> bool:
    """Only the member and the organisers/admins over their home see the
    whole number; post holders and everyone else get 138****0001."""
    if member_id == principal.member_id:
        return True
    return await can_manage_organisation(principal, home_organisation_id)


async def can_grant_role(principal: Principal, organisation_id: int, role: Role) -> bool:
    """The rule in the comment above, for granting and for revoking."""
    chain = await ancestor_ids(organisation_id)  # the node first, then upwards
    if role == Role.ADMIN:
        return any(granted_at in chain for granted_at in principal.organisations_with(Role.ADMIN))
    if role == Role.ORGANIZER:
        if any(granted_at in chain for granted_at in principal.organisations_with(Role.ADMIN)):
            return True
        return any(granted_at in chain[1:] for granted_at in principal.organisations_with(Role.ORGANIZER))
    return await can_manage_organisation(principal, organisation_id)


async def can_grant_every_role(principal: Principal, grants: Iterable[tuple[int, Role]]) -> bool:
    """Could the principal grant each of these (organisation, role) pairs?
    The bar for taking over someone's account (a password reset, a
    deactivation): whoever may do it could have made that person what they
    are anyway, so it never lifts anyone above their own reach."""
    for organisation_id, role in grants:
        if not await can_grant_role(principal, organisation_id, role):
            return False
    return True
