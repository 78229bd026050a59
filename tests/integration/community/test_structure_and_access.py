"""The tree's level rules, posts granted and revoked with their audit rows,
who may grant what, and who sees which member (and whose whole phone)."""

from __future__ import annotations

import json

import pytest

from community.access import (
    can_grant_role,
    can_see_member,
    can_see_organisation,
    sees_full_phone,
    verifying_organisations,
)
from community.errors import GrantNotFound, InvalidOrganisationData, InvalidRole
from community.members import get_member, list_members, mask_phone
from community.organisations import child_ids, create_organisation, list_children, list_subtree, subtree_ids
from community.posts import grant_post, list_post_holders, revoke_post
from community.roles import Level, Role
from community.tables import AuditEvent
from ledger.accounts import find_balance
from tests.support.community_helpers import Tree, add_member, principal


async def test_a_child_sits_strictly_below_its_parent_and_lanes_rank_with_buildings(tree: Tree) -> None:
    lane = await create_organisation(name_zh="幸福弄", level=Level.LANE, parent_id=tree.grid1)
    assert lane.parent_id == tree.grid1
    for level in (Level.GRID, Level.COMMUNITY):
        with pytest.raises(InvalidOrganisationData, match="cannot sit under"):
            await create_organisation(name_zh="错层", level=level, parent_id=tree.grid1)
    with pytest.raises(InvalidOrganisationData, match="cannot sit under"):
        await create_organisation(name_zh="楼中楼", level=Level.BUILDING, parent_id=tree.building1)
    with pytest.raises(InvalidOrganisationData, match="cannot sit under"):
        await create_organisation(name_zh="弄中楼", level=Level.BUILDING, parent_id=lane.id)
    # Skipping levels downwards is allowed (a community straight to a building).
    assert (await create_organisation(name_zh="直管楼", level=Level.BUILDING, parent_id=tree.community)).id
    with pytest.raises(InvalidOrganisationData, match="Chinese name"):
        await create_organisation(name_zh="  ", level=Level.GRID, parent_id=tree.community)


async def test_children_and_subtree_pages(tree: Tree) -> None:
    assert await child_ids(tree.community) == {tree.grid1, tree.grid2}
    assert await subtree_ids(tree.community) == {tree.community, tree.grid1, tree.grid2, tree.building1}
    first = await list_subtree(tree.community, limit=3)
    assert [o.id for o in first.organisations] == sorted([tree.community, tree.grid1, tree.building1, tree.grid2])[:3]
    rest = await list_subtree(tree.community, cursor=first.next_cursor, limit=3)
    assert len(rest.organisations) == 1 and rest.next_cursor is None
    children = await list_children(tree.community, limit=1)
    assert [o.id for o in children.organisations] == [tree.grid1] and children.next_cursor is not None
    rest = await list_children(tree.community, cursor=children.next_cursor, limit=1)
    assert [o.id for o in rest.organisations] == [tree.grid2] and rest.next_cursor is None


async def test_granting_and_revoking_a_post_is_audited(tree: Tree) -> None:
    actor = f"member:{tree.organiser}"
    organiser = await principal(tree.organiser)
    assert await grant_post(organiser, tree.grid1, tree.volunteer, "building_head")
    assert not await grant_post(organiser, tree.grid1, tree.volunteer, Role.BUILDING_HEAD)  # no change
    holders = await list_post_holders(tree.grid1, role=Role.BUILDING_HEAD)
    assert [(h.member_id, h.role) for h in holders] == [(tree.volunteer, Role.BUILDING_HEAD)]
    await revoke_post(organiser, tree.grid1, tree.volunteer, Role.BUILDING_HEAD)
    assert await list_post_holders(tree.grid1, role=Role.BUILDING_HEAD) == []
    with pytest.raises(GrantNotFound):
        await revoke_post(organiser, tree.grid1, tree.volunteer, Role.BUILDING_HEAD)
    with pytest.raises(InvalidRole):
        await grant_post(organiser, tree.grid1, tree.volunteer, "captain")
    rows = (
        await AuditEvent.select()
        .where(AuditEvent.target_ref == f"member:{tree.volunteer}")
        .order_by(AuditEvent.id)
        .run()
    )
    assert [(row["action"], row["actor_ref"]) for row in rows] == [("post.grant", actor), ("post.revoke", actor)]
    detail = rows[0]["detail"]
    detail = json.loads(detail) if isinstance(detail, str) else detail
    assert detail == {"organisation_id": tree.grid1, "role": "building_head"}


async def test_granting_the_volunteer_role_opens_the_wallet(tree: Tree) -> None:
    worker = await get_member(tree.grid_worker)
    assert await find_balance(f"volunteer:{worker.id}:wallet") is None
    await grant_post(await principal(tree.organiser), tree.grid1, worker.id, Role.VOLUNTEER)
    assert await find_balance(f"volunteer:{worker.id}:wallet") is not None


async def test_who_may_grant_which_role(tree: Tree) -> None:
    organiser = await principal(tree.organiser)  # organizer at the community
    admin = await principal(tree.admin)  # admin at the city
    grid_worker = await principal(tree.grid_worker)
    for role in (Role.GRID_WORKER, Role.BUILDING_HEAD, Role.VOLUNTEER):
        assert await can_grant_role(organiser, tree.grid1, role)
    assert await can_grant_role(organiser, tree.grid1, Role.ORGANIZER)  # below their own node
    assert not await can_grant_role(organiser, tree.community, Role.ORGANIZER)  # no peers at their own level
    assert not await can_grant_role(organiser, tree.grid1, Role.ADMIN)
    assert not await can_grant_role(organiser, tree.other_grid, Role.GRID_WORKER)  # not theirs
    assert await can_grant_role(admin, tree.community, Role.ORGANIZER)
    assert await can_grant_role(admin, tree.city, Role.ADMIN)
    assert not await can_grant_role(grid_worker, tree.grid1, Role.VOLUNTEER)


async def test_members_are_seen_by_their_managers_and_post_holders_and_phones_only_by_managers(tree: Tree) -> None:
    volunteer = await get_member(tree.volunteer)  # lives in grid 1
    organiser = await principal(tree.organiser)
    grid_worker = await principal(tree.grid_worker)  # post at grid 1
    neighbour = await principal(tree.neighbour)  # a volunteer in grid 2
    outsider = await principal(tree.outsider)  # another community
    me = await principal(tree.volunteer)
    home = volunteer.home_organisation_id
    assert await can_see_member(organiser, volunteer.id, home) and await sees_full_phone(organiser, volunteer.id, home)
    assert await can_see_member(grid_worker, volunteer.id, home)
    assert not await sees_full_phone(grid_worker, volunteer.id, home)
    assert await can_see_member(me, volunteer.id, home) and await sees_full_phone(me, volunteer.id, home)
    assert not await can_see_member(neighbour, volunteer.id, home)
    assert not await can_see_member(outsider, volunteer.id, home)
    assert mask_phone(volunteer.phone) == "139****0004"
    assert tree.grid2 not in await verifying_organisations(grid_worker)


async def test_members_see_the_nodes_above_their_home_and_under_their_grants(tree: Tree) -> None:
    volunteer = await principal(tree.volunteer)
    assert await can_see_organisation(volunteer, tree.city)
    assert await can_see_organisation(volunteer, tree.building1)  # under their volunteer grant at grid 1
    assert not await can_see_organisation(volunteer, tree.grid2)
    assert not await can_see_organisation(volunteer, tree.other_community)


async def test_member_listing_is_keyset_paginated_and_filters_by_role_and_name(tree: Tree) -> None:
    for number in range(5):
        await add_member(f"居民{number}", f"1370000000{number}", tree.building1, Role.VOLUNTEER)
    scope = await subtree_ids(tree.grid1)
    first = await list_members(organisation_ids=scope, limit=4)
    assert len(first.members) == 4 and first.next_cursor is not None
    rest = await list_members(organisation_ids=scope, cursor=first.next_cursor, limit=4)
    ids = [m.id for m in first.members + rest.members]
    assert ids == sorted(ids) and len(ids) == 7  # grid worker, volunteer, five residents
    assert rest.next_cursor is None
    workers = await list_members(organisation_ids=scope, role=Role.GRID_WORKER)
    assert [m.id for m in workers.members] == [tree.grid_worker]
    named = await list_members(organisation_ids=scope, search="居民3")
    assert [m.name for m in named.members] == ["居民3"]
    # Phone digits match only when the caller may see whole numbers.
    assert (await list_members(organisation_ids=scope, search="13700000003")).members == []
    by_phone = await list_members(organisation_ids=scope, search="13700000003", search_phone=True)
    assert [m.name for m in by_phone.members] == ["居民3"]
