"""Rollup tables: per China day × organisation node × kind, maintained after
commit from cursors (``reporting/rollups.py``) and rebuildable from source
(``fengling reporting rebuild``).

Every row carries the node's materialised ``org_path`` (nodes never move,
``community/tree_paths.py``), so a subtree's figures are one index range.
Rows are written only by the rollup job while it holds its cursor row
(``ReportingCursor``, locked ``FOR UPDATE`` on PostgreSQL, the one writer on
SQLite): one writer at a time, so a read-modify-write of a row is safe
without a unique index. Amounts are BIGINT hundredths, as in the ledger.
"""

from __future__ import annotations

from piccolo.columns import BigInt, Integer, Serial, Timestamptz, Varchar
from piccolo.table import Table

from community.tree_paths import MAX_PATH_CHARS


class ReportingCursor(Table, tablename="reporting_cursor"):
    """Where each rollup stands: ``ledger`` (the last chain block applied) and
    ``activities`` (the ``updated_at`` it reads from next)."""

    id = Serial(primary_key=True)
    name = Varchar(length=20, unique=True)
    position = BigInt(default=0)
    moment = Timestamptz(null=True, default=None)


class LedgerDay(Table, tablename="reporting_ledger_day"):
    """Ledger legs per day × node × account class × entry kind.

    A leg counts for the node its account belongs to (a wallet: the member's
    home; a budget: the campaign's organisation; a settlement: the shop's;
    issuance and expired: their organisation). A reversal counts under the
    kind it reverses, with its own (opposite) signs, so sums net out."""

    id = Serial(primary_key=True)
    day = Varchar(length=10, index=True)
    organisation_id = Integer(index=True)
    org_path = Varchar(length=MAX_PATH_CHARS, index=True)
    account_class = Varchar(length=12)
    kind = Varchar(length=40)
    amount_minor = BigInt(default=0)
    legs = Integer(default=0)


class RedemptionDay(Table, tablename="reporting_redemption_day"):
    """Redemptions (net of returns) per day × shop × item; the node is the shop's."""

    id = Serial(primary_key=True)
    day = Varchar(length=10, index=True)
    shop_id = Integer()
    item_id = Integer()
    organisation_id = Integer()
    org_path = Varchar(length=MAX_PATH_CHARS, index=True)
    points_minor = BigInt(default=0)
    quantity = Integer(default=0)
    orders = Integer(default=0)


class ActivityDay(Table, tablename="reporting_activity_day"):
    """Activities per China day of ``started_at`` × node × kind × status ×
    report kind × team, recomputed whole for every (node, day) an activity
    of which changed. The closed-loop columns count stages passed and those
    passed only after an escalation (late)."""

    id = Serial(primary_key=True)
    day = Varchar(length=10, index=True)
    organisation_id = Integer(index=True)
    org_path = Varchar(length=MAX_PATH_CHARS, index=True)
    kind = Varchar(length=10)
    status = Varchar(length=12)
    report_kind = Varchar(length=10, default="")
    team_id = Integer(default=0)
    activities = Integer(default=0)
    minutes = BigInt(default=0)
    points_minor = BigInt(default=0)
    accept_done = Integer(default=0)
    accept_late = Integer(default=0)
    finish_done = Integer(default=0)
    finish_late = Integer(default=0)


class MemberDay(Table, tablename="reporting_member_day"):
    """Who was active (submitted an activity) on a day at a node: one row
    per (day, node, member), so "active in the last 30 days" is a distinct
    count that stays exact over any range and subtree."""

    id = Serial(primary_key=True)
    day = Varchar(length=10, index=True)
    organisation_id = Integer(index=True)
    org_path = Varchar(length=MAX_PATH_CHARS, index=True)
    member_id = Integer()
