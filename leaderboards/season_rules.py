"""Seasons (四季竞赛), the pure rules: what a valid season is, what may
still change, which boards an award feeds, when a season freezes, and the
order of a frozen board.

- **Dates** are China dates, first and last day inclusive; a season lasts
  1 to ``MAX_SEASON_DAYS`` days and starts tomorrow at the earliest: no
  award already on the boards can belong to a new season, so defining one
  never needs a rebuild (the demo's season, which starts in the past, is
  inserted by the seed and followed by a rebuild).
- **Changes**: the name any time; the dates, and deleting the season, only
  before its first day (once it runs, its boards are being fed).
- **Boards of an award**: a season counts an award earned at or below its
  organisation node, on the boards of the nodes from where the work was done
  up to the season's node (not above it), and on the award's team and
  campaign boards.
- **Freezing**: ``FREEZE_GRACE`` after the end of its last day (China
  time), so an award that committed a moment before midnight is sealed and
  fed first. From then on the board is read from stored standings and
  never changes; a later reversal of an in-season award moves no frozen
  board (the feed no longer knows the season).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from leaderboards.periods import CHINA, SeasonDates, china_date

MAX_SEASON_DAYS = 366
MAX_LEAD_DAYS = 731  # a season is defined at most two years ahead
MAX_NAME_CHARS = 100
FREEZE_GRACE = timedelta(minutes=10)


class SeasonRuleBroken(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class SeasonSpan:
    """A season's node and dates: what the feed needs to place an award."""

    dates: SeasonDates
    organisation_id: int


def check_name(name_zh: str, name_en: str) -> tuple[str, str]:
    name_zh, name_en = name_zh.strip(), name_en.strip()
    if not 1 <= len(name_zh) <= MAX_NAME_CHARS:
        raise SeasonRuleBroken(f"a season's Chinese name has 1 to {MAX_NAME_CHARS} characters", "name_zh")
    if len(name_en) > MAX_NAME_CHARS:
        raise SeasonRuleBroken(f"a season's English name has at most {MAX_NAME_CHARS} characters", "name_en")
    return name_zh, name_en


def check_dates(first_day: date, last_day: date, today: date) -> None:
    """A new or moved season: starts after today (China time) and within
    ``MAX_LEAD_DAYS``, ends on or after its start, and lasts at most
    ``MAX_SEASON_DAYS`` (so every date it yields stays far from the
    calendar's end)."""
    if first_day <= today:
        raise SeasonRuleBroken("a season starts tomorrow (China time) or later", "first_day")
    if (first_day - today).days > MAX_LEAD_DAYS:
        raise SeasonRuleBroken(f"a season starts within {MAX_LEAD_DAYS} days from today", "first_day")
    if last_day < first_day:
        raise SeasonRuleBroken("a season ends on or after its first day", "last_day")
    if (last_day - first_day).days + 1 > MAX_SEASON_DAYS:
        raise SeasonRuleBroken(f"a season lasts at most {MAX_SEASON_DAYS} days", "last_day")


def has_started(first_day: date, now: datetime) -> bool:
    return china_date(now) >= first_day


def end_of(last_day: date) -> datetime:
    """The UTC instant the season's last China day ends."""
    following = last_day + timedelta(days=1)
    return datetime(following.year, following.month, following.day, tzinfo=CHINA).astimezone(UTC)


def freeze_due(last_day: date, now: datetime) -> bool:
    return now >= end_of(last_day) + FREEZE_GRACE


def season_boards(
    spans: Sequence[SeasonSpan], day: date, where_done_chain: Sequence[int], other_scopes: Sequence[str]
) -> list[tuple[str, str]]:
    """(scope, ``season:<id>``) pairs an award on China ``day`` feeds:
    ``where_done_chain`` is the node where the work was done and its
    ancestors, nearest first; ``other_scopes`` its team and campaign scopes."""
    boards: list[tuple[str, str]] = []
    for span in spans:
        if not span.dates.contains(day) or span.organisation_id not in where_done_chain:
            continue
        period = f"season:{span.dates.season_id}"
        below = where_done_chain[: list(where_done_chain).index(span.organisation_id) + 1]
        boards += [(f"org:{node}", period) for node in below]
        boards += [(scope, period) for scope in other_scopes]
    return boards


def frozen_order(standings: Sequence[tuple[int, int, bool]]) -> list[tuple[int, int | None]]:
    """(member, score, visible) of one board → (member, rank) in board
    order: higher score first, at equal scores the higher member id first
    (as Redis orders a sorted set read high to low). Hidden members get no
    rank and do not take one from others."""
    ordered = sorted(standings, key=lambda row: (row[1], str(row[0])), reverse=True)
    ranked: list[tuple[int, int | None]] = []
    rank = 0
    for member_id, _, visible in ordered:
        if visible:
            rank += 1
            ranked.append((member_id, rank))
        else:
            ranked.append((member_id, None))
    return ranked
