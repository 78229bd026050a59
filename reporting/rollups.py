"""Keeping the rollups up to date, after commit, from two cursors.

**Ledger** (``reporting_ledger_day``, ``reporting_redemption_day``): follows
the hash chain's blocks, as the leaderboards' feed does
(``leaderboards/feed.py``): the chain lists every committed entry exactly
once in a gapless order, so the rollup never counts an uncommitted entry
and never misses a late one. A run adds the next blocks' legs and moves the
cursor **in the same transaction**: each entry counts exactly once, whatever
dies when.

**Activities** (``reporting_activity_day``, ``reporting_member_day``):
activities change status, so their rows are not added to but *recomputed
whole* for every (node, day) in which an activity changed: a run reads the
activities whose ``updated_at`` is at or after its cursor, deletes those
groups' rows and writes them again from the source rows. Recomputing is
idempotent, so reading a change twice is harmless; the cursor trails the
clock by ``ACTIVITY_LOOKBACK`` so a transaction that stamped ``updated_at``
a moment before it committed is still read.

Both run under their cursor row's lock (``FOR UPDATE`` on PostgreSQL; the
one writer on SQLite): one run at a time per rollup, across workers.
``rebuild`` empties everything and replays from the source.
"""

from __future__ import annotations

import json
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import reduce
from typing import Any

from activities.tables import Activity, Escalation
from campaigns.tables import Campaign
from community.tables import Member, Organisation
from core.clock import utc_now
from core.database import in_write_transaction, lock_row
from ledger.chain import blocks_after, seal_pending
from ledger.tables import LedgerChainBlock, LedgerEntry, LedgerPosting
from marketplace.tables import RedemptionOrder, Shop
from reporting.aggregation import (
    ACTIVITY_COUNTERS,
    CHINA,
    REVERSAL_KIND,
    SHARE_COUNTERS,
    AccountClass,
    ActivityFacts,
    ActivityKey,
    EntryFacts,
    Node,
    activity_rows,
    activity_total_deltas,
    china_day,
    classify,
    ledger_deltas,
    ledger_total_deltas,
    member_copies,
    member_days,
    redemption_deltas,
    redemption_total_deltas,
)
from reporting.tables import (
    ActivityDay,
    ActivityShare,
    ActivityTotal,
    LedgerDay,
    LedgerTotal,
    MemberDay,
    MemberTotal,
    RedemptionDay,
    RedemptionTotal,
    ReportingCursor,
)

LEDGER_CURSOR = "ledger"
ACTIVITY_CURSOR = "activities"
# A sealing run makes one block of up to 1,000 entries; a step binds every
# entry id of its blocks (SQLite binds at most 32,766 parameters).
BLOCKS_PER_RUN = 5
# Activities read per run; a run recomputes every (node, day) they touch.
ACTIVITIES_PER_RUN = 2000
# Longer than any writing transaction lives (they are bounded by the
# statement timeout and retries), so nothing stamped earlier commits later.
ACTIVITY_LOOKBACK = timedelta(minutes=2)
# Steps of each rollup one background run takes at most: 100,000 entries
# (the sealer's blocks hold up to 1,000) and 40,000 activities.
STEPS_PER_RUN = 20
# Rows per INSERT: well under SQLite's parameter limit at 16 columns.
INSERT_CHUNK = 500
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# Every table the rollups write (``rebuild`` empties them all).
ROLLUP_TABLES = (
    LedgerDay,
    RedemptionDay,
    ActivityDay,
    MemberDay,
    LedgerTotal,
    RedemptionTotal,
    ActivityTotal,
    ActivityShare,
    MemberTotal,
)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _metadata(value: Any) -> Mapping[str, Any]:
    if isinstance(value, str):
        loaded = json.loads(value or "{}")
        return loaded if isinstance(loaded, dict) else {}
    return value if isinstance(value, dict) else {}


async def _locked_cursor(name: str) -> dict[str, Any]:
    """The cursor row, created at its start the first time, locked."""
    rows = await ReportingCursor.select(ReportingCursor.id).where(ReportingCursor.name == name).run()
    if not rows:
        await ReportingCursor.insert(ReportingCursor(name=name, position=0, moment=None)).run()
        rows = await ReportingCursor.select(ReportingCursor.id).where(ReportingCursor.name == name).run()
    locked = await lock_row(ReportingCursor, int(rows[0]["id"]))
    assert locked is not None  # created above, never deleted but by rebuild under the same lock
    return locked


async def _insert(table: type[Any], rows: Sequence[Any]) -> None:
    for start in range(0, len(rows), INSERT_CHUNK):
        await table.insert(*rows[start : start + INSERT_CHUNK]).run()


# --- ledger ---------------------------------------------------------------------


async def _entry_facts(entry_ids: Sequence[int]) -> list[EntryFacts]:
    entries = (
        await LedgerEntry.select(
            LedgerEntry.id, LedgerEntry.kind, LedgerEntry.created_at, LedgerEntry.metadata, LedgerEntry.reverses
        )
        .where(LedgerEntry.id.is_in(list(entry_ids)))
        .run()
    )
    reversed_ids = [int(row["reverses"]) for row in entries if row["reverses"] is not None]
    originals: dict[int, dict[str, Any]] = {}
    if reversed_ids:
        for row in (
            await LedgerEntry.select(LedgerEntry.id, LedgerEntry.kind, LedgerEntry.metadata)
            .where(LedgerEntry.id.is_in(reversed_ids))
            .run()
        ):
            originals[int(row["id"])] = row
    legs: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for row in (
        await LedgerPosting.select(
            LedgerPosting.entry, LedgerPosting.amount_minor, LedgerPosting.account.code.as_alias("code")
        )
        .where(LedgerPosting.entry.is_in(list(entry_ids)))
        .run()
    ):
        legs[int(row["entry"])].append((str(row["code"]), int(row["amount_minor"])))
    facts = []
    for row in entries:
        original = originals.get(int(row["reverses"])) if row["reverses"] is not None else None
        source = original if original is not None and row["kind"] == REVERSAL_KIND else row
        facts.append(
            EntryFacts(
                id=int(row["id"]),
                counted_kind=str(source["kind"]),
                created_at=_aware(row["created_at"]),
                metadata=_metadata(source["metadata"]),
                is_reversal=original is not None,
                legs=tuple(legs[int(row["id"])]),
            )
        )
    return facts


async def _nodes(query: Any, owner_column: str) -> dict[int, Node]:
    return {int(row["id"]): Node(int(row[owner_column]), str(row["path"])) for row in await query.run() if row["path"]}


async def _owner_nodes(entries: Iterable[EntryFacts]) -> dict[tuple[AccountClass, int], Node]:
    """The node of every account the entries touch (``aggregation.classify``)."""
    owners: dict[AccountClass, set[int]] = defaultdict(set)
    for entry in entries:
        for code, _ in entry.legs:
            account_class, owner = classify(code)
            owners[account_class].add(owner)
    found: dict[tuple[AccountClass, int], Node] = {}
    if owners[AccountClass.WALLET]:
        query = Member.select(
            Member.id, Member.home_organisation, Member.home_organisation.path.as_alias("path")
        ).where(Member.id.is_in(sorted(owners[AccountClass.WALLET])))
        found.update({(AccountClass.WALLET, k): v for k, v in (await _nodes(query, "home_organisation")).items()})
    if owners[AccountClass.BUDGET]:
        query = Campaign.select(Campaign.id, Campaign.organisation, Campaign.organisation.path.as_alias("path")).where(
            Campaign.id.is_in(sorted(owners[AccountClass.BUDGET]))
        )
        found.update({(AccountClass.BUDGET, k): v for k, v in (await _nodes(query, "organisation")).items()})
    if owners[AccountClass.SETTLEMENT]:
        found.update(
            {(AccountClass.SETTLEMENT, k): v for k, v in (await shop_nodes(owners[AccountClass.SETTLEMENT])).items()}
        )
    organisations = owners[AccountClass.ISSUANCE] | owners[AccountClass.EXPIRED]
    if organisations:
        query = Organisation.select(Organisation.id, Organisation.id.as_alias("node"), Organisation.path).where(
            Organisation.id.is_in(sorted(organisations))
        )
        nodes = await _nodes(query, "node")
        for account_class in (AccountClass.ISSUANCE, AccountClass.EXPIRED):
            found.update({(account_class, k): nodes[k] for k in owners[account_class] if k in nodes})
    return found


async def shop_nodes(shop_ids: Iterable[int]) -> dict[int, Node]:
    wanted = sorted(set(shop_ids))
    if not wanted:
        return {}
    query = Shop.select(Shop.id, Shop.organisation, Shop.organisation.path.as_alias("path")).where(
        Shop.id.is_in(wanted)
    )
    return await _nodes(query, "organisation")


async def _order_quantities(entries: Iterable[EntryFacts]) -> dict[int, int]:
    order_ids = sorted(
        {int(str(e.metadata["order_id"])) for e in entries if str(e.metadata.get("order_id", "")).isdigit()}
    )
    if not order_ids:
        return {}
    rows = (
        await RedemptionOrder.select(RedemptionOrder.id, RedemptionOrder.quantity)
        .where(RedemptionOrder.id.is_in(order_ids))
        .run()
    )
    return {int(row["id"]): int(row["quantity"]) for row in rows}


async def _merge(
    table: type[Any],
    keys: Sequence[str],
    sums: Sequence[str],
    deltas: Mapping[tuple[Any, ...], Sequence[int]],
    scope: Any,
    drop_when_zero: str | None = None,
) -> None:
    """Add ``deltas`` (key columns' values → amounts to add to ``sums``) to
    ``table`` in three statements whatever their number: read the rows
    ``scope`` selects (a superset of the keys' rows), delete the ones a delta
    touches and insert them merged, with the new ones. A row whose
    ``drop_when_zero`` column falls to 0 is not written again (it counts
    nothing and must not show as a group). Only the rollup job writes these
    tables, under its cursor's lock: no other writer races the read."""
    if not deltas:
        return
    existing = {tuple(row[k] for k in keys): row for row in await table.select().where(scope).run()}
    stale: list[int] = []
    fresh = []
    for key, delta in deltas.items():
        row = existing.get(key)
        values = list(delta)
        if row is not None:
            stale.append(int(row["id"]))
            values = [int(row[name] or 0) + value for name, value in zip(sums, delta, strict=True)]
        if drop_when_zero is not None and values[list(sums).index(drop_when_zero)] == 0:
            continue
        fresh.append(table.from_dict({**dict(zip(keys, key, strict=True)), **dict(zip(sums, values, strict=True))}))
    for start in range(0, len(stale), INSERT_CHUNK):
        await table.delete().where(table.id.is_in(stale[start : start + INSERT_CHUNK])).run()
    await _insert(table, fresh)


async def _merge_totals(
    table: type[Any],
    dimensions: Sequence[str],
    sums: Sequence[str],
    deltas: Mapping[tuple[Any, ...], Sequence[int]],
    drop_when_zero: str | None = None,
) -> None:
    """``_merge`` for a subtree-totals table (key node, grain, period, dimensions)."""
    if not deltas:
        return
    nodes = sorted({key[0] for key in deltas})
    grains: dict[str, set[str]] = defaultdict(set)
    for key in deltas:
        grains[key[1]].add(key[2])
    scope = table.node_id.is_in(nodes) & reduce(
        operator.or_,
        [(table.grain == grain) & table.period.is_in(sorted(periods)) for grain, periods in grains.items()],
    )
    await _merge(table, ["node_id", "grain", "period", *dimensions], sums, deltas, scope, drop_when_zero)


async def add_ledger_rows(deltas: Mapping[tuple[str, int, str, str, str], Sequence[int]]) -> None:
    """Add ``aggregation.ledger_deltas`` to the own rows and to the subtree
    totals of every node on their paths (``LedgerTotal``), in one go."""
    if not deltas:
        return
    days = sorted({key[0] for key in deltas})
    nodes = sorted({key[1] for key in deltas})
    await _merge(
        LedgerDay,
        ["day", "organisation_id", "org_path", "account_class", "kind"],
        ["amount_minor", "legs"],
        deltas,
        LedgerDay.day.is_in(days) & LedgerDay.organisation_id.is_in(nodes),
    )
    await _merge_totals(LedgerTotal, ["account_class", "kind"], ["amount_minor", "legs"], ledger_total_deltas(deltas))


async def add_redemption_rows(deltas: Mapping[tuple[str, int, int, int, str], Sequence[int]]) -> None:
    """Add ``aggregation.redemption_deltas`` to the own rows and to the
    subtree totals (``RedemptionTotal``)."""
    if not deltas:
        return
    days = sorted({key[0] for key in deltas})
    shops = sorted({key[1] for key in deltas})
    sums = ["points_minor", "quantity", "orders"]
    await _merge(
        RedemptionDay,
        ["day", "shop_id", "item_id", "organisation_id", "org_path"],
        sums,
        deltas,
        RedemptionDay.day.is_in(days) & RedemptionDay.shop_id.is_in(shops),
    )
    await _merge_totals(RedemptionTotal, ["shop_id", "item_id"], sums, redemption_total_deltas(deltas))


async def roll_ledger_once(blocks_per_run: int = BLOCKS_PER_RUN) -> int:
    """Apply the next chain blocks to the ledger rollups; the entries read."""

    async def work() -> int:
        cursor = await _locked_cursor(LEDGER_CURSOR)
        blocks = await blocks_after(int(cursor["position"]), blocks_per_run)
        if not blocks:
            return 0
        entry_ids = [entry_id for block in blocks for entry_id in block.entry_ids]
        if entry_ids:
            facts = await _entry_facts(entry_ids)
            await add_ledger_rows(ledger_deltas(facts, await _owner_nodes(facts)))
            shops = {int(str(f.metadata.get("shop_id"))) for f in facts if str(f.metadata.get("shop_id", "")).isdigit()}
            redemptions = redemption_deltas(facts, await shop_nodes(shops), await _order_quantities(facts))
            await add_redemption_rows(redemptions)
        await (
            ReportingCursor.update({ReportingCursor.position: blocks[-1].id})
            .where(ReportingCursor.id == cursor["id"])
            .run()
        )
        return len(entry_ids)

    return await in_write_transaction(work, retry_unique=True)


# --- activities -----------------------------------------------------------------


def _day_bounds(day: str) -> tuple[datetime, datetime]:
    start = datetime.fromisoformat(day).replace(tzinfo=CHINA)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


async def _activity_facts(organisation_id: int, days: set[str]) -> list[ActivityFacts]:
    first, _ = _day_bounds(min(days))
    _, last = _day_bounds(max(days))
    rows = (
        await Activity.select(
            Activity.id,
            Activity.organisation,
            Activity.member,
            Activity.started_at,
            Activity.kind,
            Activity.status,
            Activity.report_kind,
            Activity.team,
            Activity.minutes,
            Activity.points_awarded_minor,
            Activity.bonus_minor,
        )
        .where(
            (Activity.organisation == organisation_id) & (Activity.started_at >= first) & (Activity.started_at < last)
        )
        .run()
    )
    stages: dict[int, set[str]] = defaultdict(set)
    ids = [int(row["id"]) for row in rows]
    if ids:
        for row in (
            await Escalation.select(Escalation.activity, Escalation.stage).where(Escalation.activity.is_in(ids)).run()
        ):
            stages[int(row["activity"])].add(str(row["stage"]))
    return [
        ActivityFacts(
            organisation_id=int(row["organisation"]),
            member_id=int(row["member"]),
            started_at=_aware(row["started_at"]),
            kind=str(row["kind"]),
            status=str(row["status"]),
            report_kind=str(row["report_kind"] or ""),
            team_id=int(row["team"] or 0),
            minutes=int(row["minutes"] or 0),
            points_minor=int(row["points_awarded_minor"] or 0) + int(row["bonus_minor"] or 0),
            escalated_stages=frozenset(stages[int(row["id"])]),
        )
        for row in rows
        if china_day(_aware(row["started_at"])) in days
    ]


async def write_activity_rows(
    old: Mapping[ActivityKey, Sequence[int]], new: Mapping[ActivityKey, Sequence[int]], paths: Mapping[int, str]
) -> None:
    """Insert the own activity rows ``new`` (the caller deleted ``old``, the
    same groups' rows before) and add new minus old to the subtree totals
    (``ActivityTotal``, ``ActivityShare``) of every node on their paths."""
    await _insert(
        ActivityDay,
        [
            ActivityDay.from_dict(
                {
                    "day": day,
                    "organisation_id": node,
                    "org_path": paths.get(node, ""),
                    "kind": kind,
                    "status": status,
                    "report_kind": report_kind,
                    "team_id": team,
                    **dict(zip(ACTIVITY_COUNTERS, counters, strict=True)),
                }
            )
            for (day, node, kind, status, report_kind, team), counters in new.items()
        ],
    )
    totals, shares = activity_total_deltas(old, new, paths)
    await _merge_totals(ActivityTotal, ["kind", "status", "report_kind"], ACTIVITY_COUNTERS, totals, "activities")
    await _merge_totals(ActivityShare, ["by", "ref_id"], SHARE_COUNTERS, shares, "activities")


async def write_member_days(members: Iterable[tuple[str, int, int]], paths: Mapping[int, str]) -> None:
    """Insert member-days ``(day, node, member)`` (the caller deleted the same
    (node, day) groups' rows before, own and copies): the own row and a copy
    at every node on the path (``MemberTotal``)."""
    ordered = sorted(members)
    await _insert(
        MemberDay,
        [
            MemberDay(day=day, organisation_id=node, org_path=paths.get(node, ""), member_id=m)
            for day, node, m in ordered
        ],
    )
    await _insert(
        MemberTotal,
        [
            MemberTotal(node_id=node, day=day, member_id=member, source_id=source)
            for node, day, member, source in member_copies(ordered, paths)
        ],
    )


async def _recompute(groups: Mapping[int, set[str]]) -> None:
    """Write the activity rollup rows of every (node, day) in ``groups`` again,
    and move the subtree totals by what changed (once, for all the groups)."""
    paths = {
        int(r["id"]): str(r["path"])
        for r in await Organisation.select(Organisation.id, Organisation.path)
        .where(Organisation.id.is_in(sorted(groups)))
        .run()
    }
    old: dict[ActivityKey, list[int]] = {}
    new: dict[ActivityKey, list[int]] = {}
    members: set[tuple[str, int, int]] = set()
    for organisation_id, days in groups.items():
        facts = await _activity_facts(organisation_id, days)
        day_list = sorted(days)
        mine = (ActivityDay.organisation_id == organisation_id) & ActivityDay.day.is_in(day_list)
        for row in await ActivityDay.select().where(mine).run():
            key = (
                str(row["day"]),
                organisation_id,
                str(row["kind"]),
                str(row["status"]),
                str(row["report_kind"] or ""),
                int(row["team_id"] or 0),
            )
            found = old.setdefault(key, [0] * len(ACTIVITY_COUNTERS))
            for index, name in enumerate(ACTIVITY_COUNTERS):
                found[index] += int(row[name] or 0)
        await ActivityDay.delete().where(mine).run()
        await (
            MemberDay.delete()
            .where((MemberDay.organisation_id == organisation_id) & MemberDay.day.is_in(day_list))
            .run()
        )
        await (
            MemberTotal.delete()
            .where((MemberTotal.source_id == organisation_id) & MemberTotal.day.is_in(day_list))
            .run()
        )
        new.update(activity_rows(facts))
        members |= member_days(facts)
    await write_activity_rows(old, new, paths)
    await write_member_days(members, paths)


async def roll_activities_once(limit: int = ACTIVITIES_PER_RUN, now: datetime | None = None) -> int:
    """Recompute the groups of activities changed since the cursor; the
    activities read. A full batch moves the cursor to its last change; a
    partial one to ``now - ACTIVITY_LOOKBACK``."""

    async def work() -> int:
        moment = now or utc_now()
        cursor = await _locked_cursor(ACTIVITY_CURSOR)
        since = _aware(cursor["moment"]) if cursor["moment"] is not None else EPOCH
        rows = (
            await Activity.select(Activity.organisation, Activity.started_at, Activity.updated_at)
            .where(Activity.updated_at >= since)
            .order_by(Activity.updated_at)
            .limit(limit)
            .run()
        )
        groups: dict[int, set[str]] = defaultdict(set)
        for row in rows:
            groups[int(row["organisation"])].add(china_day(_aware(row["started_at"])))
        if groups:
            await _recompute(groups)
        if len(rows) >= limit:
            following = max(since, _aware(rows[-1]["updated_at"]))
            if following == since:  # a whole batch at one instant: step past it
                following = since + timedelta(microseconds=1)
        else:
            following = max(since, moment - ACTIVITY_LOOKBACK)
        await (
            ReportingCursor.update({ReportingCursor.moment: following}).where(ReportingCursor.id == cursor["id"]).run()
        )
        return len(rows)

    return await in_write_transaction(work, retry_unique=True)


async def catch_up(now: datetime | None = None) -> int:
    """Seal, then bring both rollups up to date (the job, and tests)."""
    await seal_pending()
    done = 0
    while read := await roll_ledger_once():
        done += read
    while True:
        read = await roll_activities_once(now=now)
        done += read
        if read < ACTIVITIES_PER_RUN:
            return done


async def roll_once() -> int:
    """One run of the background job: the ledger's blocks and the activities
    changed since the last run, in steps, at most ``STEPS_PER_RUN`` of each
    (a backlog after downtime is worked off over several runs, never in one
    long one)."""
    done = 0
    for _ in range(STEPS_PER_RUN):
        read = await roll_ledger_once()
        done += read
        if not read:
            break
    for _ in range(STEPS_PER_RUN):
        read = await roll_activities_once()
        done += read
        if read < ACTIVITIES_PER_RUN:
            break
    return done


async def rebuild(progress: Callable[[int, int], None] | None = None) -> int:
    """Empty every rollup and replay from the source; ``progress(done,
    total)`` after each step (chain blocks and activity batches)."""

    async def empty() -> None:
        await _locked_cursor(LEDGER_CURSOR)
        await _locked_cursor(ACTIVITY_CURSOR)
        for table in ROLLUP_TABLES:
            await table.delete(force=True).run()
        await ReportingCursor.update({ReportingCursor.position: 0, ReportingCursor.moment: None}, force=True).run()

    await in_write_transaction(empty, retry_unique=True)
    await seal_pending()
    blocks = int(await LedgerChainBlock.count().run())
    activities = int(await Activity.count().run())
    total = -(-blocks // BLOCKS_PER_RUN) + -(-activities // ACTIVITIES_PER_RUN)
    done = 0
    while await roll_ledger_once():
        done += 1
        if progress:
            progress(min(done, total), total)
    while (await roll_activities_once()) >= ACTIVITIES_PER_RUN:
        done += 1
        if progress:
            progress(min(done, total), total)
    if progress:
        progress(total, total)
    return total
