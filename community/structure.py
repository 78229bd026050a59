"""Changes a person makes to the community structure: a child node, a
team and its roster, a member import. (Posts are ``community/posts.py``.)

Each service takes the acting ``Principal``, applies ``community/policy.py``
and writes its audit record inside one transaction with the change, so a
refused call changes nothing and an accepted one never lacks its audit row.
They build on the policy-free blocks in ``organisations.py``, ``teams.py``
and ``member_import.py``, which trusted setup code (the demo seed, the
operator's CLI, tests) calls directly.
"""

from __future__ import annotations

from community import audit, member_import, organisations, policy, teams
from community.access import Principal
from community.accounts import organisation_ref
from community.member_import import ImportResult, ProgressCallback
from community.models import OrganisationRecord, TeamDetail, TeamKind, TeamRecord
from community.roles import Level
from core.database import in_write_transaction, is_unique_violation


async def create_organisation(
    principal: Principal,
    *,
    parent_id: int,
    level: Level,
    name_zh: str,
    name_en: str = "",
    issues_points: bool = False,
) -> OrganisationRecord:
    """A child of ``parent_id``, which the principal manages; an issuing child
    needs an admin over the parent (``policy.check_organisation_create``)."""

    async def work() -> OrganisationRecord:
        await policy.check_organisation_create(principal, parent_id, issues_points=issues_points)
        organisation = await organisations.create_organisation(
            name_zh=name_zh, name_en=name_en, level=level, parent_id=parent_id, issues_points=issues_points
        )
        await audit.record(
            principal.ref,
            "organisation.create",
            organisation_ref(organisation.id),
            parent_id=parent_id,
            level=level.value,
            name_zh=organisation.name_zh,
            issues_points=organisation.issues_points,
        )
        return organisation

    return await in_write_transaction(work)


async def visible_team(principal: Principal, team_id: int) -> TeamRecord:
    """The team if the principal may see it; ``TeamNotFound`` otherwise."""
    return await policy.check_team_visible(principal, team_id, await teams.find_team(team_id))


async def managed_team(principal: Principal, team_id: int) -> TeamRecord:
    """The team if the principal manages its organisation; ``TeamNotFound`` otherwise."""
    return await policy.check_team_managed(principal, team_id, await teams.find_team(team_id))


async def create_team(
    principal: Principal,
    *,
    organisation_id: int,
    name_zh: str,
    kind: TeamKind | str,
    name_en: str = "",
    leader_id: int | None = None,
) -> TeamDetail:
    """A team of an organisation the principal manages; a leader given here
    must be a member the principal manages, and joins as the first member."""

    async def work() -> TeamDetail:
        await policy.check_team_create(principal, organisation_id)
        if leader_id is not None:
            await policy.managed_member(principal, leader_id)
        return await teams.create_team(
            organisation_id=organisation_id,
            name_zh=name_zh,
            name_en=name_en,
            kind=kind,
            leader_id=leader_id,
            actor_ref=principal.ref,
        )

    return await in_write_transaction(work)


async def add_team_member(principal: Principal, team_id: int, member_id: int) -> bool:
    """Put a member the principal manages into a team they manage (and the
    membership rule of ``community/teams.py``). False if already in it."""

    async def work() -> bool:
        await managed_team(principal, team_id)
        await policy.managed_member(principal, member_id)
        return await teams.add_team_member(team_id, member_id, actor_ref=principal.ref)

    try:
        return await in_write_transaction(work)
    except Exception as error:  # added concurrently: the unique index kept one row
        if is_unique_violation(error):
            return False
        raise


async def remove_team_member(principal: Principal, team_id: int, member_id: int) -> None:
    async def work() -> None:
        await managed_team(principal, team_id)
        await teams.remove_team_member(team_id, member_id, actor_ref=principal.ref)

    await in_write_transaction(work)


async def set_team_leader(principal: Principal, team_id: int, member_id: int) -> TeamRecord:
    async def work() -> None:
        await managed_team(principal, team_id)
        await teams.set_team_leader(team_id, member_id, actor_ref=principal.ref)

    await in_write_transaction(work)
    return await teams.get_team(team_id)


async def import_members(
    principal: Principal,
    content: bytes,
    *,
    organisation_id: int,
    skip_bad_rows: bool = False,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> ImportResult:
    """Import a CSV into a node the principal manages. The check comes
    first, so someone without the right learns nothing about the file; the
    members, their invitations and the audit row then commit together
    (``community/member_import.py``)."""
    await policy.managed_organisation(principal, organisation_id)
    return await member_import.import_members(
        content,
        organisation_id=organisation_id,
        actor_ref=principal.ref,
        created_by=principal.member_id,
        skip_bad_rows=skip_bad_rows,
        dry_run=dry_run,
        progress=progress,
    )
