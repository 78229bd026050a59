"""From the ledger to the boards: a cursor over committed award entries.

**Which entries, in which order.** The ledger's hash chain (``ledger/chain.py``)
already lists every *committed* entry exactly once, in a gapless order: the
sealer appends blocks after commit, and an entry that commits late (an id
below sealed ones) lands in a later block. The feed follows those blocks
(``ledger_chain_block.id`` ascending); an entry's chain position (``seq``)
orders every change. So the boards never see an uncommitted entry, never
miss a late one, and never touch the posting transaction. The lag is the
sealer's (every 2 s, run by the feed itself first) plus one feed run.

**Exactly-once.** ``feed_once`` reads the feed's cursor (the last block
applied, in Redis), derives the counted changes of the next blocks
(``earnings.py``), applies them scope by scope with ``redis_boards.apply_scopes``
(each change skipped if its ``seq`` is at or below the scope's), and only
then moves the cursor forward. A run that dies half-way is repeated whole
by the next, and the scopes it had already reached skip what they applied.

**Scopes of an award.** Every organisation node from where the work was
done (the entry's ``metadata.organisation_id``; the member's home when it
has none) up to the root; every team the member had joined by the time of
the award; the campaign that paid it (``metadata.campaign_id``). A
reversal moves exactly the boards of the award it reverses.

Runs under ``lb:{feed}:lock`` (one run at a time; the rebuild takes it too).
If Redis lost everything the cursor is gone too, and the next run replays
the whole chain: the boards come back by themselves (``fengling
leaderboards rebuild`` does it faster).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from redis.asyncio import Redis

from community.organisations import ancestor_chains
from core.fixed_sql import Row, fetch
from leaderboards import sql
from leaderboards.earnings import (
    COUNTED_KINDS,
    REVERSAL_KIND,
    Change,
    credited_wallet,
    is_counted_award,
)
from leaderboards.keys import FEED_LOCK_KEY, ScopeKind, scope_name
from leaderboards.models import Visibility
from leaderboards.periods import china_date, periods_of_day
from leaderboards.redis_boards import (
    BoardChange,
    advance_feed,
    apply_scopes,
    feed_position,
    remember_scopes,
)
from leaderboards.season_rules import SeasonSpan, season_boards
from leaderboards.seasons import open_season_spans
from ledger.chain import Block, blocks_after, seal_pending

# Blocks per step: a sealing run makes one block of up to 1,000 entries, and
# a step's queries bind every entry id of its blocks (SQLite binds at most
# 32,766 parameters a statement).
BLOCKS_PER_RUN = 5
# Longer than any run; a run that outlives it is still safe (exactly-once
# does not rest on the lock), merely no longer alone.
LOCK_SECONDS = 120
LOCK_WAIT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class _Award:
    entry_id: int
    member_id: int
    amount_minor: int
    created_at: datetime
    organisation_id: int | None
    campaign_id: int | None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _metadata(value: Any) -> Mapping[str, Any]:
    if isinstance(value, str):
        loaded = json.loads(value or "{}")
        return loaded if isinstance(loaded, dict) else {}
    return value if isinstance(value, dict) else {}


def _optional_int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


def _instant(value: Any) -> datetime:
    """A timestamp as the driver returns it (SQLite may give its stored
    text when a statement's column has no declared type), made aware."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return _aware(value)


def _wallet_credits(rows: Iterable[Row]) -> dict[int, tuple[int, int]]:
    """entry id → (member, hundredths) it credited to a volunteer wallet,
    from (entry, amount, account code) legs."""
    legs: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for row in rows:
        legs[int(row["entry"])].append((str(row["code"]), int(row["amount_minor"])))
    credits: dict[int, tuple[int, int]] = {}
    for entry_id, entry_legs in legs.items():
        credited = credited_wallet(entry_legs)
        if credited is not None:
            credits[entry_id] = credited
    return credits


_COUNTED_KINDS = sorted(COUNTED_KINDS)
_COUNTED_AND_REVERSAL_KINDS = sorted(COUNTED_KINDS | {REVERSAL_KIND})


async def _awards_of(rows: Iterable[Row]) -> dict[int, _Award]:
    """The counted awards among entry ``rows`` (id, kind, metadata,
    created_at): those that count and credit a volunteer wallet."""
    counted: dict[int, tuple[Row, Mapping[str, Any]]] = {}
    for row in rows:
        if row["kind"] not in COUNTED_KINDS:
            continue
        metadata = _metadata(row["metadata"])
        if is_counted_award(row["kind"], metadata):
            counted[int(row["id"])] = (row, metadata)
    if not counted:
        return {}
    credits = _wallet_credits(await fetch(sql.POSTING_LEGS(sorted(counted))))
    awards: dict[int, _Award] = {}
    for entry_id, (row, metadata) in counted.items():
        if entry_id not in credits:
            continue
        member_id, amount_minor = credits[entry_id]
        awards[entry_id] = _Award(
            entry_id=entry_id,
            member_id=member_id,
            amount_minor=amount_minor,
            created_at=_instant(row["created_at"]),
            organisation_id=_optional_int(metadata.get("organisation_id")),
            campaign_id=_optional_int(metadata.get("campaign_id")),
        )
    return awards


async def _awards(entry_ids: Sequence[int]) -> dict[int, _Award]:
    """The counted awards among ``entry_ids``."""
    if not entry_ids:
        return {}
    return await _awards_of(await fetch(sql.ENTRIES_OF_KINDS(list(entry_ids), _COUNTED_KINDS)))


@dataclass(frozen=True, slots=True)
class _Counted:
    """A counted entry at its chain position: the award it adds (sign +1)
    or takes back (sign −1), and when the entry itself was made."""

    seq: int
    award: _Award
    sign: int
    changed_at: datetime


async def _counted_entries(positions: Sequence[tuple[int, int]]) -> list[_Counted]:
    """(seq, entry id) in chain order → the counted ones among them."""
    entry_ids = [entry_id for _, entry_id in positions]
    if not entry_ids:
        return []
    rows = await fetch(sql.ENTRIES_OF_KINDS(entry_ids, _COUNTED_AND_REVERSAL_KINDS))
    awards = await _awards_of(rows)
    reversals = {int(row["id"]): row for row in rows if row["kind"] == REVERSAL_KIND and row["reverses"] is not None}
    reversed_awards = await _awards(sorted({int(row["reverses"]) for row in reversals.values()}))
    counted: list[_Counted] = []
    for seq, entry_id in positions:
        if entry_id in awards:
            award = awards[entry_id]
            counted.append(_Counted(seq=seq, award=award, sign=1, changed_at=award.created_at))
        elif entry_id in reversals and int(reversals[entry_id]["reverses"]) in reversed_awards:
            row = reversals[entry_id]
            counted.append(
                _Counted(
                    seq=seq,
                    award=reversed_awards[int(row["reverses"])],
                    sign=-1,
                    changed_at=_instant(row["created_at"]),
                )
            )
    return counted


async def _homes(member_ids: Iterable[int]) -> dict[int, int]:
    wanted = sorted(set(member_ids))
    if not wanted:
        return {}
    return {int(row["id"]): int(row["home_organisation"]) for row in await fetch(sql.HOMES(wanted))}


async def _team_joins(member_ids: Iterable[int]) -> dict[int, list[tuple[int, datetime, datetime | None]]]:
    """member → (team, joined_at, left_at or None) of every membership,
    current (``TeamMember``) and ended (``PastTeamMember``), so an award
    counts for the teams its member was in when it was made, whenever the
    feed or a rebuild reads it. Both ends are inclusive: an award stamped
    at the very instant of leaving may have been fed while the member was
    still in the team, so a rebuild counts it too. (An award stamped after
    a removal that commits later still is fed as the team's; the window is
    one transaction long, and ``rebuild --scope team:<id>`` settles it.)"""
    wanted = sorted(set(member_ids))
    joins: dict[int, list[tuple[int, datetime, datetime | None]]] = defaultdict(list)
    if wanted:
        for row in await fetch(sql.TEAM_JOINS(wanted)):
            joins[int(row["member"])].append((int(row["team"]), _instant(row["joined_at"]), None))
        for row in await fetch(sql.PAST_TEAM_JOINS(wanted)):
            joins[int(row["member"])].append((int(row["team"]), _instant(row["joined_at"]), _instant(row["left_at"])))
    return joins


# Members read per statement: a rebuild asks for every member on any board
# (a million at full size); one array a statement, a bounded one.
VISIBILITY_CHUNK = 10_000


async def visibilities(member_ids: Iterable[int]) -> dict[int, tuple[int, bool]]:
    """member → (visibility version, visible on boards), read
    ``VISIBILITY_CHUNK`` members at a time, however many are asked for."""
    wanted = sorted(set(member_ids))
    found: dict[int, tuple[int, bool]] = {}
    for start in range(0, len(wanted), VISIBILITY_CHUNK):
        for row in await fetch(sql.VISIBILITIES(wanted[start : start + VISIBILITY_CHUNK])):
            visible = row["ranking_visibility"] != Visibility.HIDDEN.value
            found[int(row["id"])] = (int(row["ranking_visibility_version"]), visible)
    return found


async def changes_at(positions: Sequence[tuple[int, int]]) -> list[Change]:
    """The board changes of the entries at ``positions`` ((seq, entry id),
    chain order): the one derivation the feed and the rebuild share.

    An award's boards depend only on where it was done, its member's teams
    then, its campaign and its China date; awards alike in those four share
    one tuple of boards (most of a page does), worked out once."""
    counted = await _counted_entries(positions)
    members = {item.award.member_id for item in counted}
    homes = await _homes(members)
    joins = await _team_joins(members)
    where_done = {item.award.organisation_id or homes.get(item.award.member_id, 0) for item in counted} - {0}
    chains = await ancestor_chains(where_done)
    spans = await open_season_spans()
    boards_of: dict[tuple[int | None, tuple[int, ...], int | None, date], tuple[tuple[str, str], ...]] = {}
    changes: list[Change] = []
    for item in counted:
        award = item.award
        done_at = award.organisation_id or homes.get(award.member_id)
        teams = tuple(
            sorted(
                {
                    team
                    for team, joined_at, left_at in joins.get(award.member_id, ())
                    if joined_at <= award.created_at and (left_at is None or award.created_at <= left_at)
                }
            )
        )
        day = china_date(award.created_at)
        key = (done_at, teams, award.campaign_id, day)
        boards = boards_of.get(key)
        if boards is None:
            boards = boards_of[key] = _boards(spans, chains.get(done_at or 0, []), teams, award.campaign_id, day)
        changes.append(
            Change(
                seq=item.seq,
                member_id=award.member_id,
                delta_minor=item.sign * award.amount_minor,
                changed_at=item.changed_at,
                boards=boards,
            )
        )
    return changes


def _boards(
    spans: Sequence[SeasonSpan], chain: Sequence[int], teams: Sequence[int], campaign_id: int | None, day: date
) -> tuple[tuple[str, str], ...]:
    """The boards of an award done at ``chain[0]`` (its ancestors after),
    by a member in ``teams``, paid by ``campaign_id``, on China ``day``."""
    others = [scope_name(ScopeKind.TEAM, team) for team in teams]
    if campaign_id is not None:
        others.append(scope_name(ScopeKind.CAMPAIGN, campaign_id))
    scopes = [scope_name(ScopeKind.ORGANISATION, node) for node in chain] + others
    periods = periods_of_day(day)
    # Seasons not yet frozen (a frozen one's board is stored and never moves).
    in_seasons = season_boards(spans, day, chain, others)
    return tuple((scope, period) for scope in scopes for period in periods) + tuple(in_seasons)


def positions_of(blocks: Sequence[Block]) -> list[tuple[int, int]]:
    """(chain position, entry id) of every entry of ``blocks``, in chain order."""
    return [(block.first_seq + index, entry_id) for block in blocks for index, entry_id in enumerate(block.entry_ids)]


def by_scope(changes: Sequence[Change], shown: Mapping[int, tuple[int, bool]]) -> dict[str, list[BoardChange]]:
    """The changes as each scope's script takes them, chain order kept."""
    grouped: dict[str, list[BoardChange]] = defaultdict(list)
    for change in changes:
        version, visible = shown.get(change.member_id, (0, True))
        minute = change.minute
        for scope, period in change.boards:
            grouped[scope].append(
                BoardChange(
                    seq=change.seq,
                    member_id=change.member_id,
                    delta_minor=change.delta_minor,
                    minute=minute,
                    period=period,
                    visibility_version=version,
                    visible=visible,
                )
            )
    return grouped


async def apply_changes(redis: Redis, changes: Sequence[Change]) -> None:
    scopes_by_member: dict[int, set[str]] = defaultdict(set)
    for change in changes:
        scopes_by_member[change.member_id].update(scope for scope, _ in change.boards)
    # Remembered before visibility is read (and so before the points land): a
    # visibility change committed after the read finds every scope and its
    # higher version wins there; one committed before it is in ``shown``.
    await remember_scopes(redis, scopes_by_member)
    shown = await visibilities(scopes_by_member)
    await apply_scopes(redis, by_scope(changes, shown))


@contextlib.asynccontextmanager
async def feed_lock(redis: Redis, *, wait_seconds: float = 0.0) -> AsyncIterator[bool]:
    """Hold ``lb:{feed}:lock`` (yields False if another holder kept it
    longer than ``wait_seconds``)."""
    token = secrets.token_hex(16)
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while not await redis.set(FEED_LOCK_KEY, token, nx=True, ex=LOCK_SECONDS):
        if asyncio.get_running_loop().time() >= deadline:
            yield False
            return
        await asyncio.sleep(0.05)
    try:
        yield True
    finally:
        await redis.eval(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
            1,
            FEED_LOCK_KEY,
            token,
        )


async def feed_step(redis: Redis) -> int:
    """Apply the next blocks after the cursor (the caller holds the lock);
    the number of entries read."""
    block_id, _ = await feed_position(redis)
    blocks = await blocks_after(block_id, BLOCKS_PER_RUN)
    if not blocks:
        return 0
    positions = positions_of(blocks)
    await apply_changes(redis, await changes_at(positions))
    await advance_feed(redis, blocks[-1].id, blocks[-1].head_seq)
    return len(positions)


async def catch_up(redis: Redis) -> int:
    """Apply every sealed block after the cursor (the caller holds the lock)."""
    total = 0
    while done := await feed_step(redis):
        total += done
    return total


async def feed_once(redis: Redis, *, seal: bool = True) -> int:
    """Seal what committed, then bring the boards up to the chain: the
    background job's run. 0 if another run holds the lock."""
    if seal:
        await seal_pending()
    async with feed_lock(redis) as locked:
        if not locked:
            return 0
        return await catch_up(redis)
