"""The rollups' pure rules: which node and kind a ledger leg counts for, how
a reversal nets out, what an activity adds, and China days."""

from __future__ import annotations

from datetime import UTC, date, datetime

from reporting.aggregation import (
    AccountClass,
    ActivityFacts,
    EntryFacts,
    Node,
    active_window,
    activity_counters,
    activity_rows,
    activity_total_deltas,
    china_day,
    classify,
    ledger_deltas,
    member_days,
    redemption_deltas,
    spread,
)

AT = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)  # 2026-12-01 04:00 in China
HOME = Node(7, "0000000001" + "0000000007")
CAMPAIGN_NODE = Node(3, "0000000001" + "0000000003")
SHOP_NODE = Node(3, "0000000001" + "0000000003")


def test_account_codes_classify_by_shape_and_anything_else_is_other() -> None:
    assert classify("volunteer:42:wallet") == (AccountClass.WALLET, 42)
    assert classify("campaign:5:budget") == (AccountClass.BUDGET, 5)
    assert classify("org:3:issuance") == (AccountClass.ISSUANCE, 3)
    assert classify("org:3:expired") == (AccountClass.EXPIRED, 3)
    assert classify("shop:9:settlement") == (AccountClass.SETTLEMENT, 9)
    assert classify("bench:wallet:0001") == (AccountClass.OTHER, 0)
    assert classify("volunteer:x:wallet") == (AccountClass.OTHER, 0)


def test_an_award_counts_on_the_wallet_owners_home_and_the_budgets_node_on_the_china_day() -> None:
    award = EntryFacts(1, "award", AT, {}, False, (("campaign:5:budget", -300), ("volunteer:42:wallet", 300)))
    deltas = ledger_deltas([award], {(AccountClass.WALLET, 42): HOME, (AccountClass.BUDGET, 5): CAMPAIGN_NODE})
    assert deltas == {
        ("2026-12-01", 7, HOME.path, "wallet", "award"): [300, 1],
        ("2026-12-01", 3, CAMPAIGN_NODE.path, "budget", "award"): [-300, 1],
    }


def test_a_reversal_counts_under_the_kind_it_reverses_so_the_sums_net_to_zero() -> None:
    owners = {(AccountClass.WALLET, 42): HOME, (AccountClass.BUDGET, 5): CAMPAIGN_NODE}
    award = EntryFacts(1, "award", AT, {}, False, (("campaign:5:budget", -300), ("volunteer:42:wallet", 300)))
    back = EntryFacts(2, "award", AT, {}, True, (("campaign:5:budget", 300), ("volunteer:42:wallet", -300)))
    deltas = ledger_deltas([award, back], owners)
    assert {key: value[0] for key, value in deltas.items()} == {
        ("2026-12-01", 7, HOME.path, "wallet", "award"): 0,
        ("2026-12-01", 3, CAMPAIGN_NODE.path, "budget", "award"): 0,
    }


def test_legs_of_accounts_without_a_node_are_left_out() -> None:
    entry = EntryFacts(1, "x", AT, {}, False, (("bench:a", -1), ("volunteer:99:wallet", 1)))
    assert ledger_deltas([entry], {}) == {}


def test_a_redemption_and_its_return_net_out_points_quantity_and_orders() -> None:
    metadata = {"order_id": 11, "item_id": 4, "shop_id": 9}
    legs = (("volunteer:42:wallet", -500), ("shop:9:settlement", 500))
    sold = EntryFacts(1, "redemption", AT, metadata, False, legs)
    returned = EntryFacts(2, "redemption", AT, metadata, True, tuple((code, -amount) for code, amount in legs))
    once = redemption_deltas([sold], {9: SHOP_NODE}, {11: 2})
    assert once == {("2026-12-01", 9, 4, 3, SHOP_NODE.path): [500, 2, 1]}
    assert redemption_deltas([sold, returned], {9: SHOP_NODE}, {11: 2}) == {
        ("2026-12-01", 9, 4, 3, SHOP_NODE.path): [0, 0, 0]
    }


def _activity(**fields: object) -> ActivityFacts:
    base: dict[str, object] = {
        "organisation_id": 7,
        "member_id": 42,
        "started_at": AT,
        "kind": "service",
        "status": "verified",
        "report_kind": "",
        "team_id": 0,
        "minutes": 90,
        "points_minor": 300,
        "escalated_stages": frozenset(),
    }
    base.update(fields)
    return ActivityFacts(**base)  # type: ignore[arg-type]


def test_minutes_and_points_count_only_where_the_award_stands() -> None:
    assert activity_counters(_activity()) == (1, 90, 300, 1, 0, 0, 0)
    assert activity_counters(_activity(status="rejected")) == (1, 0, 0, 1, 0, 0, 0)
    assert activity_counters(_activity(status="held")) == (1, 0, 0, 1, 0, 0, 0)
    assert activity_counters(_activity(status="submitted")) == (1, 0, 0, 0, 0, 0, 0)


def test_a_stage_passed_after_an_escalation_in_it_is_late() -> None:
    report = _activity(kind="report", status="closed", minutes=0, escalated_stages=frozenset({"finish"}))
    assert activity_counters(report) == (1, 0, 300, 1, 0, 1, 1)
    waiting = _activity(kind="report", status="submitted", escalated_stages=frozenset({"accept"}))
    assert activity_counters(waiting)[3:5] == (0, 0)


def test_rows_group_by_day_node_kind_status_report_kind_and_team() -> None:
    rows = activity_rows([_activity(), _activity(minutes=30), _activity(team_id=2)])
    assert rows[("2026-12-01", 7, "service", "verified", "", 0)][:3] == [2, 120, 600]
    assert rows[("2026-12-01", 7, "service", "verified", "", 2)][:3] == [1, 90, 300]


def test_a_member_active_twice_on_a_day_at_a_node_is_one_member_day() -> None:
    assert member_days([_activity(), _activity(status="rejected")]) == {("2026-12-01", 7, 42)}


def test_the_active_window_is_thirty_days_ending_with_the_last_day() -> None:
    assert active_window(date(2026, 12, 31)) == ("2026-12-02", "2026-12-31")


def test_china_day_of_a_naive_value_reads_it_as_utc() -> None:
    naive = datetime(2026, 11, 30, 16, 0, tzinfo=UTC).replace(tzinfo=None)
    assert china_day(naive) == "2026-12-01"


CITY, COMMUNITY, GRID = 1, 4, 9
GRID_PATH = "".join(f"{n:010d}" for n in (CITY, COMMUNITY, GRID))


def test_an_own_row_counts_at_every_node_on_its_path_for_its_day_and_its_month() -> None:
    totals = spread([("2026-11-30", GRID_PATH, ("wallet", "award"), [300, 1])])
    assert totals == {
        (node, grain, period, "wallet", "award"): [300, 1]
        for node in (CITY, COMMUNITY, GRID)
        for grain, period in (("day", "2026-11-30"), ("month", "2026-11"))
    }


def test_rows_of_one_month_add_up_in_the_month_and_a_row_without_a_path_counts_nowhere() -> None:
    totals = spread(
        [
            ("2026-11-01", GRID_PATH, ("k",), [2]),
            ("2026-11-30", GRID_PATH, ("k",), [3]),
            ("2026-11-30", "", ("k",), [100]),
        ]
    )
    assert totals[(CITY, "month", "2026-11", "k")] == [5]
    assert totals[(GRID, "day", "2026-11-01", "k")] == [2]
    assert len(totals) == 3 * 3  # three nodes × (two days + one month)


def test_recomputed_activity_rows_move_the_totals_by_new_minus_old_and_unchanged_rows_move_nothing() -> None:
    same = ("2026-11-30", GRID, "service", "verified", "", 0)
    old = {same: [1, 60, 200, 1, 0, 0, 0], ("2026-11-30", GRID, "report", "submitted", "tip", 5): [1, 0, 0, 0, 0, 0, 0]}
    new = {same: [1, 60, 200, 1, 0, 0, 0], ("2026-11-30", GRID, "report", "verified", "tip", 5): [1, 0, 0, 1, 1, 0, 0]}
    totals, shares = activity_total_deltas(old, new, {GRID: GRID_PATH})
    assert (CITY, "month", "2026-11", "service", "verified", "") not in totals
    assert totals[(CITY, "month", "2026-11", "report", "submitted", "tip")] == [-1, 0, 0, 0, 0, 0, 0]
    assert totals[(COMMUNITY, "day", "2026-11-30", "report", "verified", "tip")] == [1, 0, 0, 1, 1, 0, 0]
    assert shares == {}  # the report moved status: still one activity of the node and the team, no points
