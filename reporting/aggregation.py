"""Pure rollup rules: what a ledger entry or an activity adds to which rollup
row. No I/O, no clock; ``reporting/rollups.py`` loads the facts and writes
the rows, ``tests/unit/test_reporting_aggregation.py`` checks the rules.

Days are China days (Asia/Shanghai), ``YYYY-MM-DD``: what an organiser means
by "on the 3rd".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from community.tree_paths import ids_on_path

CHINA = ZoneInfo("Asia/Shanghai")

# Entry kinds as the dashboard names them (ledger kinds of the apps above it).
AWARD_KINDS = frozenset({"award", "award_bonus"})
FUND_KIND = "campaign_fund"
REDEMPTION_KIND = "redemption"
REVERSAL_KIND = "reversal"

# Statuses in which an activity's award stands (posted, not held, not taken back).
EARNED_STATUSES = frozenset({"verified", "assigned", "handled", "closed"})
# Statuses past the accept stage (a reviewer decided).
ACCEPTED_STATUSES = frozenset({"verified", "held", "rejected", "assigned", "handled", "closed"})
# Statuses past the finish stage of a report (handled).
FINISHED_STATUSES = frozenset({"handled", "closed"})
# Statuses that count as having been active (anything submitted; a patrol under way too).
ACTIVE_WINDOW_DAYS = 30


def china_day(moment: datetime) -> str:
    """The China day of ``moment`` (naive values are UTC, as SQLite returns them)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(CHINA).date().isoformat()


def active_window(to_day: date) -> tuple[str, str]:
    """The 30 China days ending with ``to_day`` (inclusive), as day strings."""
    return (to_day - timedelta(days=ACTIVE_WINDOW_DAYS - 1)).isoformat(), to_day.isoformat()


class AccountClass(StrEnum):
    WALLET = "wallet"
    BUDGET = "budget"
    ISSUANCE = "issuance"
    EXPIRED = "expired"
    SETTLEMENT = "settlement"
    OTHER = "other"


_PATTERNS = {
    ("volunteer", "wallet"): AccountClass.WALLET,
    ("campaign", "budget"): AccountClass.BUDGET,
    ("org", "issuance"): AccountClass.ISSUANCE,
    ("org", "expired"): AccountClass.EXPIRED,
    ("shop", "settlement"): AccountClass.SETTLEMENT,
}


def classify(code: str) -> tuple[AccountClass, int]:
    """An account code's class and owner id (``volunteer:42:wallet`` →
    wallet, 42); anything else is ``other`` (owner 0) and counts nowhere."""
    parts = code.split(":")
    if len(parts) == 3 and parts[1].isdigit():
        found = _PATTERNS.get((parts[0], parts[2]))
        if found is not None:
            return found, int(parts[1])
    return AccountClass.OTHER, 0


@dataclass(frozen=True, slots=True)
class Node:
    organisation_id: int
    path: str


@dataclass(frozen=True, slots=True)
class EntryFacts:
    """An entry as the rollups see it: a reversal carries the kind and
    metadata of the entry it reverses, and its own (mirrored) legs."""

    id: int
    counted_kind: str
    created_at: datetime
    metadata: Mapping[str, object]
    is_reversal: bool
    legs: tuple[tuple[str, int], ...]  # (account code, signed hundredths)


LedgerKey = tuple[str, int, str, str, str]  # day, node, path, account class, kind
RedemptionKey = tuple[str, int, int, int, str]  # day, shop, item, node, path


def ledger_deltas(
    entries: Iterable[EntryFacts], owner_nodes: Mapping[tuple[AccountClass, int], Node]
) -> dict[LedgerKey, list[int]]:
    """What ``entries`` add to ``reporting_ledger_day``: key → [amount, legs].
    A leg whose account has no known node (``other``, or an owner gone) is
    left out: it belongs to no organisation's figures."""
    deltas: dict[LedgerKey, list[int]] = defaultdict(lambda: [0, 0])
    for entry in entries:
        day = china_day(entry.created_at)
        for code, amount in entry.legs:
            account_class, owner = classify(code)
            node = owner_nodes.get((account_class, owner))
            if account_class is AccountClass.OTHER or node is None:
                continue
            row = deltas[(day, node.organisation_id, node.path, account_class.value, entry.counted_kind)]
            row[0] += amount
            row[1] += 1
    return dict(deltas)


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


def redemption_deltas(
    entries: Iterable[EntryFacts], shop_nodes: Mapping[int, Node], quantities: Mapping[int, int]
) -> dict[RedemptionKey, list[int]]:
    """What redemption entries (and returns, their reversals) add to
    ``reporting_redemption_day``: key → [points, quantity, orders]. The
    points are what reached the shop's settlement account; a return takes
    its order's quantity and one order back."""
    deltas: dict[RedemptionKey, list[int]] = defaultdict(lambda: [0, 0, 0])
    for entry in entries:
        if entry.counted_kind != REDEMPTION_KIND:
            continue
        shop, item, order = (_int(entry.metadata.get(name)) for name in ("shop_id", "item_id", "order_id"))
        node = shop_nodes.get(shop or 0)
        if shop is None or item is None or node is None:
            continue
        points = sum(amount for code, amount in entry.legs if classify(code)[0] is AccountClass.SETTLEMENT)
        sign = -1 if entry.is_reversal else 1
        row = deltas[(china_day(entry.created_at), shop, item, node.organisation_id, node.path)]
        row[0] += points
        row[1] += sign * quantities.get(order or 0, 0)
        row[2] += sign
    return dict(deltas)


@dataclass(frozen=True, slots=True)
class ActivityFacts:
    """One activity as the rollups see it (escalation stages read with it)."""

    organisation_id: int
    member_id: int
    started_at: datetime
    kind: str
    status: str
    report_kind: str
    team_id: int
    minutes: int
    points_minor: int
    escalated_stages: frozenset[str]


ActivityKey = tuple[str, int, str, str, str, int]  # day, node, kind, status, report kind, team
ACTIVITY_COUNTERS = (
    "activities",
    "minutes",
    "points_minor",
    "accept_done",
    "accept_late",
    "finish_done",
    "finish_late",
)


def activity_counters(activity: ActivityFacts) -> tuple[int, ...]:
    """One activity's contribution, in ``ACTIVITY_COUNTERS`` order. Minutes
    and points count only where the award stands (``EARNED_STATUSES``); a
    stage counts as passed when the status is past it, and late when the
    activity was escalated in it."""
    earned = activity.status in EARNED_STATUSES
    accepted = activity.status in ACCEPTED_STATUSES
    finished = activity.kind == "report" and activity.status in FINISHED_STATUSES
    return (
        1,
        activity.minutes if earned and activity.kind == "service" else 0,
        activity.points_minor if earned else 0,
        int(accepted),
        int(accepted and "accept" in activity.escalated_stages),
        int(finished),
        int(finished and "finish" in activity.escalated_stages),
    )


def activity_rows(activities: Iterable[ActivityFacts]) -> dict[ActivityKey, list[int]]:
    """The ``reporting_activity_day`` rows of a set of activities."""
    rows: dict[ActivityKey, list[int]] = {}
    for activity in activities:
        key = (
            china_day(activity.started_at),
            activity.organisation_id,
            activity.kind,
            activity.status,
            activity.report_kind,
            activity.team_id,
        )
        counters = activity_counters(activity)
        row = rows.setdefault(key, [0] * len(ACTIVITY_COUNTERS))
        for index, value in enumerate(counters):
            row[index] += value
    return rows


def member_days(activities: Iterable[ActivityFacts]) -> set[tuple[str, int, int]]:
    """(day, node, member) for every activity: who was active where and when."""
    return {(china_day(a.started_at), a.organisation_id, a.member_id) for a in activities}


# --- subtree totals (``reporting.tables.LedgerTotal`` and its kin) ------------------

DAY_GRAIN = "day"
MONTH_GRAIN = "month"
TotalKey = tuple[Any, ...]  # node, grain, period, dimensions...


def spread(rows: Iterable[tuple[str, str, tuple[Any, ...], Iterable[int]]]) -> dict[TotalKey, list[int]]:
    """Own rows ``(day, own node's path, dimensions, sums)`` as the deltas of
    the subtree totals: each row counts at every node on its path (the node
    itself and each ancestor) for its day and for its month. Rows without a
    path (a node gone) count nowhere, as in the own rows' figures. A delta
    of zeros stays: an own row of zeros (an order and its return in one
    batch) is a row the figures list, and so is its total."""
    totals: dict[TotalKey, list[int]] = {}
    for day, path, dimensions, sums in rows:
        if not path:
            continue
        values = list(sums)
        for node in ids_on_path(path):
            for grain, period in ((DAY_GRAIN, day), (MONTH_GRAIN, day[:7])):
                key = (node, grain, period, *dimensions)
                found = totals.get(key)
                if found is None:
                    totals[key] = list(values)
                else:
                    for index, value in enumerate(values):
                        found[index] += value
    return totals


def ledger_total_deltas(deltas: Mapping[LedgerKey, Iterable[int]]) -> dict[TotalKey, list[int]]:
    """``ledger_deltas`` as deltas of ``reporting_ledger_total`` (key node,
    grain, period, account class, kind; amount, legs)."""
    return spread(
        (day, path, (account_class, kind), sums) for (day, _, path, account_class, kind), sums in deltas.items()
    )


def redemption_total_deltas(deltas: Mapping[RedemptionKey, Iterable[int]]) -> dict[TotalKey, list[int]]:
    """``redemption_deltas`` as deltas of ``reporting_redemption_total`` (key
    node, grain, period, shop, item; points, quantity, orders)."""
    return spread((day, path, (shop, item), sums) for (day, shop, item, _, path), sums in deltas.items())


def member_copies(members: Iterable[tuple[str, int, int]], paths: Mapping[int, str]) -> list[tuple[int, str, int, int]]:
    """Member-days ``(day, node, member)`` as ``reporting_member_total`` rows
    ``(node on the path, day, member, source node)``: one per node on the path."""
    return [
        (above, day, member, node)
        for day, node, member in sorted(members)
        if paths.get(node)
        for above in ids_on_path(paths[node])
    ]


SHARE_COUNTERS = ("activities", "points_minor", "minutes")


def activity_total_deltas(
    old: Mapping[ActivityKey, Iterable[int]], new: Mapping[ActivityKey, Iterable[int]], paths: Mapping[int, str]
) -> tuple[dict[TotalKey, list[int]], dict[TotalKey, list[int]]]:
    """What replacing own activity rows ``old`` by ``new`` (the same (node,
    day) groups, recomputed) adds to ``reporting_activity_total`` (key node,
    grain, period, kind, status, report kind; ``ACTIVITY_COUNTERS``) and
    ``reporting_activity_share`` (key node, grain, period, by, ref;
    ``SHARE_COUNTERS``): new minus old, at every node on the path."""
    totals: list[tuple[str, str, tuple[Any, ...], list[int]]] = []
    shares: list[tuple[str, str, tuple[Any, ...], list[int]]] = []
    wanted = [ACTIVITY_COUNTERS.index(name) for name in SHARE_COUNTERS]
    for rows, sign in ((old, -1), (new, 1)):
        for (day, node, kind, status, report_kind, team), counters in rows.items():
            values = [sign * value for value in counters]
            path = paths.get(node, "")
            totals.append((day, path, (kind, status, report_kind), values))
            share = [values[index] for index in wanted]
            shares.append((day, path, ("node", node), share))
            if team:
                shares.append((day, path, ("team", team), share))
    # Unchanged rows (most of a recomputed group) cancel out: nothing to write.
    return _nonzero(spread(totals)), _nonzero(spread(shares))


def _nonzero(deltas: dict[TotalKey, list[int]]) -> dict[TotalKey, list[int]]:
    return {key: sums for key, sums in deltas.items() if any(sums)}
