"""The composite score a board sorts by (pure).

A Redis sorted-set score is an IEEE double: integers are exact only up to
2^53. One score carries both the points and who reached them first:

    score = points_minor × 2^24 + (2^24 − 1 − minute_reached)

- ``points_minor``: points earned in the period, in hundredths (the ledger's
  minor units), in ``[−2^28, 2^28)``: up to 2,684,354.55 points, above
  any volunteer's lifetime earnings at tens of points a day for centuries.
  So ``|score| < 2^52 < 2^53``: every score is an exact integer in a double
  (in Python, in Redis and in Redis's Lua).
- ``minute_reached``: whole minutes from ``EPOCH`` (2026-01-01 00:00 China
  time) to the ledger time of the entry that last changed the member's
  points, in ``[0, 2^24)``: until 2057-11 (``LAST_MINUTE_AT``). Subtracted
  from the maximum so that, at equal points, the *earlier* minute ranks
  higher in a descending board. Times before the epoch count as minute 0,
  times after the last minute as the last one (ties then fall to the
  member id, as for two members reaching a score in the same minute).

Ties within the same minute are broken by Redis's order of equal scores
(the member id as text): stable and the same on every read and rebuild.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from leaderboards.periods import CHINA

TIME_BITS = 24
TIME_SPAN = 1 << TIME_BITS
LAST_MINUTE = TIME_SPAN - 1
POINTS_LIMIT = 1 << 28  # |points_minor| < 2^28, so |score| < 2^52
EPOCH = datetime(2026, 1, 1, tzinfo=CHINA).astimezone(UTC)
LAST_MINUTE_AT = EPOCH + timedelta(minutes=LAST_MINUTE)


class ScoreOutOfRange(ValueError):
    """Points beyond what a score can carry exactly."""


def minute_of(at: datetime) -> int:
    """Minutes from ``EPOCH`` to ``at``, clamped to the score's range."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    minutes = int((at - EPOCH).total_seconds() // 60)
    return min(max(minutes, 0), LAST_MINUTE)


def compose(points_minor: int, minute_reached: int) -> int:
    """The sortable score of ``points_minor`` reached at ``minute_reached``."""
    if not -POINTS_LIMIT <= points_minor < POINTS_LIMIT:
        raise ScoreOutOfRange(f"{points_minor} hundredths do not fit a board score")
    if not 0 <= minute_reached <= LAST_MINUTE:
        raise ScoreOutOfRange(f"minute {minute_reached} is outside the score's clock")
    return points_minor * TIME_SPAN + (LAST_MINUTE - minute_reached)


@dataclass(frozen=True, slots=True)
class Score:
    points_minor: int
    minute_reached: int

    @classmethod
    def of(cls, score: float | int) -> Score:
        """Split a score read back from Redis (a float, exact by construction)."""
        value = int(score)
        points_minor, rest = divmod(value, TIME_SPAN)
        return cls(points_minor=points_minor, minute_reached=LAST_MINUTE - rest)

    @property
    def reached_at(self) -> datetime:
        return EPOCH + timedelta(minutes=self.minute_reached)
