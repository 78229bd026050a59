"""The community's access rules as pure decisions over ancestor chains
(``community/access.py``): who manages, verifies, sees and may grant at a
node, without a database. The integration tests check the same rules
through the services."""

from __future__ import annotations

import pytest

from community.access import Principal, covers, manages, may_grant, may_see_node, verifies
from community.roles import Role

# city 1 → district 2 → street 3 → community 4 → grid 5 → building 6;
# community 7 is a sibling of 4 under the same street.
BUILDING = [6, 5, 4, 3, 2, 1]
GRID = [5, 4, 3, 2, 1]
COMMUNITY = [4, 3, 2, 1]
CITY = [1]
OTHER_COMMUNITY = [7, 3, 2, 1]


def _principal(*grants: tuple[int, Role], home: int = 5) -> Principal:
    return Principal(member_id=99, name="甲", home_organisation_id=home, grants=tuple(grants))


def test_a_grant_covers_its_node_and_everything_below_it_only() -> None:
    assert covers([4], BUILDING) and covers([4], COMMUNITY)
    assert not covers([4], CITY) and not covers([4], OTHER_COMMUNITY)
    assert not covers([], BUILDING)


def test_managing_needs_an_organiser_or_admin_grant_above_the_node() -> None:
    organiser = _principal((4, Role.ORGANIZER))
    assert manages(organiser, GRID) and not manages(organiser, OTHER_COMMUNITY)
    worker = _principal((5, Role.GRID_WORKER))
    assert not manages(worker, BUILDING) and verifies(worker, BUILDING)
    assert not verifies(_principal((5, Role.VOLUNTEER)), BUILDING)


def test_members_see_their_home_upwards_and_their_grants_downwards() -> None:
    volunteer = _principal((5, Role.VOLUNTEER), home=5)
    home_chain = GRID
    assert may_see_node(volunteer, CITY, home_chain)  # above home
    assert may_see_node(volunteer, BUILDING, home_chain)  # under their grant
    assert not may_see_node(volunteer, OTHER_COMMUNITY, home_chain)
    assert not may_see_node(_principal(home=5), BUILDING, home_chain)  # no grant: nothing below home


@pytest.mark.parametrize(
    ("grants", "chain", "role", "allowed"),
    [
        # Admins over the node grant anything there, admins included.
        ([(1, Role.ADMIN)], COMMUNITY, Role.ADMIN, True),
        ([(1, Role.ADMIN)], COMMUNITY, Role.ORGANIZER, True),
        ([(4, Role.ADMIN)], CITY, Role.ADMIN, False),
        # Organisers delegate downwards only, never make peers or admins.
        ([(4, Role.ORGANIZER)], GRID, Role.ORGANIZER, True),
        ([(4, Role.ORGANIZER)], COMMUNITY, Role.ORGANIZER, False),
        ([(4, Role.ORGANIZER)], GRID, Role.ADMIN, False),
        # Volunteers and posts: any manager over the node.
        ([(4, Role.ORGANIZER)], BUILDING, Role.BUILDING_HEAD, True),
        ([(4, Role.ORGANIZER)], OTHER_COMMUNITY, Role.VOLUNTEER, False),
        ([(5, Role.GRID_WORKER)], BUILDING, Role.VOLUNTEER, False),
    ],
)
def test_who_may_grant_which_role(grants: list[tuple[int, Role]], chain: list[int], role: Role, allowed: bool) -> None:
    assert may_grant(_principal(*grants), chain, role) is allowed
