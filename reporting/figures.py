"""The dashboard's figures for a node (and its subtree) and a range of China
days, read from the rollups (``reporting/tables.py``), never from history.

Each figure reads the node's **own subtree totals** (``LedgerTotal`` and its
kin: the job adds every own row to each node on its path at roll-up time),
the whole calendar months of the period from the month grain and the partial
edge days from the day grain (``periods.calendar_split``), through the
``(node_id, grain, period)`` index. So a read touches at most ~12 + ~60
periods × the figure's groups, whatever the size of the subtree or the
length of history. Exceptions, each bounded by what it shows: service hours
per day (a row per day of the period), the top grids (a row per node of the
subtree with activities, to rank them), active volunteers (a distinct count
of the node's member-days in the 30-day window) and liability (every wallet
month up to the period's end: 12 rows a year of history, one class).

Three figures read live state instead, because they are states rather than
flows: the budget left per campaign (the budget accounts' materialised
balances), the overdue items (``activities.overdue``, indexed; a handful at
any time) and names.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import reduce
from typing import Any

from piccolo.query.functions.aggregate import Sum

from activities.tables import Activity
from campaigns.accounts import budget_code
from campaigns.tables import Campaign
from community.access import Principal
from community.models import OrganisationRecord
from community.roles import Level
from community.tables import Organisation, Team
from community.tree_paths import ids_on_path, subtree_range
from ledger.amounts import from_minor
from ledger.tables import LedgerAccount
from marketplace.tables import CatalogItem, Shop
from reporting.aggregation import AWARD_KINDS, DAY_GRAIN, FUND_KIND, MONTH_GRAIN, REDEMPTION_KIND, active_window
from reporting.models import Cell, Chart, Column, Dashboard, Figure, Label, Period
from reporting.periods import calendar_split, check_period, china_today, preset_period
from reporting.policy import dashboard_organisation
from reporting.tables import ActivityShare, ActivityTotal, LedgerTotal, MemberTotal, RedemptionTotal

TOP = 10
HOURS = Decimal("0.01")


def _span(table: Any, node_id: int, grain: str, low: str | None, high: str) -> Any:
    """The node's rows of one grain from ``low`` (or the first) to ``high``,
    inclusive: one range of the ``(node_id, grain, period)`` index."""
    where = (table.node_id == node_id) & (table.grain == grain) & (table.period <= high)
    return where if low is None else where & (table.period >= low)


def _covering(table: Any, node_id: int, period: Period) -> Any:
    """The node's totals rows that cover the period once: its whole months
    (month grain) and its edge days (day grain). Each part is a whole
    index range, OR-ed (a bitmap OR on PostgreSQL, a multi-index OR on
    SQLite): never a scan of the node's history."""
    days, months = calendar_split(period)
    parts = [_span(table, node_id, DAY_GRAIN, low, high) for low, high in days]
    if months is not None:
        parts.append(_span(table, node_id, MONTH_GRAIN, *months))
    return reduce(operator.or_, parts)


def _up_to(table: Any, node_id: int, to_day: date) -> Any:
    """The node's totals rows that cover every day up to ``to_day``: whole
    months up to its month (or the one before) and the days of its month."""
    days, months = calendar_split(Period(to_day.replace(day=1), to_day))
    if months is not None:
        return _span(table, node_id, MONTH_GRAIN, None, months[1])
    low, high = days[0]
    before = (to_day.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    return _span(table, node_id, MONTH_GRAIN, None, before) | _span(table, node_id, DAY_GRAIN, low, high)


def _points(minor: object) -> Decimal:
    return from_minor(int(minor or 0))  # type: ignore[call-overload]


async def _grouped(table: Any, where: Any, keys: Sequence[Any], sums: Sequence[Any]) -> list[dict[str, Any]]:
    columns = [*keys, *(Sum(column).as_alias(column._meta.name) for column in sums)]
    query = table.select(*columns).where(where)
    rows = await (query.group_by(*keys) if keys else query).run()
    return [{k: (int(v or 0) if k in {c._meta.name for c in sums} else v) for k, v in row.items()} for row in rows]


# --- ledger figures -------------------------------------------------------------


async def _points_figures(node_id: int, period: Period) -> list[Figure]:
    flows = await _grouped(
        LedgerTotal,
        _covering(LedgerTotal, node_id, period),
        [LedgerTotal.account_class, LedgerTotal.kind],
        [LedgerTotal.amount_minor],
    )
    total: dict[tuple[str, str], int] = {(r["account_class"], r["kind"]): r["amount_minor"] for r in flows}
    issued = total.get(("budget", FUND_KIND), 0)
    awarded = sum(v for (cls, kind), v in total.items() if cls == "wallet" and kind in AWARD_KINDS)
    redeemed = -total.get(("wallet", REDEMPTION_KIND), 0)
    expired = sum(v for (cls, _), v in total.items() if cls == "expired")
    history = await _grouped(
        LedgerTotal,
        _up_to(LedgerTotal, node_id, period.to_day) & (LedgerTotal.account_class == "wallet"),
        [LedgerTotal.account_class],
        [LedgerTotal.amount_minor],
    )
    liability = sum(r["amount_minor"] for r in history)
    return [
        Figure(
            "points",
            "积分流量",
            "Points flows",
            Chart.BAR,
            (Column("flow", "项目", "Flow"), Column("points", "积分", "Points", numeric=True)),
            (
                (_label(FLOW_WORDS, "issued"), _points(issued)),
                (_label(FLOW_WORDS, "awarded"), _points(awarded)),
                (_label(FLOW_WORDS, "redeemed"), _points(redeemed)),
                (_label(FLOW_WORDS, "expired"), _points(expired)),
            ),
        ),
        Figure(
            "liability",
            "待兑付积分（截至期末）",
            "Outstanding points (at the end of the period)",
            Chart.NUMBER,
            (Column("item", "项目", "Item"), Column("points", "积分", "Points", numeric=True)),
            ((_label(FLOW_WORDS, "wallets"), _points(liability)),),
        ),
    ]


async def _budget_figure(path: str) -> Figure:
    low, high = subtree_range(path)
    campaigns = (
        await Campaign.select(Campaign.id, Campaign.title_zh, Campaign.status)
        .where((Campaign.organisation.path >= low) & (Campaign.organisation.path < high))
        .order_by(Campaign.id)
        .limit(200)
        .run()
    )
    codes = [budget_code(int(c["id"])) for c in campaigns]
    balances = {}
    if codes:
        balances = {
            str(r["code"]): int(r["balance_minor"]) - int(r["held_minor"])
            for r in await LedgerAccount.select(
                LedgerAccount.code, LedgerAccount.balance_minor, LedgerAccount.held_minor
            )
            .where(LedgerAccount.code.is_in(codes))
            .run()
        }
    return Figure(
        "budgets",
        "各活动项目剩余预算（当前）",
        "Budget left per campaign (now)",
        Chart.BAR,
        (
            Column("campaign", "活动项目", "Campaign"),
            Column("status", "状态", "Status"),
            Column("points", "剩余积分", "Points left", numeric=True),
        ),
        tuple(
            (
                str(c["title_zh"]),
                _label(CAMPAIGN_STATUS_WORDS, str(c["status"])),
                _points(balances.get(budget_code(int(c["id"])), 0)),
            )
            for c in campaigns
        ),
    )


async def _redemption_figures(node_id: int, period: Period) -> list[Figure]:
    where = _covering(RedemptionTotal, node_id, period)
    sums = [RedemptionTotal.orders, RedemptionTotal.quantity, RedemptionTotal.points_minor]
    by_shop = await _grouped(RedemptionTotal, where, [RedemptionTotal.shop_id], sums)
    by_item = await _grouped(RedemptionTotal, where, [RedemptionTotal.item_id], sums)
    shops = await _names(Shop, [r["shop_id"] for r in by_shop])
    items = await _names(CatalogItem, [r["item_id"] for r in by_item])
    columns = (
        Column("orders", "订单数", "Orders", numeric=True),
        Column("quantity", "件数", "Quantity", numeric=True),
        Column("points", "积分", "Points", numeric=True),
    )

    def rows(found: list[dict[str, Any]], key: str, names: Mapping[int, str]) -> tuple[tuple[Cell, ...], ...]:
        ordered = sorted(found, key=lambda r: (-r["points_minor"], r[key]))
        return tuple(
            (names.get(r[key], f"#{r[key]}"), r["orders"], r["quantity"], _points(r["points_minor"])) for r in ordered
        )

    return [
        Figure(
            "redemptions_by_shop",
            "各商户兑换（积分）",
            "Redemptions per shop (points)",
            Chart.BAR,
            (Column("shop", "商户", "Shop"), *columns),
            rows(by_shop, "shop_id", shops),
        ),
        Figure(
            "redemptions_by_item",
            "各商品兑换（积分）",
            "Redemptions per item (points)",
            Chart.BAR,
            (Column("item", "商品", "Item"), *columns),
            rows(by_item, "item_id", items),
        ),
    ]


async def _names(table: Any, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await table.select(table.id, table.name_zh).where(table.id.is_in(wanted)).run()
    return {int(r["id"]): str(r["name_zh"]) for r in rows}


# --- activity figures -----------------------------------------------------------

# The words of each category a figure names: key -> (Chinese, English).
FLOW_WORDS = {
    "issued": ("拨入活动项目预算", "Budget moved into campaigns"),
    "awarded": ("奖励", "Awarded"),
    "redeemed": ("兑换", "Redeemed"),
    "expired": ("过期", "Expired"),
    "wallets": ("志愿者钱包余额", "Volunteers' wallets"),
}
CAMPAIGN_STATUS_WORDS = {"open": ("进行中", "Open"), "closed": ("已结束", "Ended")}
KIND_WORDS = {"service": ("志愿服务", "Service"), "patrol": ("巡逻", "Patrol"), "report": ("随手报", "Report")}
# An activity's status in the words the volunteer's pages use (web/i18n.py
# ``status_*``; tests/unit/test_reporting_exports.py keeps them the same).
STATUS_WORDS = {
    "checked_in": ("巡逻中", "On patrol"),
    "submitted": ("已提交，待审核", "Submitted, awaiting review"),
    "held": ("复核中", "Under a second review"),
    "verified": ("审核通过", "Approved"),
    "rejected": ("未通过", "Not approved"),
    "assigned": ("处理中", "Being handled"),
    "handled": ("已处理", "Handled"),
    "closed": ("已处理，已评价", "Handled and rated"),
}
REPORT_KIND_WORDS = {
    "hazard": ("隐患", "Hazard"),
    "tip": ("线索", "Tip"),
    "dispute": ("纠纷", "Dispute"),
    "snap": ("其他情况", "Something else"),
}
STAGE_WORDS = {"accept": ("受理", "Acceptance"), "finish": ("办结", "Completion")}


def _label(words: Mapping[str, tuple[str, str]], key: str) -> Label | str:
    """The category ``key`` in both languages; a key without words shows as itself."""
    if key in words:
        zh, en = words[key]
        return Label(key, zh, en)
    return key or "—"


async def _activity_figures(node_id: int, period: Period, grids: Mapping[int, tuple[int, str]]) -> list[Figure]:
    where = _covering(ActivityTotal, node_id, period)
    by_status = await _grouped(
        ActivityTotal, where, [ActivityTotal.kind, ActivityTotal.status], [ActivityTotal.activities]
    )
    every_day = _span(ActivityTotal, node_id, DAY_GRAIN, period.from_day.isoformat(), period.to_day.isoformat())
    hours = [
        {"day": r["period"], "minutes": r["minutes"]}
        for r in await _grouped(
            ActivityTotal,
            every_day & (ActivityTotal.kind == "service"),
            [ActivityTotal.period],
            [ActivityTotal.minutes],
        )
    ]
    reports = await _grouped(
        ActivityTotal, where & (ActivityTotal.kind == "report"), [ActivityTotal.report_kind], [ActivityTotal.activities]
    )
    stages = await _grouped(
        ActivityTotal,
        where,
        [],
        [ActivityTotal.accept_done, ActivityTotal.accept_late, ActivityTotal.finish_done, ActivityTotal.finish_late],
    )
    shares = _covering(ActivityShare, node_id, period)
    by_node = [
        {"organisation_id": r["ref_id"], "points_minor": r["points_minor"]}
        for r in await _grouped(
            ActivityShare, shares & (ActivityShare.by == "node"), [ActivityShare.ref_id], [ActivityShare.points_minor]
        )
    ]
    by_team = [
        {"team_id": r["ref_id"], "points_minor": r["points_minor"], "minutes": r["minutes"]}
        for r in await _grouped(
            ActivityShare,
            shares & (ActivityShare.by == "team"),
            [ActivityShare.ref_id],
            [ActivityShare.points_minor, ActivityShare.minutes],
        )
    ]
    loop = stages[0] if stages else {}
    grid_points: dict[tuple[int, str], int] = defaultdict(int)
    for row in by_node:
        grid_points[grids.get(row["organisation_id"], (row["organisation_id"], f"#{row['organisation_id']}"))] += row[
            "points_minor"
        ]
    teams = await _names(Team, [r["team_id"] for r in by_team])
    return [
        Figure(
            "activities",
            "活动记录（按类型与状态）",
            "Activity records by kind and status",
            Chart.BAR,
            (
                Column("kind", "类型", "Kind"),
                Column("status", "状态", "Status"),
                Column("count", "数量", "Count", numeric=True),
            ),
            tuple(
                (_label(KIND_WORDS, r["kind"]), _label(STATUS_WORDS, r["status"]), r["activities"])
                for r in sorted(by_status, key=lambda r: (r["kind"], r["status"]))
            ),
        ),
        Figure(
            "service_hours",
            "服务时长（小时）",
            "Service hours",
            Chart.LINE,
            (Column("day", "日期", "Day"), Column("hours", "小时", "Hours", numeric=True)),
            tuple(
                (str(r["day"]), (Decimal(r["minutes"]) / 60).quantize(HOURS))
                for r in sorted(hours, key=lambda r: r["day"])
            ),
        ),
        Figure(
            "reports_by_kind",
            "随手报（按类别）",
            "Reports by kind",
            Chart.PIE,
            (Column("report_kind", "类别", "Kind"), Column("count", "数量", "Count", numeric=True)),
            tuple(
                (_label(REPORT_KIND_WORDS, r["report_kind"]), r["activities"])
                for r in sorted(reports, key=lambda r: r["report_kind"])
            ),
        ),
        Figure(
            "on_time",
            "闭环处置按时率",
            "Closed-loop on-time rate per stage",
            Chart.BAR,
            (
                Column("stage", "环节", "Stage"),
                Column("done", "完成", "Done", numeric=True),
                Column("on_time", "按时", "On time", numeric=True),
                Column("rate", "按时率（%）", "On-time rate (%)", numeric=True),
            ),
            tuple(
                _stage_row(
                    _label(STAGE_WORDS, key), int(loop.get(f"{key}_done", 0) or 0), int(loop.get(f"{key}_late", 0) or 0)
                )
                for key in ("accept", "finish")
            ),
        ),
        Figure(
            "top_grids",
            "网格积分排行",
            "Top grids by points awarded",
            Chart.BAR,
            (Column("grid", "网格", "Grid"), Column("points", "积分", "Points", numeric=True)),
            tuple(
                (name, _points(v))
                for (_, name), v in sorted(grid_points.items(), key=lambda kv: (-kv[1], kv[0][0]))[:TOP]
            ),
        ),
        Figure(
            "top_teams",
            "志愿服务队积分排行",
            "Top teams by points awarded",
            Chart.BAR,
            (
                Column("team", "服务队", "Team"),
                Column("points", "积分", "Points", numeric=True),
                Column("hours", "服务小时", "Service hours", numeric=True),
            ),
            tuple(
                (
                    teams.get(r["team_id"], f"#{r['team_id']}"),
                    _points(r["points_minor"]),
                    (Decimal(r["minutes"]) / 60).quantize(HOURS),
                )
                for r in sorted(by_team, key=lambda r: (-r["points_minor"], r["team_id"]))[:TOP]
            ),
        ),
    ]


def _stage_row(name: Label | str, done: int, late: int) -> tuple[Cell, ...]:
    rate = (Decimal(100 * (done - late)) / done).quantize(HOURS) if done else Decimal("0.00")
    return (name, done, done - late, rate)


async def _active_figure(node_id: int, period: Period) -> Figure:
    low, high = active_window(period.to_day)
    active = (
        await MemberTotal.count(distinct=[MemberTotal.member_id])
        .where((MemberTotal.node_id == node_id) & (MemberTotal.day >= low) & (MemberTotal.day <= high))
        .run()
    )
    return Figure(
        "active_volunteers",
        "活跃志愿者（期末前30天）",
        "Active volunteers (30 days to the end of the period)",
        Chart.NUMBER,
        (Column("window", "时间段", "Window"), Column("members", "人数", "Members", numeric=True)),
        ((f"{low} ~ {high}", int(active)),),
    )


async def _overdue_figure(path: str, grids: Mapping[int, tuple[int, str]]) -> Figure:
    low, high = subtree_range(path)
    rows = (
        await Activity.select(Activity.organisation)
        .where((Activity.overdue == True) & (Activity.organisation.path >= low) & (Activity.organisation.path < high))  # noqa: E712
        .run()
    )
    counts: dict[tuple[int, str], int] = defaultdict(int)
    for row in rows:
        node = int(row["organisation"])
        counts[grids.get(node, (node, f"#{node}"))] += 1
    return Figure(
        "overdue_by_grid",
        "各网格超期事项（当前）",
        "Overdue items per grid (now)",
        Chart.BAR,
        (Column("grid", "网格", "Grid"), Column("count", "超期数", "Overdue", numeric=True)),
        tuple((name, n) for (_, name), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0]))),
    )


async def grid_of_nodes(organisation: OrganisationRecord) -> dict[int, tuple[int, str]]:
    """Every node of the subtree → (its grid, the grid's name). A node above
    the grids counts for itself; below, for the grid above it."""
    low, high = subtree_range(organisation.path)
    rows = (
        await Organisation.select(Organisation.id, Organisation.level, Organisation.name_zh, Organisation.path)
        .where((Organisation.path >= low) & (Organisation.path < high))
        .run()
    )
    by_id = {int(r["id"]): r for r in rows}
    grids: dict[int, tuple[int, str]] = {}
    for node_id, row in by_id.items():
        chosen = (node_id, str(row["name_zh"]))
        for ancestor in ids_on_path(str(row["path"])):
            found = by_id.get(ancestor)
            if found is not None and found["level"] == Level.GRID:
                chosen = (ancestor, str(found["name_zh"]))
        grids[node_id] = chosen
    return grids


async def dashboard(organisation: OrganisationRecord, period: Period) -> Dashboard:
    """Every figure of the node's subtree for the period (the caller checked
    the principal may see it: ``reporting.policy``)."""
    path, node_id = organisation.path, organisation.id
    grids = await grid_of_nodes(organisation)
    figures = [
        *(await _points_figures(node_id, period)),
        await _budget_figure(path),
        *(await _activity_figures(node_id, period, grids)),
        await _active_figure(node_id, period),
        await _overdue_figure(path, grids),
        *(await _redemption_figures(node_id, period)),
    ]
    return Dashboard(
        organisation_id=organisation.id,
        organisation_zh=organisation.name_zh,
        organisation_en=organisation.name_en,
        from_day=period.from_day,
        to_day=period.to_day,
        figures=tuple(figures),
    )


async def organiser_dashboard(
    principal: Principal, organisation_id: int, from_day: date | None, to_day: date | None, *, now: datetime
) -> Dashboard:
    """The figures of a node the principal manages (``reporting.policy``:
    404 for a node they cannot see, 403 for one they do not manage) for the
    period (default: this month so far)."""
    organisation = await dashboard_organisation(principal, organisation_id)
    default = preset_period("month", china_today(now))
    period = check_period(from_day or default.from_day, to_day or default.to_day)
    return await dashboard(organisation, period)
