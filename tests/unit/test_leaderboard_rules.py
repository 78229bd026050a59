"""The leaderboards' pure rules: periods in China time, the composite
score, name masking, what counts and the fold."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leaderboards.earnings import Change, credited_wallet, fold, is_counted_award, wallet_member
from leaderboards.keys import ScopeKind, board_key, parse_scope, seq_key
from leaderboards.league_rules import LeagueMethod, UnitTotal, league_value, rank_units
from leaderboards.masking import mask_name, shown_name
from leaderboards.periods import (
    PeriodKind,
    SeasonDates,
    current_period,
    periods_of,
    previous_week,
    week_bounds,
)
from leaderboards.scores import (
    EPOCH,
    LAST_MINUTE,
    POINTS_LIMIT,
    Score,
    ScoreOutOfRange,
    compose,
    minute_of,
)


def test_sunday_2359_china_time_is_in_the_old_week_and_monday_0000_in_the_new() -> None:
    # 2026-11-29 is a Sunday; China is UTC+8, so its midnight is 16:00 UTC.
    sunday_late = datetime(2026, 11, 29, 15, 59, 59, tzinfo=UTC)
    monday_midnight = datetime(2026, 11, 29, 16, 0, 0, tzinfo=UTC)
    assert periods_of(sunday_late)[0] == "week:2026-W48"
    assert periods_of(monday_midnight)[0] == "week:2026-W49"


def test_month_and_week_follow_the_china_date_not_the_utc_one() -> None:
    # 2026-11-30 17:00 UTC is 2026-12-01 01:00 in China.
    assert periods_of(datetime(2026, 11, 30, 17, 0, tzinfo=UTC)) == ("week:2026-W49", "month:2026-12", "all")


def test_iso_week_of_early_january_belongs_to_the_previous_iso_year() -> None:
    assert periods_of(datetime(2027, 1, 1, 4, 0, tzinfo=UTC))[0] == "week:2026-W53"


def test_a_season_counts_its_first_and_last_china_day_only() -> None:
    season = SeasonDates(season_id=7, first_day=date(2026, 3, 1), last_day=date(2026, 5, 31))
    before = datetime(2026, 2, 28, 15, 59, tzinfo=UTC)  # 23:59 on 28 Feb in China
    first = datetime(2026, 2, 28, 16, 0, tzinfo=UTC)  # 00:00 on 1 Mar in China
    last = datetime(2026, 5, 31, 15, 59, tzinfo=UTC)
    after = datetime(2026, 5, 31, 16, 0, tzinfo=UTC)
    assert "season:7" not in periods_of(before, [season])
    assert "season:7" in periods_of(first, [season])
    assert "season:7" in periods_of(last, [season])
    assert "season:7" not in periods_of(after, [season])


def test_current_and_previous_week_and_week_bounds_agree() -> None:
    now = datetime(2026, 11, 29, 16, 0, tzinfo=UTC)
    assert current_period(PeriodKind.WEEK, now) == "week:2026-W49"
    assert previous_week(now) == "week:2026-W48"
    start, end = week_bounds("week:2026-W49")
    assert start == now and end == now + timedelta(days=7)
    assert current_period(PeriodKind.ALL, now) == "all"
    with pytest.raises(ValueError, match="season"):
        current_period(PeriodKind.SEASON, now)


def test_more_points_always_outrank_fewer_whatever_the_time() -> None:
    assert compose(101, LAST_MINUTE) > compose(100, 0)


def test_at_equal_points_the_earlier_minute_ranks_higher() -> None:
    assert compose(500, 10) > compose(500, 11)


def test_scores_stay_below_2_to_the_53_at_the_limits() -> None:
    assert abs(compose(POINTS_LIMIT - 1, 0)) < 2**53
    assert abs(compose(-POINTS_LIMIT, LAST_MINUTE)) < 2**53
    with pytest.raises(ScoreOutOfRange):
        compose(POINTS_LIMIT, 0)
    with pytest.raises(ScoreOutOfRange):
        compose(0, LAST_MINUTE + 1)


@given(
    points=st.integers(min_value=-POINTS_LIMIT, max_value=POINTS_LIMIT - 1),
    minute=st.integers(min_value=0, max_value=LAST_MINUTE),
)
def test_a_score_survives_a_round_trip_through_a_double(points: int, minute: int) -> None:
    score = compose(points, minute)
    assert float(score) == score  # exact in an IEEE double, as Redis keeps it
    assert Score.of(float(score)) == Score(points_minor=points, minute_reached=minute)


def test_minutes_are_clamped_to_the_scores_clock() -> None:
    assert minute_of(EPOCH - timedelta(days=1)) == 0
    assert minute_of(EPOCH + timedelta(minutes=90, seconds=59)) == 90
    assert minute_of(datetime(2100, 1, 1, tzinfo=UTC)) == LAST_MINUTE


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张小英", "张*英"),
        ("欧阳小明", "欧**明"),
        ("李明", "李*"),
        ("明", "*"),
        ("", "*"),
        ("Anna Maria Smith", "A*** M**** S****"),
        ("Jo  Li", "J* L*"),
        ("Ahmad", "A***d"),
    ],
)
def test_names_are_masked(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_a_full_name_is_shown_only_when_chosen() -> None:
    assert shown_name("张小英", full_name_shown=True) == "张小英"
    assert shown_name("张小英", full_name_shown=False) == "张*英"


def test_awards_and_bonuses_count_and_nothing_else_does() -> None:
    assert is_counted_award("award", {})
    assert is_counted_award("award_bonus", {"campaign_id": 3})
    for kind in ("redemption", "adjustment", "campaign_fund", "settlement", "reversal"):
        assert not is_counted_award(kind, {})


def test_an_award_held_for_fraud_review_does_not_count() -> None:
    assert not is_counted_award("award", {"held_for_review": True})


def test_the_credited_wallet_is_found_among_the_legs() -> None:
    assert wallet_member("volunteer:42:wallet") == 42
    assert wallet_member("campaign:42:budget") is None
    assert wallet_member("volunteer:x:wallet") is None
    assert credited_wallet([("campaign:1:budget", -500), ("volunteer:9:wallet", 500)]) == (9, 500)
    # Spending debits the wallet: nothing credited.
    assert credited_wallet([("volunteer:9:wallet", -500), ("shop:1:settlement", 500)]) is None


def _change(seq: int, member: int, delta: int, minute: int) -> Change:
    return Change(
        seq=seq,
        member_id=member,
        delta_minor=delta,
        changed_at=EPOCH + timedelta(minutes=minute),
        boards=(("org:1", "all"),),
    )


def test_the_fold_adds_points_keeps_the_latest_minute_and_drops_members_back_at_zero() -> None:
    boards = fold([_change(2, 7, 300, 5), _change(1, 7, 200, 1), _change(3, 8, 100, 2), _change(4, 8, -100, 9)])
    assert boards == {("org:1", "all"): {7: (500, 5)}}


def test_scope_names_parse_and_keys_carry_the_scope_as_a_hash_tag() -> None:
    assert parse_scope("team:12") == (ScopeKind.TEAM, 12)
    for bad in ("org:", "org:-1", "shop:3", "org:1:2", "org:" + "9" * 19):
        with pytest.raises(ValueError, match="not a scope"):
            parse_scope(bad)
    assert board_key("org:12", "week:2026-W48") == "lb:{org:12}:week:2026-W48"
    assert seq_key("org:12") == "lb:{org:12}:seq"


def test_a_league_by_sum_ranks_the_big_unit_and_by_average_the_small_one() -> None:
    big = UnitTotal(unit_id=1, points_minor=10_000, headcount=20)  # 100.00 points, 5.00 each
    small = UnitTotal(unit_id=2, points_minor=3_000, headcount=3)  # 30.00 points, 10.00 each
    assert [unit.unit_id for unit in rank_units([big, small], LeagueMethod.SUM)] == [1, 2]
    by_average = rank_units([big, small], LeagueMethod.AVERAGE)
    assert [(unit.unit_id, unit.value) for unit in by_average] == [(2, Decimal("10.00")), (1, Decimal("5.00"))]


def test_a_per_capita_average_rounds_half_even_and_an_empty_unit_scores_zero() -> None:
    assert league_value(UnitTotal(1, 1, 2), LeagueMethod.AVERAGE) == Decimal("0.00")  # 0.005 → 0.00
    assert league_value(UnitTotal(1, 3, 2), LeagueMethod.AVERAGE) == Decimal("0.02")  # 0.015 → 0.02
    assert league_value(UnitTotal(1, 500, 0), LeagueMethod.AVERAGE) == Decimal("0.00")


def test_league_ties_rank_by_unit_id() -> None:
    tied = rank_units([UnitTotal(9, 100, 1), UnitTotal(4, 100, 1)], LeagueMethod.SUM)
    assert [(unit.rank, unit.unit_id) for unit in tied] == [(1, 4), (2, 9)]
