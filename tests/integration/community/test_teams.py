"""Teams: kinds, who may join (home organisation or above), leaders are
members, and the two questions the activities code asks."""

from __future__ import annotations

import pytest

from community.errors import InvalidTeamData, TeamMembershipRefused, TeamNotFound
from community.tables import AuditEvent
from community.teams import (
    TEAM_KIND_NAMES,
    TeamKind,
    add_team_member,
    create_team,
    get_team_detail,
    is_team_member,
    list_teams,
    remove_team_member,
    set_team_leader,
    team_kind_of,
    teams_of_member,
)
from tests.support.community_helpers import Tree

ACTOR = "member:1"


def test_every_kind_has_a_chinese_and_an_english_name() -> None:
    assert set(TEAM_KIND_NAMES) == set(TeamKind)
    assert TEAM_KIND_NAMES[TeamKind.PATROL] == ("治安巡逻队", "Security patrol team")
    assert TEAM_KIND_NAMES[TeamKind.ELDERLY_CARE][0] == "助老队"


async def test_a_community_team_takes_members_from_its_grids_and_buildings(tree: Tree) -> None:
    team = await create_team(organisation_id=tree.community, name_zh="巡逻队", kind="patrol", actor_ref=ACTOR)
    assert await add_team_member(team.id, tree.volunteer, actor_ref=ACTOR)  # lives in grid 1
    assert await add_team_member(team.id, tree.neighbour, actor_ref=ACTOR)  # lives in grid 2
    assert not await add_team_member(team.id, tree.volunteer, actor_ref=ACTOR)  # already in: no change
    assert await is_team_member(team.id, tree.volunteer)
    assert await team_kind_of(team.id) == "patrol"
    assert [t.id for t in await teams_of_member(tree.volunteer)] == [team.id]
    detail = await get_team_detail(team.id)
    assert detail.member_count == 2 and [m.member_id for m in detail.members] == [tree.volunteer, tree.neighbour]


async def test_a_grid_team_refuses_members_from_another_grid_or_community(tree: Tree) -> None:
    team = await create_team(organisation_id=tree.grid1, name_zh="一网格服务队", kind="service", actor_ref=ACTOR)
    with pytest.raises(TeamMembershipRefused):
        await add_team_member(team.id, tree.neighbour, actor_ref=ACTOR)
    with pytest.raises(TeamMembershipRefused):
        await add_team_member(team.id, tree.outsider, actor_ref=ACTOR)
    assert not await is_team_member(team.id, tree.neighbour)


async def test_the_leader_is_a_member_and_cannot_leave_before_a_new_one_is_set(tree: Tree) -> None:
    team = await create_team(
        organisation_id=tree.community,
        name_zh="调解队",
        kind=TeamKind.MEDIATION,
        leader_id=tree.volunteer,
        actor_ref=ACTOR,
    )
    assert team.leader_id == tree.volunteer and [m.is_leader for m in team.members] == [True]
    with pytest.raises(TeamMembershipRefused, match="leader must be a member"):
        await set_team_leader(team.id, tree.neighbour, actor_ref=ACTOR)
    with pytest.raises(TeamMembershipRefused, match="another leader"):
        await remove_team_member(team.id, tree.volunteer, actor_ref=ACTOR)
    await add_team_member(team.id, tree.neighbour, actor_ref=ACTOR)
    assert (await set_team_leader(team.id, tree.neighbour, actor_ref=ACTOR)).leader_id == tree.neighbour
    await remove_team_member(team.id, tree.volunteer, actor_ref=ACTOR)
    assert not await is_team_member(team.id, tree.volunteer)
    with pytest.raises(TeamMembershipRefused, match="not in this team"):
        await remove_team_member(team.id, tree.volunteer, actor_ref=ACTOR)
    actions = await AuditEvent.select(AuditEvent.action).where(AuditEvent.target_ref == f"team:{team.id}").run()
    assert [row["action"] for row in actions] == [
        "team.create",
        "team.member.add",
        "team.leader",
        "team.member.add",
        "team.leader",
        "team.member.remove",
    ]


async def test_bad_kind_duplicate_name_and_unknown_team_are_refused(tree: Tree) -> None:
    with pytest.raises(InvalidTeamData, match="kind"):
        await create_team(organisation_id=tree.community, name_zh="某队", kind="choir", actor_ref=ACTOR)
    await create_team(organisation_id=tree.community, name_zh="宣传队", kind="publicity", actor_ref=ACTOR)
    with pytest.raises(InvalidTeamData, match="already has"):
        await create_team(organisation_id=tree.community, name_zh="宣传队", kind="publicity", actor_ref=ACTOR)
    with pytest.raises(TeamNotFound):
        await team_kind_of(999_999)
    assert not await is_team_member(999_999, tree.volunteer)


async def test_listing_filters_by_organisation_and_kind(tree: Tree) -> None:
    patrol = await create_team(organisation_id=tree.community, name_zh="巡逻队", kind="patrol", actor_ref=ACTOR)
    care = await create_team(organisation_id=tree.community, name_zh="助老队", kind="elderly_care", actor_ref=ACTOR)
    grid_team = await create_team(organisation_id=tree.grid1, name_zh="环境队", kind="environment", actor_ref=ACTOR)
    assert [t.id for t in await list_teams({tree.community})] == [patrol.id, care.id]
    assert [t.id for t in await list_teams({tree.community}, kind=TeamKind.ELDERLY_CARE)] == [care.id]
    assert [t.id for t in await list_teams({tree.community, tree.grid1})] == [patrol.id, care.id, grid_team.id]
