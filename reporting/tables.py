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


# --- subtree totals: what the dashboard reads ----------------------------------------
#
# The rows above are per node where a thing happened ("own" rows). The dashboard
# reads a node's *subtree* over a period, so the job also keeps, at roll-up time,
# each own row's amounts added to every node on its path (the node and each
# ancestor: at most ``MAX_DEPTH``, four in a city) at two grains: ``day``
# (``period`` = ``YYYY-MM-DD``) and ``month`` (``period`` = ``YYYY-MM``). A read
# for a node and a period then touches only that node's rows: the whole months
# of the period from the month grain and the partial edge days from the day
# grain (``reporting.periods.calendar_split``), at most ~12 + ~60 periods a year
# whatever the size of the subtree or the length of history. Each table is read
# through one composite index ``(node_id, grain, period)`` (created by the
# migration; Piccolo cannot declare composite indexes). Totals are exact sums of
# the own rows: the job adds the same deltas to both in one transaction, and
# ``rebuild`` replays both from the source. Grains: ``reporting.aggregation``'s
# ``DAY_GRAIN`` and ``MONTH_GRAIN``.


class LedgerTotal(Table, tablename="reporting_ledger_total"):
    """``LedgerDay`` summed over a node's subtree, per day and per month."""

    id = Serial(primary_key=True)
    node_id = Integer()
    grain = Varchar(length=5)
    period = Varchar(length=10)
    account_class = Varchar(length=12)
    kind = Varchar(length=40)
    amount_minor = BigInt(default=0)
    legs = Integer(default=0)


class RedemptionTotal(Table, tablename="reporting_redemption_total"):
    """``RedemptionDay`` summed over a node's subtree, per day and per month."""

    id = Serial(primary_key=True)
    node_id = Integer()
    grain = Varchar(length=5)
    period = Varchar(length=10)
    shop_id = Integer()
    item_id = Integer()
    points_minor = BigInt(default=0)
    quantity = Integer(default=0)
    orders = Integer(default=0)


class ActivityTotal(Table, tablename="reporting_activity_total"):
    """``ActivityDay`` summed over a node's subtree by kind × status × report
    kind (teams and nodes: ``ActivityShare``), per day and per month. A row
    whose ``activities`` falls to 0 is deleted: a total row exists exactly when
    an own row under it does, as the figures' groups require."""

    id = Serial(primary_key=True)
    node_id = Integer()
    grain = Varchar(length=5)
    period = Varchar(length=10)
    kind = Varchar(length=10)
    status = Varchar(length=12)
    report_kind = Varchar(length=10, default="")
    activities = Integer(default=0)
    minutes = BigInt(default=0)
    points_minor = BigInt(default=0)
    accept_done = Integer(default=0)
    accept_late = Integer(default=0)
    finish_done = Integer(default=0)
    finish_late = Integer(default=0)


class ActivityShare(Table, tablename="reporting_activity_share"):
    """Points and service minutes of a node's subtree per team (``by`` =
    ``team``, ``ref_id`` the team, teams only) and per own node (``by`` =
    ``node``, ``ref_id`` the node where the activities happened: the top
    grids), per day and per month; deleted when ``activities`` falls to 0."""

    id = Serial(primary_key=True)
    node_id = Integer()
    grain = Varchar(length=5)
    period = Varchar(length=10)
    by = Varchar(length=4)
    ref_id = Integer()
    activities = Integer(default=0)
    points_minor = BigInt(default=0)
    minutes = BigInt(default=0)


class MemberTotal(Table, tablename="reporting_member_total"):
    """``MemberDay`` copied to every node on the member-day's path (``source_id``
    is the node where it happened): active volunteers are a distinct count of
    one node's rows over the 30-day window, ``(node_id, day)`` indexed. Exact
    (a distinct count cannot be summed across days or nodes); its cost is
    bounded by the window and the members active in it, never by history."""

    id = Serial(primary_key=True)
    node_id = Integer()
    day = Varchar(length=10)
    member_id = Integer()
    source_id = Integer()
