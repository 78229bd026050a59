"""Who may see and move what. One place, so every face (API, CLI, admin)
answers the same way.

- A member sees their own wallet and nothing else of other members.
- Organisers and admins of an organisation see and adjust accounts scoped
  to that organisation or any organisation below it.

A grant covers its node and the subtree below it, so "does a grant cover
node N" is "is the grant's node on N's ancestor chain": the decisions
below are pure functions of a principal and chains (``covers``,
``manages``, ``may_see_node``, ``may_grant``), and the coroutines around
them read each chain with one query (``community/organisations.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from community.accounts import member_ref
from community.members import get_member
from community.models import MemberRecord
from community.organisations import ancestor_chains, ancestor_ids, union_of_subtrees
from community.roles import MANAGING_ROLES, VERIFYING_ROLES, Role
from community.session_cache import SESSIONS, CachedSession
from community.tables import RoleGrant
from core.fixed_sql import fetch, fixed_sql
from ledger.models import AccountBalance


@dataclass(frozen=True, slots=True)
class Principal:
    member_id: int
    name: str
    home_organisation_id: int
    grants: tuple[tuple[int, Role], ...]

    @classmethod
    def of(cls, member: MemberRecord) -> Principal:
        """The member as an acting principal (the one place one is made from a member)."""
        return cls(
            member_id=member.id,
            name=member.name,
            home_organisation_id=member.home_organisation_id,
            grants=tuple((grant.organisation_id, grant.role) for grant in member.grants),
        )

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
    return Principal.of(await get_member(member_id))


# The member and their grants (oldest first) in one statement: what a token
# check needs and nothing else (no password hash, no phone). Fixed SQL: it
# runs on the first request of each member in each API process and after
# every change to them (bench/RESULTS.md, the wallet read).
_SESSION_OF_MEMBER = fixed_sql(
    "SELECT m.name, m.home_organisation, m.active, m.session_version, g.organisation, g.role"
    " FROM community_member m LEFT JOIN community_role_grant g ON g.member = m.id"
    " WHERE m.id = $1 ORDER BY g.id"
)


async def _read_session(member_id: int) -> CachedSession | None:
    """The member as a token check needs them, from the database, kept in
    ``SESSIONS`` unless they changed while this read ran."""
    generation = SESSIONS.generation
    rows = await fetch(_SESSION_OF_MEMBER(member_id))
    if not rows:
        return None
    first = rows[0]
    principal = Principal(
        member_id=member_id,
        name=str(first["name"]),
        home_organisation_id=int(first["home_organisation"]),
        grants=tuple((int(row["organisation"]), Role(row["role"])) for row in rows if row["role"] is not None),
    )
    session = CachedSession(
        principal=principal,
        session_version=int(first["session_version"]),
        active=bool(first["active"]),
    )
    SESSIONS.put(member_id, session, generation=generation)
    return session


async def principal_for_session(member_id: int, session_version: int) -> Principal | None:
    """The acting principal of a login token for ``member_id`` issued under
    ``session_version``; None (a 401) for an unknown or deactivated member
    or any version but the current one.

    Served from this process's cache (``community/session_cache.py`` says
    how changes reach it, and the bound on staleness); a token newer than
    the cached version re-reads the member, so a fresh login is never
    refused for a stale entry."""
    session = SESSIONS.get(member_id)
    if session is None or session.session_version < session_version:
        session = await _read_session(member_id)
    if session is None or not session.active or session.session_version != session_version:
        return None
    return session.principal


# --- pure decisions ------------------------------------------------------------------


def covers(granted_at: Iterable[int], chain: Sequence[int]) -> bool:
    """Does a grant at any of ``granted_at`` cover the node whose chain
    (the node, then upwards) is ``chain``?"""
    return any(organisation_id in chain for organisation_id in granted_at)


def manages(principal: Principal, chain: Sequence[int]) -> bool:
    """Is the principal an organiser or admin at the node or above it?"""
    return covers(principal.organisations_with(*MANAGING_ROLES), chain)


def verifies(principal: Principal, chain: Sequence[int]) -> bool:
    """Does the principal hold a post, or manage, at the node or above it?"""
    return covers(principal.organisations_with(*VERIFYING_ROLES), chain)


def may_see_node(principal: Principal, node_chain: Sequence[int], home_chain: Sequence[int]) -> bool:
    """The tree is not secret to members: a member sees where they live (home
    and every node above it) and every node under any of their grants."""
    return node_chain[0] in home_chain or covers((granted_at for granted_at, _ in principal.grants), node_chain)


def may_grant(principal: Principal, chain: Sequence[int], role: Role) -> bool:
    """Who may grant (or revoke) ``role`` at the node whose chain is ``chain``:
    an admin: an admin at the node or above; an organizer: an admin there,
    or an organizer strictly above (organisers delegate downwards, never
    make peers at their own level); any other role: any manager there."""
    admins_at = principal.organisations_with(Role.ADMIN)
    if role == Role.ADMIN:
        return covers(admins_at, chain)
    if role == Role.ORGANIZER:
        return covers(admins_at, chain) or covers(principal.organisations_with(Role.ORGANIZER), chain[1:])
    return manages(principal, chain)


# --- the same, read from the database -----------------------------------------------------


def _scope_organisation(account: AccountBalance) -> int | None:
    prefix, _, value = account.scope_ref.partition(":")
    if prefix != "org" or not value.isdigit():
        return None
    return int(value)


async def managed_organisations(principal: Principal) -> set[int]:
    """Every organisation the principal manages (their grants' subtrees), in one query."""
    return await union_of_subtrees(principal.organisations_with(*MANAGING_ROLES))


async def verifying_organisations(principal: Principal) -> set[int]:
    """Every organisation where the principal holds a post or manages (with
    the subtrees below those grants), in one query."""
    return await union_of_subtrees(principal.organisations_with(*VERIFYING_ROLES))


async def can_manage_organisation(principal: Principal, organisation_id: int) -> bool:
    if not principal.has_role(*MANAGING_ROLES):
        return False
    return manages(principal, await ancestor_ids(organisation_id))


async def can_manage_account(principal: Principal, account: AccountBalance) -> bool:
    organisation_id = _scope_organisation(account)
    if organisation_id is None:
        return False
    return await can_manage_organisation(principal, organisation_id)


async def can_read_account(principal: Principal, account: AccountBalance) -> bool:
    if account.owner_ref == principal.ref:
        return True
    return await can_manage_account(principal, account)


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
# - Who may grant a role at a node: ``may_grant`` above. Revoking follows
#   the same rule as granting that role.


async def can_see_organisation(principal: Principal, organisation_id: int) -> bool:
    """``may_see_node``, with both chains read in one query."""
    chains = await ancestor_chains([organisation_id, principal.home_organisation_id])
    return may_see_node(principal, chains[organisation_id], chains[principal.home_organisation_id])


async def can_see_member(principal: Principal, member_id: int, home_organisation_id: int) -> bool:
    if member_id == principal.member_id:
        return True
    if not principal.has_role(*VERIFYING_ROLES):
        return False
    return verifies(principal, await ancestor_ids(home_organisation_id))


async def sees_full_phone(principal: Principal, member_id: int, home_organisation_id: int) -> bool:
    """Only the member and the organisers/admins over their home see the
    whole number; post holders and everyone else get 138****0001."""
    if member_id == principal.member_id:
        return True
    return await can_manage_organisation(principal, home_organisation_id)


async def can_grant_role(principal: Principal, organisation_id: int, role: Role) -> bool:
    """``may_grant`` at the node, for granting and for revoking."""
    return may_grant(principal, await ancestor_ids(organisation_id), role)


async def can_grant_every_role(principal: Principal, grants: Iterable[tuple[int, Role]]) -> bool:
    """Could the principal grant each of these (organisation, role) pairs?
    The bar for taking over someone's account (a password reset, a
    deactivation): whoever may do it could have made that person what they
    are anyway, so it never lifts anyone above their own reach."""
    pairs = list(grants)
    chains = await ancestor_chains(organisation_id for organisation_id, _ in pairs)
    return all(may_grant(principal, chains[organisation_id], role) for organisation_id, role in pairs)
