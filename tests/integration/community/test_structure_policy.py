"""Who may change the community structure, decided in the domain (no HTTP):
every refusal the API used to make in its handlers is made by the service
itself, answers not-found for what the caller cannot see and AccessRefused
for what they see but may not change, and leaves every table as it was."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from community import policy, structure
from community.access import Principal
from community.errors import AccessRefused, MemberNotFound, OrganisationNotFound, TeamNotFound
from community.posts import grant_post, revoke_post
from community.roles import Level, Role
from community.teams import create_team
from tests.support.community_helpers import Tree, member_csv, principal
from tests.support.marketplace_helpers import assert_same, snapshot_everything


async def refused(error: type[Exception], call: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``call``, expect ``error``, and prove nothing at all was written."""
    before = await snapshot_everything()
    with pytest.raises(error) as caught:
        await call()
    assert_same(before, await snapshot_everything())
    return caught.value


def test_only_an_admin_above_the_parent_creates_an_issuer() -> None:
    organiser = Principal(member_id=2, name="陈书记", home_organisation_id=4, grants=((4, Role.ORGANIZER),))
    admin = Principal(member_id=1, name="管理员", home_organisation_id=1, grants=((1, Role.ADMIN),))
    chain = [5, 4, 3, 2, 1]  # a grid, its community, street, district, city
    assert not policy.may_create_issuer(organiser, chain)
    assert policy.may_create_issuer(admin, chain)
    assert not policy.may_create_issuer(admin, [9, 8])  # another city's tree
    assert policy.changes_own_roles(organiser, 2) and not policy.changes_own_roles(organiser, 3)


async def test_creating_a_node_is_refused_unless_the_principal_manages_the_parent(tree: Tree) -> None:
    organiser = await principal(tree.organiser)
    volunteer = await principal(tree.volunteer)

    # Above the organiser's grant: they see the street but do not manage it.
    error = await refused(
        AccessRefused,
        lambda: structure.create_organisation(
            organiser, parent_id=tree.street, level=Level.COMMUNITY, name_zh="新社区"
        ),
    )
    assert error.field == "organisation_id"
    # Another community: not even visible, so it answers as a missing node.
    await refused(
        OrganisationNotFound,
        lambda: structure.create_organisation(
            organiser, parent_id=tree.other_community, level=Level.GRID, name_zh="渗透网格"
        ),
    )
    await refused(
        OrganisationNotFound,
        lambda: structure.create_organisation(organiser, parent_id=999_999, level=Level.GRID, name_zh="不存在"),
    )
    # A volunteer sees their grid but manages nothing.
    await refused(
        AccessRefused,
        lambda: structure.create_organisation(volunteer, parent_id=tree.grid1, level=Level.BUILDING, name_zh="2号楼"),
    )
    # Organisers run what an issuer funds; only an admin creates one.
    error = await refused(
        AccessRefused,
        lambda: structure.create_organisation(
            organiser, parent_id=tree.community, level=Level.GRID, name_zh="铸币网格", issues_points=True
        ),
    )
    assert error.field == "issues_points"

    made = await structure.create_organisation(organiser, parent_id=tree.community, level=Level.GRID, name_zh="三网格")
    assert made.parent_id == tree.community


async def test_posts_are_refused_by_the_grant_rule_and_never_on_ones_own_roles(tree: Tree) -> None:
    organiser = await principal(tree.organiser)
    admin = await principal(tree.admin)

    error = await refused(AccessRefused, lambda: grant_post(organiser, tree.grid1, tree.volunteer, Role.ADMIN))
    assert error.field == "role"
    # Organisers delegate downwards, never make peers at their own level.
    await refused(AccessRefused, lambda: grant_post(organiser, tree.community, tree.volunteer, Role.ORGANIZER))
    # A member of another community does not exist for this organiser.
    await refused(MemberNotFound, lambda: grant_post(organiser, tree.grid1, tree.outsider, Role.GRID_WORKER))
    await refused(MemberNotFound, lambda: grant_post(organiser, tree.grid1, 999_999, Role.GRID_WORKER))
    await refused(OrganisationNotFound, lambda: grant_post(organiser, tree.other_grid, tree.volunteer, Role.VOLUNTEER))
    # Nobody changes their own roles, not even an admin.
    error = await refused(AccessRefused, lambda: grant_post(admin, tree.grid1, tree.admin, Role.GRID_WORKER))
    assert error.field == "member_id"
    # The organiser may give the volunteer role at their node, but not to themself.
    error = await refused(AccessRefused, lambda: grant_post(organiser, tree.community, tree.organiser, Role.VOLUNTEER))
    assert error.field == "member_id"
    error = await refused(AccessRefused, lambda: revoke_post(admin, tree.city, tree.admin, Role.ADMIN))
    assert error.field == "member_id"
    # Revoking follows the rule for granting that role.
    await refused(AccessRefused, lambda: revoke_post(organiser, tree.city, tree.admin, Role.ADMIN))
    volunteer = await principal(tree.volunteer)
    await refused(AccessRefused, lambda: revoke_post(volunteer, tree.grid1, tree.grid_worker, Role.GRID_WORKER))


async def test_team_changes_are_refused_outside_what_the_principal_manages(tree: Tree) -> None:
    organiser = await principal(tree.organiser)
    neighbours_team = await create_team(
        organisation_id=tree.other_community, name_zh="邻里巡逻队", kind="patrol", actor_ref="seed"
    )
    own_team = await create_team(organisation_id=tree.community, name_zh="巡逻队", kind="patrol", actor_ref="seed")

    await refused(
        OrganisationNotFound,
        lambda: structure.create_team(organiser, organisation_id=tree.other_community, name_zh="x", kind="patrol"),
    )
    await refused(
        AccessRefused,
        lambda: structure.create_team(organiser, organisation_id=tree.street, name_zh="x", kind="patrol"),
    )
    # A leader the organiser does not manage answers as a missing member.
    await refused(
        MemberNotFound,
        lambda: structure.create_team(
            organiser, organisation_id=tree.community, name_zh="y", kind="patrol", leader_id=tree.outsider
        ),
    )
    await refused(TeamNotFound, lambda: structure.add_team_member(organiser, neighbours_team.id, tree.outsider))
    await refused(MemberNotFound, lambda: structure.add_team_member(organiser, own_team.id, tree.outsider))
    await refused(TeamNotFound, lambda: structure.remove_team_member(organiser, neighbours_team.id, tree.outsider))
    await refused(TeamNotFound, lambda: structure.set_team_leader(organiser, neighbours_team.id, tree.outsider))
    await refused(TeamNotFound, lambda: structure.add_team_member(organiser, 999_999, tree.volunteer))
    volunteer = await principal(tree.volunteer)
    await refused(TeamNotFound, lambda: structure.add_team_member(volunteer, own_team.id, tree.volunteer))

    assert await structure.add_team_member(organiser, own_team.id, tree.volunteer)
    assert (await structure.set_team_leader(organiser, own_team.id, tree.volunteer)).leader_id == tree.volunteer


async def test_an_import_is_refused_before_the_file_is_read(tree: Tree) -> None:
    organiser = await principal(tree.organiser)
    good = member_csv([["新人", "13700000001"]])
    await refused(
        OrganisationNotFound, lambda: structure.import_members(organiser, good, organisation_id=tree.other_community)
    )
    await refused(AccessRefused, lambda: structure.import_members(organiser, good, organisation_id=tree.street))
    # Even a file that could not be read says nothing to someone without the right.
    await refused(AccessRefused, lambda: structure.import_members(organiser, b"\x89PNG", organisation_id=tree.street))
    result = await structure.import_members(organiser, good, organisation_id=tree.community)
    assert result.written and len(result.created) == 1
