"""Volunteer teams (志愿服务队): create, list, members, leader.

A team is visible to members who can see its organisation; its roster is
shown to post holders and managers over the team's organisation and to the
team's own members (others get ``members: []``). Phones in the roster are
whole only for the caller's own managed members. Changes need a manager of
the team's organisation; who may join is ``community/teams.py``'s rule.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller
from litestar.params import JSONBody, QueryParameter

from api.dependencies import ActingPrincipal
from api.guards import requires_manager, requires_member
from api.params import MAX_ID, Id
from api.routing import delete, get, post, put
from api.schemas.community import (
    TeamDetailOut,
    TeamIn,
    TeamMemberIn,
    TeamOut,
    team_detail_out,
    team_out,
)
from community import structure
from community.access import Principal
from community.teams import TeamKind, team_detail_for, teams_of_organisation


async def _detail(principal: Principal, team_id: int) -> TeamDetailOut:
    detail, full_phone_of = await team_detail_for(principal, team_id)
    return team_detail_out(detail, full_phone_of=full_phone_of)


class TeamsController(Controller):
    path = "/api/v1/teams"
    tags = ["community"]

    @post("", guards=[requires_manager], operation_id="createTeam", summary="成立志愿服务队 · Create a team")
    async def create(self, principal: ActingPrincipal, data: JSONBody[TeamIn]) -> TeamDetailOut:
        team = await structure.create_team(
            principal,
            organisation_id=data.organisation_id,
            name_zh=data.name_zh,
            name_en=data.name_en,
            kind=data.kind,
            leader_id=data.leader_id,
        )
        return await _detail(principal, team.id)

    @get("", guards=[requires_member], operation_id="listTeams", summary="Teams of an organisation")
    async def list_all(
        self,
        principal: ActingPrincipal,
        organisation_id: Annotated[int, QueryParameter(ge=1, le=MAX_ID)],
        kind: Annotated[TeamKind | None, QueryParameter()] = None,
        include_subtree: Annotated[bool, QueryParameter(description="also the teams of nodes below")] = False,
    ) -> list[TeamOut]:
        teams = await teams_of_organisation(principal, organisation_id, kind=kind, include_subtree=include_subtree)
        return [team_out(team) for team in teams]

    @get("/{team_id:int}", guards=[requires_member], operation_id="getTeam", summary="A team and its members")
    async def get_one(self, principal: ActingPrincipal, team_id: Id) -> TeamDetailOut:
        return await _detail(principal, team_id)

    @post(
        "/{team_id:int}/members",
        guards=[requires_manager],
        operation_id="addTeamMember",
        summary="Add a member to the team",
        status_code=200,
    )
    async def add_member(self, principal: ActingPrincipal, team_id: Id, data: JSONBody[TeamMemberIn]) -> TeamDetailOut:
        await structure.add_team_member(principal, team_id, data.member_id)
        return await _detail(principal, team_id)

    @delete(
        "/{team_id:int}/members/{member_id:int}",
        guards=[requires_manager],
        operation_id="removeTeamMember",
        summary="Remove a member from the team",
    )
    async def remove_member(self, principal: ActingPrincipal, team_id: Id, member_id: Id) -> None:
        await structure.remove_team_member(principal, team_id, member_id)

    @put(
        "/{team_id:int}/leader",
        guards=[requires_manager],
        operation_id="setTeamLeader",
        summary="Make a team member its leader",
    )
    async def leader(self, principal: ActingPrincipal, team_id: Id, data: JSONBody[TeamMemberIn]) -> TeamOut:
        return team_out(await structure.set_team_leader(principal, team_id, data.member_id))
