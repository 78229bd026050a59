"""Who may see and change the community structure: nodes, posts, members'
records, teams and member imports.

Every face (API, CLI, jobs, later the admin forms) gets the same answer
because the services in ``community/structure.py`` and ``community/posts.py``
call these checks inside their transactions. Two kinds of refusal:

- an object the principal may not even see is answered with the app's own
  ``*NotFound`` error, exactly as for an object that does not exist, so ids
  cannot be probed (``visible_*``, ``managed_member``, ``managed_team``);
- an object they see but may not change is ``AccessRefused`` (HTTP 403),
  naming the field at fault (``managed_organisation`` and the ``check_*``
  functions).

The rules (the decisions are pure where they can be, so they are testable
without a database):

- the tree: a member sees their home and every node above it, and every
  node under any of their grants (``community.access.can_see_organisation``);
- changing a node (children, posts, imports, teams) needs a manager
  (organizer or admin) of that node; a child that issues points needs an
  admin over the parent;
- a member's record: managers of the member's home organisation;
- granting or revoking a role: ``community.access.can_grant_role`` at the
  node, a member the principal manages, and never the principal's own roles;
- a team: visible where its organisation is; changed by managers of its
  organisation; only members the principal manages are put in it;
- taking over a member's account (reissuing an invitation code, which is a
  password reset, or deactivating them): never one's own account (403
  ``own_account``: a stolen token must not become a new password without
  the current one, which ``POST /me/password`` asks for; and nobody locks
  themself out); a member the principal
  manages (else 404, as for a missing one); and only if the principal could
  grant *every* role the member holds anywhere in the tree
  (``community.access.can_grant_every_role``), else 403 ``outranks_you``.
  The member is visible to the principal at that point (they are in the
  principal's member list), so 404 would hide nothing. An organiser
  therefore cannot reset an admin above them or a peer organiser at their
  own level, and an admin cannot reset an admin above them.
- the operator console (piccolo_admin at ``/admin``, ``admin/console.py``):
  only an admin whose grant sits at a root of the tree (a node with no
  parent). The console lists whole tables, which cannot be scoped to a
  subtree row by row, so an admin of a district sees none of it
  (``may_use_operator_console``); its forms still check every object
  through the services, as everywhere.
"""

from __future__ import annotations

from community.access import (
    Principal,
    can_grant_every_role,
    can_grant_role,
    can_manage_organisation,
    can_read_account,
    can_see_member,
    can_see_organisation,
    manages,
    verifies,
)
from community.errors import AccessRefused, MemberNotFound, OrganisationNotFound, TeamNotFound
from community.members import get_member
from community.models import MemberRecord, OrganisationRecord, TeamRecord
from community.organisations import ancestor_ids, get_organisation, root_organisations
from community.roles import Role
from ledger.accounts import find_balance
from ledger.errors import AccountNotFound
from ledger.models import AccountBalance

# --- pure decisions -------------------------------------------------------------


def is_root_admin(principal: Principal, root_ids: set[int]) -> bool:
    """Does the principal hold the admin role at a root of the tree?
    ``root_ids``: which of the principal's admin nodes have no parent."""
    return any(organisation_id in root_ids for organisation_id in principal.organisations_with(Role.ADMIN))


def may_create_issuer(principal: Principal, parent_chain: list[int]) -> bool:
    """Only an admin at the parent or above creates an organisation that
    issues points (it mints; organisers run what it funds)."""
    return any(granted_at in parent_chain for granted_at in principal.organisations_with(Role.ADMIN))


def changes_own_roles(principal: Principal, member_id: int) -> bool:
    """Nobody grants or revokes their own roles, whatever they hold."""
    return member_id == principal.member_id


# --- the tree ---------------------------------------------------------------------


async def may_use_operator_console(principal: Principal) -> bool:
    """The operator console's gate (see the module docstring): one query,
    only for members holding the admin role somewhere."""
    admin_at = principal.organisations_with(Role.ADMIN)
    if not admin_at:
        return False
    return is_root_admin(principal, await root_organisations(admin_at))


async def visible_organisation(principal: Principal, organisation_id: int) -> OrganisationRecord:
    """The node if the principal may see it; ``OrganisationNotFound`` otherwise,
    as if it did not exist."""
    if await can_see_organisation(principal, organisation_id):
        return await get_organisation(organisation_id)
    raise OrganisationNotFound(f"no organisation {organisation_id} visible to you", field="organisation_id")


async def managed_organisation(principal: Principal, organisation_id: int) -> OrganisationRecord:
    """The node if the principal manages it; not found if they cannot even
    see it, ``AccessRefused`` if they see it but do not manage it."""
    organisation = await visible_organisation(principal, organisation_id)
    if not manages(principal, organisation.ancestor_ids):
        raise AccessRefused("you do not manage this organisation", field="organisation_id")
    return organisation


async def check_organisation_create(principal: Principal, parent_id: int, *, issues_points: bool) -> None:
    """May the principal add a child under ``parent_id``?"""
    parent = await managed_organisation(principal, parent_id)
    if issues_points and not may_create_issuer(principal, parent.ancestor_ids):
        raise AccessRefused("only an admin over the parent creates an issuing organisation", field="issues_points")


# --- members and their roles ---------------------------------------------------------


async def managed_member(principal: Principal, member_id: int) -> MemberRecord:
    """The member if the principal manages their home organisation;
    ``MemberNotFound`` otherwise, exactly as for a member who does not exist."""
    try:
        member: MemberRecord | None = await get_member(member_id)
    except MemberNotFound:
        member = None
    if member is None or not await can_manage_organisation(principal, member.home_organisation_id):
        raise MemberNotFound(f"no member {member_id} that you manage", field="member_id")
    return member


async def visible_member(principal: Principal, member_id: int) -> MemberRecord:
    """The member if the principal may see them (themself, managers of their
    home, post holders over it); ``MemberNotFound`` otherwise, worded as for
    a member who does not exist."""
    try:
        member: MemberRecord | None = await get_member(member_id)
    except MemberNotFound:
        member = None
    if member is None or not await can_see_member(principal, member.id, member.home_organisation_id):
        raise MemberNotFound(f"no member {member_id} visible to you", field="member_id")
    return member


async def listable_organisation(
    principal: Principal, organisation_id: int, *, listing: str = "whose members you may list"
) -> None:
    """Members and posts of a node are listed to post holders and managers
    over it; to anyone else the node answers as a missing one (``listing``
    ends the message: what they may not list)."""
    if not verifies(principal, await ancestor_ids(organisation_id)):
        raise OrganisationNotFound(f"no organisation {organisation_id} {listing}", field="organisation_id")


async def readable_account(principal: Principal, code: str) -> AccountBalance:
    """An account its owner or a manager of its organisation may read;
    ``AccountNotFound`` otherwise, exactly as for an account that does not
    exist, so account codes cannot be probed."""
    account = await find_balance(code)
    if account is None or not await can_read_account(principal, account):
        refused = AccountNotFound(code)
        refused.field = "code"
        raise refused
    return account


async def check_post_change(principal: Principal, organisation_id: int, member_id: int, role: Role) -> MemberRecord:
    """Grant and revoke share one rule: the principal manages the node, may
    grant that role there, manages the member, and is not changing their
    own roles. Returns the member."""
    await managed_organisation(principal, organisation_id)
    if not await can_grant_role(principal, organisation_id, role):
        raise AccessRefused(f"you may not grant or revoke {role} at this node", field="role")
    member = await managed_member(principal, member_id)
    if changes_own_roles(principal, member_id):
        raise AccessRefused("nobody changes their own roles", field="member_id")
    return member


async def check_post_revoke(principal: Principal, organisation_id: int, member_id: int, role: Role) -> MemberRecord:
    """Revoking is granting's rule plus one: the member holds no role the
    principal could not grant (as for reset and deactivate). A revocation
    signs the member out everywhere, so without it an organiser could sign
    out a superior who also volunteers in their community, again and again."""
    member = await check_post_change(principal, organisation_id, member_id, role)
    await _check_not_outranked(principal, member, action="revoke their roles")
    return member


async def _check_not_outranked(principal: Principal, member: MemberRecord, *, action: str) -> None:
    """403 ``outranks_you`` unless the principal could grant every role the member holds."""
    if not await can_grant_every_role(principal, [(grant.organisation_id, grant.role) for grant in member.grants]):
        raise AccessRefused(
            f"member {member.id} holds a role you could not grant; you may not {action}",
            field="member_id",
            code="outranks_you",
        )


async def member_to_take_over(principal: Principal, member_id: int, *, action: str) -> MemberRecord:
    """The member ``principal`` may reset or deactivate (``action`` names it
    in the message: "reset", "deactivate"); refused as described above."""
    if member_id == principal.member_id:
        raise AccessRefused(f"you may not {action} your own account here", field="member_id", code="own_account")
    member = await managed_member(principal, member_id)
    await _check_not_outranked(principal, member, action=f"{action} their account")
    return member


# --- teams ------------------------------------------------------------------------------


async def check_team_visible(principal: Principal, team_id: int, team: TeamRecord | None) -> TeamRecord:
    """The team (None: there is none) if the principal may see its
    organisation; ``TeamNotFound`` otherwise, worded alike either way."""
    if team is None or not await can_see_organisation(principal, team.organisation_id):
        raise TeamNotFound(f"no team {team_id} visible to you", field="team_id")
    return team


async def check_team_managed(principal: Principal, team_id: int, team: TeamRecord | None) -> TeamRecord:
    """The team if the principal manages its organisation; ``TeamNotFound``
    otherwise (a team one sees but does not manage is no business of theirs)."""
    if team is None or not await can_manage_organisation(principal, team.organisation_id):
        raise TeamNotFound(f"no team {team_id} that you manage", field="team_id")
    return team


async def check_team_create(principal: Principal, organisation_id: int) -> None:
    await managed_organisation(principal, organisation_id)
