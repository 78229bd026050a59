"""Rebuild boards from the ledger: ``fengling leaderboards rebuild [--scope] [--period]``.

The ledger is the source of truth; this recomputes boards from every
committed entry in chain order (``feed.changes_at``, the derivation the
feed uses, folded by ``earnings.apply_change``, the rule the feed's script
applies) and writes each board whole (``redis_boards.replace_board``).

Runs under the feed's lock, so no feed run interleaves:

- **everything** (no filter): every ``lb:`` key is removed first, the
  boards are written from the whole chain, each scope's position and the
  feed's cursor set to the chain's head. This is the repair after Redis
  lost its data (or after someone edited it by hand).
- **a scope and/or a period**: the feed is first brought up to the chain
  head, so every scope has applied exactly the blocks up to the cursor;
  the chosen boards are then rewritten from the chain up to that same
  cursor. Scope positions stay as they are (still true), so later feed
  runs carry on exactly-once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from leaderboards.earnings import Board, apply_change
from leaderboards.feed import LOCK_WAIT_SECONDS, catch_up, changes_at, feed_lock, positions_of, visibilities
from leaderboards.keys import FEED_LOCK_KEY, PREFIX
from leaderboards.redis_boards import (
    Standing,
    advance_feed,
    feed_position,
    remember_scopes,
    replace_board,
    text,
)
from leaderboards.scores import compose
from ledger.chain import blocks_after
from ledger.tables import LedgerChainBlock

BLOCKS_PER_PAGE = 20  # ≤ 20,000 entry ids a page: the reads send them as one array (leaderboards/sql.py)
Progress = Callable[[int, int], None]  # (blocks read, blocks in all)


class RebuildBusy(RuntimeError):
    """The feed's lock stayed taken (another rebuild, or a stuck run)."""


@dataclass(frozen=True, slots=True)
class RebuildResult:
    boards: int
    entries: int
    through_block: int


async def _fold_chain(
    through_block: int | None, progress: Progress | None
) -> tuple[dict[tuple[str, str], Board], int, int, int]:
    """Every board from the chain (up to ``through_block``; None: all):
    the boards, the entries read, and the last block's id and head."""
    total = await LedgerChainBlock.count().run()
    boards: dict[tuple[str, str], Board] = {}
    after, last_seq, read_blocks, entries = 0, 0, 0, 0
    while True:
        blocks = [
            block
            for block in await blocks_after(after, BLOCKS_PER_PAGE)
            if through_block is None or block.id <= through_block
        ]
        if not blocks:
            break
        positions = positions_of(blocks)
        for change in await changes_at(positions):
            apply_change(boards, change)
        after, last_seq = blocks[-1].id, blocks[-1].head_seq
        read_blocks += len(blocks)
        entries += len(positions)
        if progress is not None:
            progress(read_blocks, total)
    return boards, entries, after, last_seq


async def _remove_all(redis: Redis) -> None:
    batch: list[bytes] = []
    async for key in redis.scan_iter(match=f"{PREFIX}:{{*", count=1000):
        if key.decode() != FEED_LOCK_KEY:
            batch.append(key)
        if len(batch) >= 500:
            await redis.unlink(*batch)
            batch = []
    if batch:
        await redis.unlink(*batch)


async def _write(redis: Redis, boards: dict[tuple[str, str], Board], *, through_seq: int) -> None:
    # Scopes are remembered before visibility is read: a change committed
    # after the read then finds every scope (``VISIBILITY`` writes the scope's
    # ``vis`` hash, which staging consults, and bumps its generation, which
    # makes the swap stage again); one committed before it is in ``shown``.
    scopes: dict[int, set[str]] = defaultdict(set)
    for (scope, _), board in boards.items():
        for member_id in board:
            scopes[member_id].add(scope)
    await remember_scopes(redis, scopes)
    shown = await visibilities(scopes)
    for (scope, period), board in sorted(boards.items()):
        standings = []
        for member_id, (points, minute) in sorted(board.items()):
            version, visible = shown.get(member_id, (0, True))
            standings.append(Standing(member_id, points, compose(points, minute), version, visible))
        await replace_board(redis, scope, period, standings, through_seq=through_seq)


async def _existing_boards(redis: Redis, scope: str | None) -> set[tuple[str, str]]:
    """Boards Redis has (for a filtered rebuild to empty those the ledger no longer fills)."""
    found: set[tuple[str, str]] = set()
    pattern = f"{PREFIX}:{{{scope}}}:periods" if scope is not None else f"{PREFIX}:{{*}}:periods"
    async for key in redis.scan_iter(match=pattern, count=1000):
        name = key.decode()
        key_scope = name[len(PREFIX) + 2 : name.rindex("}")]
        for period in await redis.smembers(name):
            found.add((key_scope, text(period)))
    return found


async def rebuild(
    redis: Redis, *, scope: str | None = None, period: str | None = None, progress: Progress | None = None
) -> RebuildResult:
    async with feed_lock(redis, wait_seconds=LOCK_WAIT_SECONDS) as locked:
        if not locked:
            raise RebuildBusy("another rebuild or feed run holds the leaderboards' lock; try again")
        if scope is None and period is None:
            boards, entries, block_id, seq = await _fold_chain(None, progress)
            await _remove_all(redis)
            await _write(redis, boards, through_seq=seq)
            if block_id:
                await advance_feed(redis, block_id, seq)
            return RebuildResult(boards=len(boards), entries=entries, through_block=block_id)
        await catch_up(redis)
        cursor_block, _ = await feed_position(redis)
        boards, entries, _, _ = await _fold_chain(cursor_block, progress)

        def chosen(board: tuple[str, str]) -> bool:
            return (scope is None or board[0] == scope) and (period is None or board[1] == period)

        picked = {board: members for board, members in boards.items() if chosen(board)}
        for gone in {board for board in await _existing_boards(redis, scope) if chosen(board)} - set(picked):
            await replace_board(redis, gone[0], gone[1], [], through_seq=0)
        await _write(redis, picked, through_seq=0)
        return RebuildResult(boards=len(picked), entries=entries, through_block=cursor_block)


async def boards_through(through_block: int) -> dict[tuple[str, str], Board]:
    """Every board as the ledger's chain makes it up to ``through_block``
    (the caller holds the feed's lock): what freezing a season stores."""
    boards, _, _, _ = await _fold_chain(through_block, None)
    return boards
