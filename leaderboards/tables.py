"""Leaderboard tables. The boards themselves live in Redis (rebuilt from the
ledger); stored here is only what organisers choose. A member's ranking
visibility is a column of ``community_member`` (``ranking_visibility``)."""

from __future__ import annotations

from piccolo.columns import ForeignKey, OnDelete, Serial, Timestamptz, Varchar
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
