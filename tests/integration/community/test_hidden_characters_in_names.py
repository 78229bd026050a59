"""Names with bidi controls or control characters are refused wherever a
name enters the community (registration, CSV import, teams, organisations),
naming the field, and nothing is written."""

from __future__ import annotations

import pytest

from community.errors import InvalidMemberData, InvalidOrganisationData, InvalidTeamData
from community.invitations import invite_member
from community.member_import import import_members
from community.organisations import create_organisation
from community.roles import Level
from community.teams import create_team
from tests.support.community_helpers import Tree, counts, member_csv, principal
from tests.support.marketplace_helpers import assert_same, snapshot_everything

OVERRIDE = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "张\u202e1000" reads as "张0001"


async def test_registration_refuses_a_bidi_override_in_the_name(tree: Tree) -> None:
    before = await snapshot_everything()
    with pytest.raises(InvalidMemberData) as refused:
        await invite_member(
            await principal(tree.organiser),
            name=f"张{OVERRIDE}秀英",
            phone="13712345678",
            home_organisation_id=tree.grid1,
        )
    assert refused.value.field == "name" and "U+202E" in refused.value.message
    assert_same(before, await snapshot_everything())


async def test_the_import_names_the_row_and_field_and_writes_nothing(tree: Tree) -> None:
    before = await counts()
    content = member_csv([["甲", "13700000001"], [f"乙{OVERRIDE}", "13700000002"], ["丙\x07", "13700000003"]])
    result = await import_members(content, organisation_id=tree.community, actor_ref="member:1")
    assert [(e.line, e.field) for e in result.errors] == [(3, "name"), (4, "name")]
    assert not result.written and await counts() == before


async def test_team_and_organisation_names_are_refused_naming_the_field(tree: Tree) -> None:
    before = await snapshot_everything()
    with pytest.raises(InvalidTeamData) as team:
        await create_team(organisation_id=tree.community, name_zh=f"巡逻队{OVERRIDE}", kind="patrol", actor_ref="t")
    assert team.value.field == "name_zh"
    with pytest.raises(InvalidOrganisationData) as organisation:
        await create_organisation(name_zh="第三网格", name_en="Grid\u20663", level=Level.GRID, parent_id=tree.community)
    assert organisation.value.field == "name_en"
    assert_same(before, await snapshot_everything())
