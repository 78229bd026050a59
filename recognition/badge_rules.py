"""Badges (徽章), the pure rules: a table of rule records, each a predicate
over a member's counts, folded over their verified work in order so that
each badge names the activity that earned it.

**What counts** (``Event``): a patrol, service log or report once verified
(or beyond: assigned, handled, closed); a report's usefulness (有效线索)
once its handler marked it useful. Held (under fraud review) and rejected
work does not count. A badge once awarded stays, even if the work that
earned it is later rejected: it records a moment, not a balance.

**Active weeks**: a China-time ISO week with at least one counted piece of
work (by when it was done); ``seven_weeks`` asks for seven in a row.

**Season top 3** is not earned by work: it is awarded when a season's
board freezes (``awarding.award_season_badges``), once per member and
season (its ``occasion`` is ``season:<id>``); every other badge is awarded
once per member, ever.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from leaderboards.periods import china_date

WEEKS_IN_A_ROW = 7
SERVICE_MINUTES = 100 * 60


class EventKind(StrEnum):
    REPORT = "report"
    PATROL = "patrol"
    SERVICE = "service"
    USEFUL = "useful"  # a report its handler marked useful


@dataclass(frozen=True, slots=True)
class Event:
    """One counted step of a member's work, at the moment it counted."""

    at: datetime  # verified (or marked useful) at
    activity_id: int
    kind: EventKind
    minutes: int = 0  # verified minutes of service or patrol
    done_on: date | None = None  # the China date the work was done (active weeks)


@dataclass(slots=True)
class Counts:
    reports: int = 0
    patrols: int = 0
    minutes: int = 0
    useful_reports: int = 0
    weeks: set[int] = field(default_factory=set)  # Monday ordinals // 7 of active weeks
    weeks_in_a_row: int = 0  # the longest run so far

    def add(self, event: Event) -> None:
        if event.kind is EventKind.REPORT:
            self.reports += 1
        elif event.kind is EventKind.PATROL:
            self.patrols += 1
        elif event.kind is EventKind.USEFUL:
            self.useful_reports += 1
        if event.kind in (EventKind.PATROL, EventKind.SERVICE):
            self.minutes += event.minutes
        if event.done_on is not None and event.kind is not EventKind.USEFUL:
            week = week_number(event.done_on)
            if week not in self.weeks:
                self.weeks.add(week)
                self.weeks_in_a_row = max(self.weeks_in_a_row, run_through(self.weeks, week))


def week_number(day: date) -> int:
    """Consecutive integers for consecutive ISO weeks (Monday-based)."""
    return (day.toordinal() - day.weekday()) // 7


def run_through(weeks: set[int], week: int) -> int:
    """The length of the run of consecutive weeks that contains ``week``."""
    low, high = week, week
    while low - 1 in weeks:
        low -= 1
    while high + 1 in weeks:
        high += 1
    return high - low + 1


@dataclass(frozen=True, slots=True)
class BadgeRule:
    code: str
    icon: str  # one character on the medal (drawn in CSS), always shown with the words
    icon_en: str  # the medal's mark for English readers (at most 3 characters)
    name_zh: str
    name_en: str
    description_zh: str  # how it is earned, shown on the "not yet" badge too
    description_en: str
    earned: Callable[[Counts], bool] | None  # None: awarded by an event (season freeze), not by counts


SEASON_TOP3 = "season_top3"

RULES: tuple[BadgeRule, ...] = (
    BadgeRule(
        "first_report", "报", "R", "初次上报", "First report",
        "第一次随手报通过审核", "Your first report is verified",
        lambda c: c.reports >= 1,
    ),
    BadgeRule(
        "patrols_10", "巡", "10", "巡逻十次", "10 patrols",
        "累计 10 次巡逻通过审核", "10 patrols verified",
        lambda c: c.patrols >= 10,
    ),
    BadgeRule(
        "patrols_50", "卫", "50", "巡逻五十次", "50 patrols",
        "累计 50 次巡逻通过审核", "50 patrols verified",
        lambda c: c.patrols >= 50,
    ),
    BadgeRule(
        "service_100h", "时", "100", "服务百小时", "100 service hours",
        "志愿服务和巡逻累计 100 小时通过审核", "100 hours of service and patrols verified",
        lambda c: c.minutes >= SERVICE_MINUTES,
    ),
    BadgeRule(
        "first_useful_report", "效", "U", "首条有效线索", "First useful report",
        "上报的线索第一次被处理人标为有效", "A handler marks one of your reports useful for the first time",
        lambda c: c.useful_reports >= 1,
    ),
    BadgeRule(
        "seven_weeks", "周", "7", "连续七周", "Seven weeks in a row",
        "连续 7 周每周都有通过审核的服务", "Verified work in each of 7 weeks in a row",
        lambda c: c.weeks_in_a_row >= WEEKS_IN_A_ROW,
    ),
    BadgeRule(
        SEASON_TOP3, "冠", "3", "赛季前三", "Season top 3",
        "赛季结束时在排行榜前三名", "In the top 3 of a board when a season ends",
        None,
    ),
)  # fmt: skip

RULES_BY_CODE = {rule.code: rule for rule in RULES}


@dataclass(frozen=True, slots=True)
class Earned:
    """A badge a member's work earned: when, and by which activity."""

    code: str
    at: datetime
    activity_id: int


def earned_badges(events: Iterable[Event], rules: Sequence[BadgeRule] = RULES) -> list[Earned]:
    """Every counted badge the events earn, each at the event that first
    made its predicate true (events are taken in time order)."""
    counts = Counts()
    earned: list[Earned] = []
    pending = [rule for rule in rules if rule.earned is not None]
    for event in sorted(events, key=lambda e: (e.at, e.activity_id, e.kind.value)):
        counts.add(event)
        for rule in list(pending):
            if rule.earned is not None and rule.earned(counts):
                earned.append(Earned(rule.code, event.at, event.activity_id))
                pending.remove(rule)
    return earned


def done_on(started_at: datetime) -> date:
    return china_date(started_at)
