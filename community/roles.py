"""Roles a member can hold over an organisation node and its subtree."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VOLUNTEER = "volunteer"
    SHOP_STAFF = "shop_staff"
    ORGANIZER = "organizer"
    ADMIN = "admin"


# Roles that manage an organisation: read its accounts, post adjustments.
MANAGING_ROLES = frozenset({Role.ORGANIZER, Role.ADMIN})


class Level(StrEnum):
    """Levels of the organisation tree, top down (ARCHITECTURE.md §1)."""

    CITY = "city"
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"
    BUILDING = "building"


LEVEL_ORDER = list(Level)
