"""How a league ranks its units (pure).

A league ranks the units under one organisation node, its child nodes
(grids under a community, communities under a street…) or its teams, by
what their members earned in a period:

- ``sum``: the members' points added up (hidden members included: a team
  keeps their points, only their name is off the boards);
- ``average``: that sum per member (the unit's head count), so a small grid
  can beat a big one. Rounded half to even to hundredths; a unit with no
  members scores 0.

Ties rank by the unit's id (older first): stable on every read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from ledger.amounts import from_minor

HUNDREDTH = Decimal("0.01")


class LeagueMethod(StrEnum):
    SUM = "sum"
    AVERAGE = "average"


class LeagueUnits(StrEnum):
    CHILDREN = "children"
    TEAMS = "teams"


@dataclass(frozen=True, slots=True)
class UnitTotal:
    unit_id: int
    points_minor: int
    headcount: int


@dataclass(frozen=True, slots=True)
class RankedUnit:
    rank: int
    unit_id: int
    total: Decimal
    headcount: int
    value: Decimal  # what the league ranks by: the total, or the total per member


def league_value(total: UnitTotal, method: LeagueMethod) -> Decimal:
    points = from_minor(total.points_minor)
    if method is LeagueMethod.SUM:
        return points
    if total.headcount <= 0:
        return Decimal("0.00")
    return (points / total.headcount).quantize(HUNDREDTH, rounding=ROUND_HALF_EVEN)


def rank_units(totals: Sequence[UnitTotal], method: LeagueMethod) -> list[RankedUnit]:
    valued = sorted(((league_value(total, method), total) for total in totals), key=lambda v: (-v[0], v[1].unit_id))
    return [
        RankedUnit(
            rank=index + 1,
            unit_id=total.unit_id,
            total=from_minor(total.points_minor),
            headcount=total.headcount,
            value=value,
        )
        for index, (value, total) in enumerate(valued)
    ]
