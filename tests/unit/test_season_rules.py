"""Seasons, the pure rules: dates, which boards an award feeds (rollover at
China midnight), when a season freezes, the order of a frozen board."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from leaderboards.periods import SeasonDates, china_date
from leaderboards.season_rules import (
    FREEZE_GRACE,
    SeasonRuleBroken,
    SeasonSpan,
    check_dates,
    check_name,
    end_of,
    freeze_due,
    frozen_order,
    has_started,
    season_boards,
)

pytestmark = pytest.mark.unit

TODAY = date(2026, 12, 1)
SPRING = SeasonSpan(SeasonDates(7, date(2026, 12, 1), date(2026, 12, 6)), organisation_id=4)
CHAIN = [9, 4, 2, 1]  # grid 9 under community 4 under street 2 under city 1


def test_a_season_starts_tomorrow_at_the_earliest_and_ends_after_it_starts() -> None:
    check_dates(TODAY + timedelta(days=1), TODAY + timedelta(days=1), TODAY)
    with pytest.raises(SeasonRuleBroken) as today:
        check_dates(TODAY, TODAY + timedelta(days=5), TODAY)
    assert today.value.field == "first_day"
    with pytest.raises(SeasonRuleBroken) as backwards:
        check_dates(TODAY + timedelta(days=5), TODAY + timedelta(days=4), TODAY)
    assert backwards.value.field == "last_day"
    with pytest.raises(SeasonRuleBroken):
        check_dates(TODAY + timedelta(days=1), TODAY + timedelta(days=367), TODAY)
    with pytest.raises(SeasonRuleBroken) as far:
        check_dates(date(9999, 12, 30), date(9999, 12, 31), TODAY)
    assert far.value.field == "first_day"


def test_a_season_needs_a_chinese_name() -> None:
    assert check_name("  春季竞赛 ", " Spring ") == ("春季竞赛", "Spring")
    with pytest.raises(SeasonRuleBroken) as blank:
        check_name("   ", "Spring")
    assert blank.value.field == "name_zh"


def test_an_award_feeds_the_boards_from_where_it_was_done_up_to_the_season_node_only() -> None:
    boards = season_boards([SPRING], date(2026, 12, 3), CHAIN, ["team:5", "campaign:1"])
    assert boards == [
        ("org:9", "season:7"),
        ("org:4", "season:7"),
        ("team:5", "season:7"),
        ("campaign:1", "season:7"),
    ]
    assert season_boards([SPRING], date(2026, 12, 3), [8, 3, 2, 1], ["team:5"]) == []  # another community


def test_the_season_rolls_over_at_china_midnight() -> None:
    last_minute = datetime(2026, 12, 6, 15, 59, tzinfo=UTC)  # Sunday 23:59 China time
    next_day = datetime(2026, 12, 6, 16, 0, tzinfo=UTC)  # Monday 00:00 China time
    assert season_boards([SPRING], china_date(last_minute), CHAIN, []) != []
    assert season_boards([SPRING], china_date(next_day), CHAIN, []) == []
    first_minute = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # Tuesday 1 December 00:00 China time
    assert season_boards([SPRING], china_date(first_minute - timedelta(seconds=1)), CHAIN, []) == []
    assert season_boards([SPRING], china_date(first_minute), CHAIN, []) != []


def test_a_season_freezes_a_grace_after_its_last_china_day() -> None:
    assert end_of(date(2026, 12, 6)) == datetime(2026, 12, 6, 16, 0, tzinfo=UTC)
    assert not freeze_due(date(2026, 12, 6), datetime(2026, 12, 6, 16, 0, tzinfo=UTC))
    assert freeze_due(date(2026, 12, 6), datetime(2026, 12, 6, 16, 0, tzinfo=UTC) + FREEZE_GRACE)
    assert has_started(date(2026, 12, 1), datetime(2026, 11, 30, 16, 0, tzinfo=UTC))
    assert not has_started(date(2026, 12, 1), datetime(2026, 11, 30, 15, 59, tzinfo=UTC))


def test_a_frozen_board_ranks_by_score_and_hidden_members_take_no_rank() -> None:
    order = frozen_order([(1, 100, True), (2, 300, False), (3, 200, True), (4, 200, True)])
    assert order == [(2, None), (4, 1), (3, 2), (1, 3)]
