"""Leaderboard tables. The boards themselves live in Redis (rebuilt from the
ledger); stored here is only what organisers choose. A member's ranking
visibility is a column of ``community_member`` (``ranking_visibility``)."""

from __future__ import annotations

from piccolo.columns import BigInt, Date, ForeignKey, Integer, OnDelete, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from community.tables import Member, Organisation


class LeagueRule(Table, tablename="leaderboards_league_rule"):
    """How the leagues under an organisation node rank their units (its
    child nodes, its teams): by the ``sum`` of members' points, or by the
    per-capita ``average`` so that small grids can compete. One row per
    node (unique); a node without one ranks by sum."""

    id = Serial(primary_key=True)
    organisation = ForeignKey(Organisation, null=False, unique=True, on_delete=OnDelete.restrict)
    method = Varchar(length=12, default="sum")
    changed_by = ForeignKey(Member, null=True, default=None, on_delete=OnDelete.restrict)
    changed_at = Timestamptz(default=TimestamptzNow())


class Season(Table, tablename="leaderboards_season"):
    """An organiser's season (四季竞赛): awards whose China date falls in
    ``first_day``..``last_day`` (inclusive) and which were earned at or below
    ``organisation`` count on its boards (``season:<id>``). Frozen at the end
    (``frozen_at``): its standings are then read from ``leaderboards_season_standing``."""

    id = Serial(primary_key=True)
    name_zh = Varchar(length=100)
    name_en = Varchar(length=100, default="")
    organisation = ForeignKey(Organisation, null=False, index=True, on_delete=OnDelete.restrict)
    first_day = Date()
    last_day = Date()
    created_by = ForeignKey(Member, null=True, default=None, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    frozen_at = Timestamptz(null=True, default=None)


class SeasonStanding(Table, tablename="leaderboards_season_standing"):
    """A frozen season board: one row per member with points on it, per
    scope. ``rank`` is among the members shown at freezing (None: hidden
    then). Written once, at freezing; never changed afterwards."""

    id = Serial(primary_key=True)
    season = ForeignKey(Season, null=False, index=True, on_delete=OnDelete.cascade)
    scope = Varchar(length=30, index=True)
    member = ForeignKey(Member, null=False, index=True, on_delete=OnDelete.restrict)
    rank = Integer(null=True, default=None)
    points_minor = BigInt()
    score = BigInt()
