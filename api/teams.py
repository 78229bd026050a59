"""Volunteer teams (志愿服务队): create, list, members, leader.

A team is visible to members who can see its organisation; its roster is
shown to post holders and managers over the team's organisation and to the
team's own members (others get ``members: []``). Phones in the roster are
whole only for the caller's own managed members. Changes need a manager of
the team's organisation; who may join is ``community/teams.py``'s rule.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post, put
from litestar.params import JSONBody, QueryParameter

from api.community_schemas import (
    TeamDetailOut,
    TeamIn,
    TeamMemberIn,
    TeamOutModel,
    team_detail_out,
    team_out,
)
from api.errors import ProblemException
from api.guards import principal_of, requires_manager, requires_member
from api.organisations import managed_member
from api.params import MAX_ID, Id
from community.access import (
    Principal,
    can_manage_organisation,
    can_see_organisation,
    managed_organisations,
    verifying_organisations,
)
from community.errors import TeamNotFound
from community.organisations import subtree_ids
from community.teams import (
    TeamKind,
    TeamOut,
    add_team_member,
    create_team,
    get_team,
    get_team_detail,
    is_team_member,
    list_teams,
    remove_team_member,
    set_team_leader,
)


async def visible_team(principal: Principal, team_id: int) -> TeamOut:
    try:
        team = await get_team(team_id)
    except TeamNotFound:
        team = None
    if team is None or not await can_see_organisation(principal, team.organisation_id):
        raise ProblemException(404, "team_not_found", f"no team {team_id} visible to you", field="team_id")
    return team


async def managed_team(principal: Principal, team_id: int) -> TeamOut:
    """The team if the caller manages its organisation; 404 otherwise."""
    team = await visible_team(principal, team_id)
    if not await can_manage_organisation(principal, team.organisation_id):
        raise ProblemException(404, "team_not_found", f"no team {team_id} that you manage", field="team_id")
    return team


async def _detail(principal: Principal, team_id: int) -> TeamDetailOut:
    team = await get_team_detail(team_id)
    sees_roster = team.organisation_id in await verifying_organisations(principal) or await is_team_member(
        team_id, principal.member_id
    )
    if not sees_roster:
        team.members = []
    managed = await managed_organisations(principal)
    full_phone_of = {
        m.member_id for m in team.members if m.member_id == principal.member_id or m.home_organisation_id in managed
    }
    return team_detail_out(team, full_phone_of=full_phone_of)


class TeamsController(Controller):
    path = "/api/v1/teams"
    tags = ["community"]

    @post("", guards=[requires_manager], operation_id="createTeam", summary="成立志愿服务队 · Create a team")
    async def create(self, request: Request[Any, Any, Any], data: JSONBody[TeamIn]) -> TeamDetailOut:
        principal = principal_of(request)
        if not await can_see_organisation(principal, data.organisation_id):
            raise ProblemException(
                404, "organisation_not_found", f"no organisation {data.organisation_id} visible to you"
            )
        if not await can_manage_organisation(principal, data.organisation_id):
            raise ProblemException(403, "forbidden", "you do not manage this organisation", field="organisation_id")
        team = await create_team(
            organisation_id=data.organisation_id,
            name_zh=data.name_zh,
            name_en=data.name_en,
            kind=data.kind,
            leader_id=data.leader_id,
            actor_ref=principal.ref,
        )
        return await _detail(principal, team.id)

    @get("", guards=[requires_member], operation_id="listTeams", summary="Teams of an organisation")
    async def list_all(
        self,
        request: Request[Any, Any, Any],
        organisation_id: Annotated[int, QueryParameter(ge=1, le=MAX_ID)],
        kind: Annotated[TeamKind | None, QueryParameter()] = None,
        include_subtree: Annotated[bool, QueryParameter(description="also the teams of nodes below")] = False,
    ) -> list[TeamOutModel]:
        principal = principal_of(request)
        if not await can_see_organisation(principal, organisation_id):
            raise ProblemException(404, "organisation_not_found", f"no organisation {organisation_id} visible to you")
        organisations = await subtree_ids(organisation_id) if include_subtree else {organisation_id}
        return [team_out(team) for team in await list_teams(organisations, kind=kind)]

    @get("/{team_id:int}", guards=[requires_member], operation_id="getTeam", summary="A team and its members")
    async def get_one(self, request: Request[Any, Any, Any], team_id: Id) -> TeamDetailOut:
        principal = principal_of(request)
        await visible_team(principal, team_id)
        return await _detail(principal, team_id)

    @post(
        "/{team_id:int}/members",
        guards=[requires_manager],
        operation_id="addTeamMember",
        summary="Add a member to the team",
        status_code=200,
    )
    async def add_member(
        self, request: Request[Any, Any, Any], team_id: Id, data: JSONBody[TeamMemberIn]
    ) -> TeamDetailOut:
        principal = principal_of(request)
        await managed_team(principal, team_id)
        await managed_member(principal, data.member_id)
        await add_team_member(team_id, data.member_id, actor_ref=principal.ref)
        return await _detail(principal, team_id)

    @delete(
        "/{team_id:int}/members/{member_id:int}",
        guards=[requires_manager],
        operation_id="removeTeamMember",
        summary="Remove a member from the team",
    )
    async def remove_member(self, request: Request[Any, Any, Any], team_id: Id, member_id: Id) -> None:
        principal = principal_of(request)
        await managed_team(principal, team_id)
        await remove_team_member(team_id, member_id, actor_ref=principal.ref)

    @put(
        "/{team_id:int}/leader",
        guards=[requires_manager],
        operation_id="setTeamLeader",
        summary="Make a team member its leader",
    )
    async def leader(self, request: Request[Any, Any, Any], team_id: Id, data: JSONBody[TeamMemberIn]) -> TeamOutModel:
        principal = principal_of(request)
        await managed_team(principal, team_id)
        return team_out(await set_team_leader(team_id, data.member_id, actor_ref=principal.ref))
