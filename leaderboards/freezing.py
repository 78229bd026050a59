"""Freezing a season: after its last day its board never changes.

**When**: ``season_rules.freeze_due`` (a few minutes after the last China
day ends), by the background job, ``fengling leaderboards freeze-seasons``,
or the first read of the season's board after that moment; whichever comes
first does it, once (the season row is locked and ``frozen_at`` checked).

**What is stored**: under the feed's lock, the feed is brought to the
chain head, then every board of the season is computed from the ledger's
chain (``rebuild.boards_through``, the rebuild's own derivation: Redis is
never the source of truth) and written to ``leaderboards_season_standing``
with each member's rank among the members shown at that moment, and
``frozen_at`` set, in one transaction with its audit row.

**After**: the feed stops placing awards in the season
(``seasons.open_season_spans`` leaves frozen ones out), so a late reversal
of an in-season award moves no frozen board (it still moves the week,
month and all-time boards of its award); reads come from the stored rows
(``reading.py``). A member who leaves the rankings after freezing is not
shown (their row and the others' ranks are kept as frozen).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from redis.asyncio import Redis

from community import audit
from core.clock import utc_now
from core.database import in_write_transaction, lock_row
from leaderboards.earnings import Board
from leaderboards.feed import LOCK_WAIT_SECONDS, catch_up, feed_lock, visibilities
from leaderboards.models import SeasonRecord
from leaderboards.rebuild import boards_through
from leaderboards.redis_boards import feed_position
from leaderboards.scores import compose
from leaderboards.season_rules import freeze_due, frozen_order
from leaderboards.seasons import find_season, unfrozen_seasons
from leaderboards.tables import Season, SeasonStanding
from ledger.chain import seal_pending

FREEZER_REF = "job:season-freeze"
INSERT_BATCH = 500


async def due_seasons(now: datetime) -> list[int]:
    return sorted(season.id for season in await unfrozen_seasons() if freeze_due(season.last_day, now))


def _standings(
    season_id: int, boards: dict[tuple[str, str], Board], shown: dict[int, tuple[int, bool]]
) -> list[SeasonStanding]:
    period = f"season:{season_id}"
    rows: list[SeasonStanding] = []
    for (scope, board_period), board in sorted(boards.items()):
        if board_period != period:
            continue
        scores = {member: compose(points, minute) for member, (points, minute) in board.items()}
        order = frozen_order([(member, score, shown.get(member, (0, True))[1]) for member, score in scores.items()])
        rows += [
            SeasonStanding(
                season=season_id,
                scope=scope,
                member=member,
                rank=rank,
                points_minor=board[member][0],
                score=scores[member],
            )
            for member, rank in order
        ]
    return rows


async def _store(season_id: int, rows: Sequence[SeasonStanding], now: datetime) -> bool:
    async def work() -> bool:
        locked = await lock_row(Season, season_id, Season.frozen_at)
        if locked is None or locked["frozen_at"] is not None:
            return False  # deleted, or frozen by another run
        for start in range(0, len(rows), INSERT_BATCH):
            await SeasonStanding.insert(*rows[start : start + INSERT_BATCH]).run()
        await Season.update({Season.frozen_at: now}).where(Season.id == season_id).run()
        await audit.record(
            FREEZER_REF,
            "leaderboards.season_freeze",
            f"season:{season_id}",
            standings=len(rows),
            boards=len({row.scope for row in rows}),
        )
        return True

    return await in_write_transaction(work)


async def freeze_due_seasons(redis: Redis, *, now: datetime | None = None) -> list[int]:
    """Freeze every season whose end has passed; the ids frozen by this run
    (none if another run holds the feed's lock for long)."""
    now = now or utc_now()
    due = await due_seasons(now)
    if not due:
        return []
    await seal_pending()
    frozen: list[int] = []
    async with feed_lock(redis, wait_seconds=LOCK_WAIT_SECONDS) as locked:
        if not locked:
            return []
        await catch_up(redis)
        cursor_block, _ = await feed_position(redis)
        boards = await boards_through(cursor_block)
        shown = await visibilities({member for board in boards.values() for member in board})
        for season_id in due:
            stored = await _store(season_id, _standings(season_id, boards, shown), now)
            frozen += [season_id] if stored else []
    return frozen


async def frozen_if_due(redis: Redis, season: SeasonRecord, now: datetime) -> SeasonRecord:
    """The season, frozen first if its end has passed and nobody froze it yet."""
    if season.frozen_at is None and freeze_due(season.last_day, now):
        await freeze_due_seasons(redis, now=now)
        return await find_season(season.id) or season
    return season
