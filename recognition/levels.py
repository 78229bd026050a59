"""Star levels (星级), the pure rule: lifetime earned points and verified
service hours against an issuing organisation's thresholds.

- **Earned, never the balance**: the points counted are awards and bonuses
  minus their reversals (what the leaderboards count), so spending points
  in the supermarket never lowers a level. A reversal (a correction: the
  points were never earned) can.
- **Both measures**: a star is reached when the member has at least its
  points *and* its hours. An organisation that wants points alone sets
  every hours threshold to 0 (or hours alone, every points threshold to 0).
- **Thresholds**: five, for 1★ to 5★; 1★ is 0 points and 0 hours (everyone
  who joined has one star); each next star asks at least as much of both
  measures and strictly more of one (``check_thresholds``). The defaults
  (``DEFAULT_THRESHOLDS``) suit a community where a weekly patrol earns a
  few points and an hour or two: 2★ in a couple of months, 5★ in a few
  years of steady service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

STARS = 5
MINUTES_PER_HOUR = 60


@dataclass(frozen=True, slots=True)
class Threshold:
    stars: int
    points_minor: int  # hundredths of a point
    hours: int


DEFAULT_THRESHOLDS: tuple[Threshold, ...] = (
    Threshold(1, 0, 0),
    Threshold(2, 3_000, 5),  # 30 points, 5 hours
    Threshold(3, 10_000, 20),  # 100 points, 20 hours
    Threshold(4, 30_000, 50),  # 300 points, 50 hours
    Threshold(5, 80_000, 100),  # 800 points, 100 hours
)


class ThresholdsRefused(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Level:
    stars: int
    earned_minor: int
    minutes: int
    next: Threshold | None  # None at the top star
    points_needed_minor: int  # to the next star (0 when met or at the top)
    minutes_needed: int


def check_thresholds(thresholds: Sequence[Threshold]) -> tuple[Threshold, ...]:
    """Five thresholds, 1★ to 5★ in order, 1★ at 0/0, each next star at
    least as demanding in both measures and more demanding in one."""
    if len(thresholds) != STARS:
        raise ThresholdsRefused(f"give exactly {STARS} thresholds, 1 to {STARS} stars", "levels")
    for index, threshold in enumerate(thresholds):
        if threshold.stars != index + 1:
            raise ThresholdsRefused("thresholds go from 1 star to 5 in order", f"levels[{index}].stars")
        if threshold.points_minor < 0 or threshold.hours < 0:
            raise ThresholdsRefused("thresholds are not negative", f"levels[{index}]")
    if (thresholds[0].points_minor, thresholds[0].hours) != (0, 0):
        raise ThresholdsRefused("1 star needs 0 points and 0 hours: everyone starts there", "levels[0]")
    for index in range(1, STARS):
        before, this = thresholds[index - 1], thresholds[index]
        if this.points_minor < before.points_minor or this.hours < before.hours:
            raise ThresholdsRefused("a higher star never needs less than the one below", f"levels[{index}]")
        if (this.points_minor, this.hours) == (before.points_minor, before.hours):
            raise ThresholdsRefused("a higher star needs more points or more hours", f"levels[{index}]")
    return tuple(thresholds)


def star_level(earned_minor: int, minutes: int, thresholds: Sequence[Threshold] = DEFAULT_THRESHOLDS) -> Level:
    """The highest star whose points and hours are both met, and what the
    next one still needs."""
    reached = 1
    for threshold in thresholds:
        if earned_minor >= threshold.points_minor and minutes >= threshold.hours * MINUTES_PER_HOUR:
            reached = max(reached, threshold.stars)
    following = next((t for t in thresholds if t.stars == reached + 1), None)
    return Level(
        stars=reached,
        earned_minor=earned_minor,
        minutes=minutes,
        next=following,
        points_needed_minor=0 if following is None else max(0, following.points_minor - earned_minor),
        minutes_needed=0 if following is None else max(0, following.hours * MINUTES_PER_HOUR - minutes),
    )
