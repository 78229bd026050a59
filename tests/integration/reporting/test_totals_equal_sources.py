"""The dashboard read from the subtree totals (a node's own rows, whole
months from the month grain and edge days from the day grain) equals the
same figures computed straight from the source rows, for seeded random
history over more than a year: ledger entries (awards, bonuses, funding,
reversals) stamped on random past days, activities of every kind and status
at every level of the tree, some changed after a first roll-up, with teams
and escalations; at every node, for random periods of a day to a year and
the ones that cut months at both edges. Both engines; half the seeds
rebuild from the source first."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from activities.tables import Activity, Escalation
from campaigns.accounts import budget_code
from community.accounts import wallet_code
from community.organisations import get_organisation
from community.tables import Member, Team
from core.clock import as_of, utc_now
from core.database import pooled_connections
from ledger import posting
from ledger.amounts import from_minor
from ledger.reversal import reverse_entry
from ledger.tables import LedgerAccount, LedgerEntry, LedgerPosting
from reporting.aggregation import ACCEPTED_STATUSES, CHINA, EARNED_STATUSES, FINISHED_STATUSES, china_day
from reporting.figures import HOURS, KIND_WORDS, REPORT_KIND_WORDS, STATUS_WORDS, TOP, dashboard, grid_of_nodes
from reporting.models import Cell, Dashboard, Label, Period
from reporting.rollups import catch_up, rebuild
from tests.support.earning_helpers import World, build_world
from tests.support.marketplace_helpers import fast_member

HISTORY_DAYS = 420
STATUSES = {
    "service": ["submitted", "held", "verified", "rejected"],
    "patrol": ["checked_in", "submitted", "verified", "rejected"],
    "report": ["submitted", "verified", "rejected", "assigned", "handled", "closed"],
}


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _label(words: dict[str, tuple[str, str]], key: str) -> str:
    """A category as the API and the exports carry it: Chinese words and key."""
    return f"{words[key][0]} {key}" if key in words else key or "—"


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / 60).quantize(HOURS)


async def _seed_ledger(rng: random.Random, world: World, campaign_id: int, members: list[int], today: date) -> None:
    awards: list[int] = []
    for _ in range(40):
        moment = datetime.combine(
            today - timedelta(days=rng.randint(0, HISTORY_DAYS)), datetime.min.time(), CHINA
        ) + timedelta(minutes=rng.randint(0, 24 * 60 - 1))
        with as_of(moment.astimezone(UTC)):
            choice = rng.random()
            if choice < 0.15:
                await posting.transfer(
                    debit_code=f"org:{world.community}:issuance",
                    credit_code=budget_code(campaign_id),
                    amount=f"{rng.randint(1, 50)}.00",
                    kind="campaign_fund",
                    reason_zh="追加预算",
                    metadata={"campaign_id": campaign_id},
                )
            elif choice < 0.25 and awards:
                await reverse_entry(awards.pop(rng.randrange(len(awards))), reason_zh="撤销")
            else:
                entry = await posting.transfer(
                    debit_code=budget_code(campaign_id),
                    credit_code=wallet_code(rng.choice(members)),
                    amount=f"{rng.randint(1, 9)}.{rng.randint(0, 99):02d}",
                    kind=rng.choice(["award", "award", "award_bonus"]),
                    reason_zh="奖励",
                    metadata={"campaign_id": campaign_id},
                )
                awards.append(entry.id)


async def _seed_activities(
    rng: random.Random, world: World, members: list[int], teams: list[int], today: date
) -> list[int]:
    nodes = [world.community, world.grid, world.building, world.other_grid]
    now = utc_now()
    rows = []
    for n in range(120):
        kind = rng.choice(list(STATUSES))
        started = datetime.combine(
            today - timedelta(days=rng.randint(0, HISTORY_DAYS)), datetime.min.time(), CHINA
        ) + timedelta(minutes=rng.randint(0, 24 * 60 - 1))
        rows.append(
            Activity(
                kind=kind,
                status=rng.choice(STATUSES[kind]),
                member=rng.choice(members),
                organisation=rng.choice(nodes),
                responsible_organisation=world.community,
                team=rng.choice([None, None, *teams]),
                report_kind=rng.choice(["hazard", "tip", "dispute"]) if kind == "report" else "",
                title=f"活动{n}",
                started_at=started.astimezone(UTC),
                updated_at=now,
                minutes=rng.choice([None, rng.randint(10, 300)]) if kind != "report" else None,
                points_awarded_minor=rng.choice([0, rng.randint(1, 900)]),
                bonus_minor=rng.choice([0, 0, rng.randint(1, 300)]),
            )
        )
    inserted = await Activity.insert(*rows).returning(Activity.id).run()
    ids = [int(row["id"]) for row in inserted]
    escalations = [
        Escalation(
            activity=activity_id,
            stage=rng.choice(["accept", "finish"]),
            from_organisation=world.grid,
            to_organisation=world.community,
            due_at=now,
        )
        for activity_id in rng.sample(ids, 30)
    ]
    await Escalation.insert(*escalations).run()
    return ids


async def _change_some(rng: random.Random, ids: list[int]) -> None:
    """Activities move on after a roll-up (verified, rejected, handled...)."""
    for activity_id in rng.sample(ids, 40):
        row = (await Activity.select(Activity.kind).where(Activity.id == activity_id).run())[0]
        await (
            Activity.update({Activity.status: rng.choice(STATUSES[str(row["kind"])]), Activity.updated_at: utc_now()})
            .where(Activity.id == activity_id)
            .run()
        )


# --- the figures straight from the sources ---------------------------------------


async def _source_legs() -> list[dict[str, Any]]:
    """Every posting with its China day, its counted kind (a reversal counts
    under the kind it reverses) and the path of its account's node."""
    kinds = {int(r["id"]): str(r["kind"]) for r in await LedgerEntry.select(LedgerEntry.id, LedgerEntry.kind).run()}
    entries = {
        int(r["id"]): r
        for r in await LedgerEntry.select(
            LedgerEntry.id, LedgerEntry.kind, LedgerEntry.reverses, LedgerEntry.created_at
        ).run()
    }
    homes = {
        int(r["id"]): str(r["path"])
        for r in await Member.select(Member.id, Member.home_organisation.path.as_alias("path")).run()
    }
    codes = {
        int(r["id"]): str(r["code"]) for r in await LedgerAccount.select(LedgerAccount.id, LedgerAccount.code).run()
    }
    legs = []
    for row in await LedgerPosting.select(LedgerPosting.entry, LedgerPosting.account, LedgerPosting.amount_minor).run():
        entry = entries[int(row["entry"])]
        kind = str(entry["kind"])
        if kind == "reversal" and entry["reverses"] is not None:
            kind = kinds[int(entry["reverses"])]
        code = codes[int(row["account"])]
        owner = code.split(":")
        legs.append(
            {
                "day": china_day(_aware(entry["created_at"])),
                "kind": kind,
                "class": owner[2] if len(owner) == 3 else "",
                "path": homes.get(int(owner[1]), "") if owner[0] == "volunteer" else "",
                "code": code,
                "amount": int(row["amount_minor"]),
            }
        )
    return legs


async def _source_activities() -> list[dict[str, Any]]:
    escalated: dict[int, set[str]] = defaultdict(set)
    for row in await Escalation.select(Escalation.activity, Escalation.stage).run():
        escalated[int(row["activity"])].add(str(row["stage"]))
    rows = await Activity.select(
        Activity.id,
        Activity.kind,
        Activity.status,
        Activity.member,
        Activity.organisation,
        Activity.organisation.path.as_alias("path"),
        Activity.team,
        Activity.report_kind,
        Activity.started_at,
        Activity.minutes,
        Activity.points_awarded_minor,
        Activity.bonus_minor,
    ).run()
    for row in rows:
        row["day"] = china_day(_aware(row["started_at"]))
        row["stages"] = escalated[int(row["id"])]
    return rows


async def _expected(
    organisation: Any, period: Period, legs: list[dict[str, Any]], activities: list[dict[str, Any]], campaign_path: str
) -> dict[str, tuple[tuple[Cell, ...], ...]]:
    low, high = period.from_day.isoformat(), period.to_day.isoformat()
    path = organisation.path

    def inside(p: str) -> bool:
        return p.startswith(path)

    in_period = [leg for leg in legs if low <= leg["day"] <= high]
    issued = sum(
        leg["amount"]
        for leg in in_period
        if leg["class"] == "budget" and leg["kind"] == "campaign_fund" and inside(campaign_path)
    )
    wallet = [leg for leg in legs if leg["class"] == "wallet" and inside(leg["path"])]
    awarded = sum(
        leg["amount"] for leg in wallet if low <= leg["day"] <= high and leg["kind"] in {"award", "award_bonus"}
    )
    liability = sum(leg["amount"] for leg in wallet if leg["day"] <= high)

    mine = [a for a in activities if inside(str(a["path"]))]
    seen = [a for a in mine if low <= a["day"] <= high]
    by_status = Counter((str(a["kind"]), str(a["status"])) for a in seen)
    minutes: dict[str, int] = {}
    for a in seen:
        if a["kind"] == "service":
            earned = int(a["minutes"] or 0) if a["status"] in EARNED_STATUSES else 0
            minutes[a["day"]] = minutes.get(a["day"], 0) + earned
    reports = Counter(str(a["report_kind"]) for a in seen if a["kind"] == "report")
    accepted = [a for a in seen if a["status"] in ACCEPTED_STATUSES]
    finished = [a for a in seen if a["kind"] == "report" and a["status"] in FINISHED_STATUSES]

    def stage(name: str, done: list[dict[str, Any]], key: str) -> tuple[Cell, ...]:
        late = sum(1 for a in done if key in a["stages"])
        rate = (Decimal(100 * (len(done) - late)) / len(done)).quantize(HOURS) if done else Decimal("0.00")
        return (name, len(done), len(done) - late, rate)

    def points(a: dict[str, Any]) -> int:
        return int(a["points_awarded_minor"]) + int(a["bonus_minor"]) if a["status"] in EARNED_STATUSES else 0

    grids = await grid_of_nodes(organisation)
    by_grid: dict[tuple[int, str], int] = defaultdict(int)
    teams: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for a in seen:
        by_grid[grids[int(a["organisation"])]] += points(a)
        if a["team"]:
            teams[int(a["team"])][0] += points(a)
            if a["kind"] == "service" and a["status"] in EARNED_STATUSES:
                teams[int(a["team"])][1] += int(a["minutes"] or 0)
    team_names = {int(r["id"]): str(r["name_zh"]) for r in await Team.select(Team.id, Team.name_zh).run()}
    window = (period.to_day - timedelta(days=29)).isoformat()
    active = {int(a["member"]) for a in mine if window <= a["day"] <= high}
    return {
        "points": (
            ("拨入活动项目预算 issued", from_minor(issued)),
            ("奖励 awarded", from_minor(awarded)),
            ("兑换 redeemed", Decimal("0.00")),
            ("过期 expired", Decimal("0.00")),
        ),
        "liability": (("志愿者钱包余额 wallets", from_minor(liability)),),
        "activities": tuple(
            (_label(KIND_WORDS, kind), _label(STATUS_WORDS, status), n)
            for (kind, status), n in sorted(by_status.items())
        ),
        "service_hours": tuple((day, _hours(m)) for day, m in sorted(minutes.items())),
        "reports_by_kind": tuple((_label(REPORT_KIND_WORDS, k), n) for k, n in sorted(reports.items())),
        "on_time": (stage("受理 accept", accepted, "accept"), stage("办结 finish", finished, "finish")),
        "top_grids": tuple(
            (name, from_minor(v)) for (_, name), v in sorted(by_grid.items(), key=lambda kv: (-kv[1], kv[0][0]))[:TOP]
        ),
        "top_teams": tuple(
            (team_names[t], from_minor(p), _hours(m))
            for t, (p, m) in sorted(teams.items(), key=lambda kv: (-kv[1][0], kv[0]))[:TOP]
        ),
        "active_volunteers": ((f"{window} ~ {high}", len(active)),),
    }


def _periods(rng: random.Random, today: date) -> list[Period]:
    fixed = [
        Period(today - timedelta(days=364), today),
        Period(today.replace(day=1), today),
        Period(today, today),
        Period(date(today.year - 1, 2, 1), date(today.year - 1, 2, 28)),
        Period(today - timedelta(days=HISTORY_DAYS), today - timedelta(days=HISTORY_DAYS - 366)),
    ]
    drawn = []
    for _ in range(6):
        start = today - timedelta(days=rng.randint(0, HISTORY_DAYS + 20))
        drawn.append(Period(start, start + timedelta(days=rng.randint(0, 366))))
    return fixed + drawn


def _shown(board: Dashboard, key: str) -> tuple[tuple[Cell, ...], ...]:
    return tuple(
        tuple(str(cell) if isinstance(cell, Label) else cell for cell in row) for row in board.figure(key).rows
    )


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_figures_from_the_subtree_totals_equal_the_figures_from_the_sources(seed: int) -> None:
    rng = random.Random(seed)
    async with pooled_connections(max_size=4):
        world = await build_world(volunteers=2)
        members = [
            *world.volunteers,
            await fast_member(world.other_grid, "第二网格志愿者"),
            await fast_member(world.building, "楼里志愿者"),
        ]
        campaign = await world.campaign(budget="100000.00")
        teams = [
            int(row["id"])
            for row in await Team.insert(
                Team(organisation=world.grid, name_zh="红马甲服务队", kind="service"),
                Team(organisation=world.community, name_zh="银发巡逻队", kind="patrol"),
            )
            .returning(Team.id)
            .run()
        ]
        today = utc_now().astimezone(CHINA).date()
        await _seed_ledger(rng, world, campaign.id, members, today)
        ids = await _seed_activities(rng, world, members, teams, today)
        await catch_up()
        await _change_some(rng, ids)
        if seed % 2:
            await rebuild()
        await catch_up()

        legs = await _source_legs()
        activities = await _source_activities()
        campaign_path = (await get_organisation(world.community)).path
        for period in _periods(rng, today):
            for node in (world.city, world.community, world.grid, world.building, world.other_grid):
                organisation = await get_organisation(node)
                board = await dashboard(organisation, period)
                expected = await _expected(organisation, period, legs, activities, campaign_path)
                for key, rows in expected.items():
                    assert _shown(board, key) == rows, (key, node, period)
