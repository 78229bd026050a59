"""Roles a member can hold over an organisation node and its subtree.

Besides organisers and admins, the grid's own people hold *posts*: the
"three heads" (三长: 片区长 area head, 楼栋长 building head, 弄巷长 lane head)
and the grid worker (网格员). A post over a node lets its holder verify and
handle what volunteers did at that node or below it, never their own work.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VOLUNTEER = "volunteer"
    SHOP_STAFF = "shop_staff"
    ORGANIZER = "organizer"
    ADMIN = "admin"
    AREA_HEAD = "area_head"
    BUILDING_HEAD = "building_head"
    LANE_HEAD = "lane_head"
    GRID_WORKER = "grid_worker"


# Roles that manage an organisation: read its accounts, post adjustments,
# register members, run campaigns.
MANAGING_ROLES = frozenset({Role.ORGANIZER, Role.ADMIN})

# The grid's posts: the three heads and the grid worker.
POST_ROLES = frozenset({Role.AREA_HEAD, Role.BUILDING_HEAD, Role.LANE_HEAD, Role.GRID_WORKER})

# Who may verify, assign and handle activities at a node and below.
VERIFYING_ROLES = POST_ROLES | MANAGING_ROLES

ROLE_NAMES: dict[Role, tuple[str, str]] = {
    Role.VOLUNTEER: ("志愿者", "Volunteer"),
    Role.SHOP_STAFF: ("商户店员", "Shop staff"),
    Role.ORGANIZER: ("组织者", "Organiser"),
    Role.ADMIN: ("管理员", "Administrator"),
    Role.AREA_HEAD: ("片区长", "Area head"),
    Role.BUILDING_HEAD: ("楼栋长", "Building head"),
    Role.LANE_HEAD: ("弄巷长", "Lane head"),
    Role.GRID_WORKER: ("网格员", "Grid worker"),
}


class Level(StrEnum):
    """Levels of the organisation tree, top down (ARCHITECTURE.md §1)."""

    CITY = "city"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"
    BUILDING = "building"
    LANE = "lane"


# Depth of each level; a building (楼栋) and a lane (弄巷) are both the
# smallest unit under a grid.
LEVEL_RANK: dict[Level, int] = {
    Level.CITY: 0,
    Level.DISTRICT: 1,
    Level.STREET: 2,
    Level.COMMUNITY: 3,
    Level.GRID: 4,
    Level.BUILDING: 5,
    Level.LANE: 5,
}
