"""Volunteer teams (志愿服务队) of an organisation, and who is in them.

The membership rule: a member may join a team whose organisation is their
home organisation or any organisation above it (a community's patrol team
takes people from every grid and building of the community; a building's
team does not take people from the next building). Equivalently, the
member's home lies in the team organisation's subtree.

A team's leader is always one of its members: setting a leader requires
membership, and the leader cannot leave until another leader is set.

The activities code asks two things of a team: its kind (which selects the
per-hour earning rate) and whether someone is in it (``team_kind_of``,
``is_team_member``).
"""

from __future__ import annotations

from dataclasses import asdict, replace

from piccolo.query import Select
from piccolo.query.functions.aggregate import Count

from community import audit, policy
from community.access import Principal, managed_organisations, verifying_organisations
from community.errors import InvalidTeamData, TeamMembershipRefused, TeamNotFound
from community.members import home_organisation_of
from community.models import TeamDetail, TeamKind, TeamMemberRecord, TeamRecord
from community.names import name_problem
from community.organisations import ancestor_ids, get_organisation, subtree_ids
from community.tables import PastTeamMember, Team, TeamMember
from core.clock import utc_now
from core.database import in_write_transaction, is_unique_violation

__all__ = ["TeamKind"]  # re-exported: callers import it from here

TEAM_KIND_NAMES: dict[TeamKind, tuple[str, str]] = {
    TeamKind.PATROL: ("治安巡逻队", "Security patrol team"),
    TeamKind.SERVICE: ("便民服务队", "Neighbourhood service team"),
    TeamKind.MEDIATION: ("矛盾调解队", "Dispute mediation team"),
    TeamKind.PUBLICITY: ("宣传队", "Publicity team"),
    TeamKind.ENVIRONMENT: ("环境卫生队", "Environment and sanitation team"),
    TeamKind.ELDERLY_CARE: ("助老队", "Elderly care team"),
    TeamKind.OTHER: ("其他", "Other"),
}

MAX_NAME_CHARS = 200
# A team detail lists at most this many members (a community-wide patrol
# team has a few hundred); ``member_count`` always tells the true size.
MAX_MEMBERS_SHOWN = 1000
# Teams listed in one answer: an organisation and its subtree rarely have more.
MAX_TEAMS_LISTED = 500


def team_kind(value: str) -> TeamKind:
    try:
        return TeamKind(value)
    except ValueError as error:
        kinds = ", ".join(kind.value for kind in TeamKind)
        raise InvalidTeamData(f"team kind must be one of {kinds}", field="kind") from error


async def _counts(team_ids: list[int]) -> dict[int, int]:
    """How many members each team has, in one query."""
    counts = dict.fromkeys(team_ids, 0)
    if team_ids:
        rows = (
            await TeamMember.select(TeamMember.team, Count(TeamMember.id, alias="members"))
            .where(TeamMember.team.is_in(team_ids))
            .group_by(TeamMember.team)
            .run()
        )
        counts.update({int(row["team"]): int(row["members"]) for row in rows})
    return counts


async def _records(query: Select[Team]) -> list[TeamRecord]:
    """The teams a ``Team.select()`` finds, with their member counts."""
    bare = [TeamRecord.from_row(row, member_count=0) for row in await query.run()]
    counts = await _counts([team.id for team in bare])
    return [replace(team, member_count=counts[team.id]) for team in bare]


async def get_team(team_id: int) -> TeamRecord:
    found = await _records(Team.select().where(Team.id == team_id))
    if not found:
        raise TeamNotFound(f"team {team_id} does not exist", field="team_id")
    return found[0]


async def find_team(team_id: int) -> TeamRecord | None:
    try:
        return await get_team(team_id)
    except TeamNotFound:
        return None


async def get_team_detail(team_id: int) -> TeamDetail:
    team = await get_team(team_id)
    rows = (
        await TeamMember.select(
            TeamMember.member,
            TeamMember.joined_at,
            TeamMember.member.name.as_alias("name"),
            TeamMember.member.phone.as_alias("phone"),
            TeamMember.member.home_organisation.as_alias("home_organisation"),
        )
        .where(TeamMember.team == team_id)
        .order_by(TeamMember.id)
        .limit(MAX_MEMBERS_SHOWN)
        .run()
    )
    members = [TeamMemberRecord.from_row(row, leader_id=team.leader_id) for row in rows]
    return TeamDetail(**asdict(team), members=members)


async def list_teams(
    organisation_ids: set[int] | list[int], *, kind: TeamKind | None = None, limit: int | None = MAX_TEAMS_LISTED
) -> list[TeamRecord]:
    """Teams of the given organisations, oldest first, at most ``limit``
    (``None``: all of them, for the member import's scope)."""
    if not organisation_ids:
        return []
    query = Team.select().where(Team.organisation.is_in(sorted(organisation_ids)))
    if kind is not None:
        query = query.where(Team.kind == kind.value)
    query = query.order_by(Team.id)
    return await _records(query.limit(limit) if limit is not None else query)


async def teams_of_organisation(
    principal: Principal, organisation_id: int, *, kind: TeamKind | None = None, include_subtree: bool = False
) -> list[TeamRecord]:
    """The teams of a node the principal may see (and, if asked, of the
    nodes below it); ``OrganisationNotFound`` for a node they cannot see."""
    await policy.visible_organisation(principal, organisation_id)
    organisations = await subtree_ids(organisation_id) if include_subtree else {organisation_id}
    return await list_teams(organisations, kind=kind)


async def team_detail_for(principal: Principal, team_id: int) -> tuple[TeamDetail, set[int]]:
    """A team the principal may see, with its roster if they may see that
    (post holders and managers over the team's organisation, and the team's
    own members; others get an empty roster), and the ids of the members
    whose whole phone number they may see (themself and those they manage)."""
    await policy.check_team_visible(principal, team_id, await find_team(team_id))
    team = await get_team_detail(team_id)
    sees_roster = team.organisation_id in await verifying_organisations(principal) or await is_team_member(
        team_id, principal.member_id
    )
    if not sees_roster:
        team = replace(team, members=[])
    managed = await managed_organisations(principal)
    full_phone_of = {
        m.member_id for m in team.members if m.member_id == principal.member_id or m.home_organisation_id in managed
    }
    return team, full_phone_of


async def team_kind_of(team_id: int) -> str:
    """The team's kind (a ``TeamKind`` value); ``TeamNotFound`` if none."""
    kinds = await Team.select(Team.kind).where(Team.id == team_id).output(as_list=True).run()
    if not kinds:
        raise TeamNotFound(f"team {team_id} does not exist", field="team_id")
    return str(kinds[0])


async def is_team_member(team_id: int, member_id: int) -> bool:
    return bool(await TeamMember.exists().where((TeamMember.team == team_id) & (TeamMember.member == member_id)).run())


async def teams_of_member(member_id: int) -> list[TeamRecord]:
    return await _records(
        Team.select()
        .where(Team.id.is_in(TeamMember.select(TeamMember.team).where(TeamMember.member == member_id)))
        .order_by(Team.id)
    )


def may_join(team_organisation_id: int, member_home_chain: list[int]) -> bool:
    """The membership rule, given the member's home and its ancestors."""
    return team_organisation_id in member_home_chain


async def create_team(
    *,
    organisation_id: int,
    name_zh: str,
    kind: TeamKind | str,
    name_en: str = "",
    leader_id: int | None = None,
    actor_ref: str,
) -> TeamDetail:
    """A new team; a leader given here joins it as its first member.

    The functions below that take ``actor_ref`` apply no policy: they are for
    trusted setup code and for other services that checked already. A person
    changes teams through ``community/structure.py``."""
    name_zh, name_en = name_zh.strip(), name_en.strip()
    if not 1 <= len(name_zh) <= MAX_NAME_CHARS or len(name_en) > MAX_NAME_CHARS:
        raise InvalidTeamData(f"a team needs a Chinese name of 1-{MAX_NAME_CHARS} characters", field="name_zh")
    for field, text in (("name_zh", name_zh), ("name_en", name_en)):
        if (problem := name_problem(text)) is not None:
            raise InvalidTeamData(problem, field=field)
    checked_kind = team_kind(kind)
    await get_organisation(organisation_id)
    same_name = await Team.exists().where((Team.organisation == organisation_id) & (Team.name_zh == name_zh)).run()
    if same_name:
        raise InvalidTeamData("this organisation already has a team of that name", field="name_zh")

    async def work() -> int:
        inserted = await Team.insert(
            Team(organisation=organisation_id, name_zh=name_zh, name_en=name_en, kind=checked_kind.value)
        ).run()
        team_id = int(inserted[0]["id"])
        await audit.record(
            actor_ref, "team.create", f"team:{team_id}", organisation_id=organisation_id, kind=checked_kind.value
        )
        if leader_id is not None:
            await add_team_member(team_id, leader_id, actor_ref=actor_ref)
            await set_team_leader(team_id, leader_id, actor_ref=actor_ref)
        return team_id

    return await get_team_detail(await in_write_transaction(work))


async def add_team_member(team_id: int, member_id: int, *, actor_ref: str) -> bool:
    """Put a member in a team (the membership rule above). False if they
    were in it already."""
    team = await get_team(team_id)
    if not may_join(team.organisation_id, await ancestor_ids(await home_organisation_of(member_id))):
        raise TeamMembershipRefused(
            "a member joins only teams of their home organisation or one above it", field="member_id"
        )
    if await is_team_member(team_id, member_id):
        return False

    async def work() -> None:
        # The service's clock, as the leaderboards compare it with award times.
        await TeamMember.insert(TeamMember(team=team_id, member=member_id, joined_at=utc_now())).run()
        await audit.record(actor_ref, "team.member.add", f"team:{team_id}", member_id=member_id)

    try:
        await in_write_transaction(work)
    except Exception as error:  # added concurrently: the unique index kept one row
        if is_unique_violation(error):
            return False
        raise
    return True


async def remove_team_member(team_id: int, member_id: int, *, actor_ref: str) -> None:
    team = await get_team(team_id)
    if team.leader_id == member_id:
        raise TeamMembershipRefused("set another leader before the leader leaves the team", field="member_id")

    async def work() -> None:
        removed = (
            await TeamMember.delete()
            .where((TeamMember.team == team_id) & (TeamMember.member == member_id))
            .returning(TeamMember.id, TeamMember.joined_at)
            .run()
        )
        if not removed:
            raise TeamMembershipRefused(f"member {member_id} is not in this team", field="member_id")
        # The leaderboards need the team at each award's time (``PastTeamMember``).
        await PastTeamMember.insert(
            PastTeamMember(team=team_id, member=member_id, joined_at=removed[0]["joined_at"], left_at=utc_now())
        ).run()
        await audit.record(actor_ref, "team.member.remove", f"team:{team_id}", member_id=member_id)

    await in_write_transaction(work)


async def set_team_leader(team_id: int, member_id: int, *, actor_ref: str) -> TeamRecord:
    """Make a member of the team its leader."""
    await get_team(team_id)

    async def work() -> None:
        if not await is_team_member(team_id, member_id):
            raise TeamMembershipRefused("the leader must be a member of the team", field="member_id")
        await Team.update({Team.leader: member_id}).where(Team.id == team_id).run()
        await audit.record(actor_ref, "team.leader", f"team:{team_id}", member_id=member_id)

    await in_write_transaction(work)
    return await get_team(team_id)
