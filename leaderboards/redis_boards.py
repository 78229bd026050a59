"""The boards in Redis: the scripts that change them, atomically per scope.

Redis is never the source of truth: everything here can be rebuilt from the
ledger (``leaderboards/rebuild.py``). Key names: ``leaderboards/keys.py``.

**Exactly-once.** Every change carries the chain position (``seq``) of the
ledger entry that made it. ``APPLY`` runs one scope's changes in one Lua
script (atomic, all keys in the scope's hash slot): it skips every change
at or below the scope's ``seq`` key and raises that key to the highest one
applied. A change applied twice (a feed run that died before moving its
cursor, two runs at once) is skipped the second time; one never applied
is still above the scope's ``seq`` when its run is repeated. The feed's
own cursor only moves forward (``ADVANCE``).

**Visibility.** Each change carries the member's visibility as the
database had it, with its version (``community_member.ranking_visibility_version``);
the scope's ``vis`` hash keeps the highest version seen, and only a
visible member is in a board's sorted set. A visibility change is applied
to each of the member's scopes by ``VISIBILITY`` (the same highest-version
rule), so the two paths may run in any order and end the same.

Scores are written as integer text (``%.0f``): Lua's default number format
keeps 14 digits, fewer than a score has.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from leaderboards.keys import (
    FEED_KEY,
    all_key,
    board_key,
    member_scopes_key,
    periods_key,
    replaced_key,
    seq_key,
    staged_all_key,
    staged_board_key,
    sum_key,
    visibility_generation_key,
    visibility_key,
)

APPLY_SCRIPT = """
local applied = tonumber(redis.call('GET', KEYS[1]) or '0')
local count = tonumber(ARGV[1])
local top = applied
local SPAN = 16777216
local LAST = 16777215
for i = 0, count - 1 do
  local a = 2 + i * 7
  local seq = tonumber(ARGV[a])
  if seq > applied then
    local member = ARGV[a + 1]
    local delta = tonumber(ARGV[a + 2])
    local minute = tonumber(ARGV[a + 3])
    local version = tonumber(ARGV[a + 5])
    local flag = ARGV[a + 6]
    local zkey = KEYS[4 + i * 3]
    local hkey = KEYS[5 + i * 3]
    local skey = KEYS[6 + i * 3]
    local visible = flag == '1'
    local stored = redis.call('HGET', KEYS[2], member)
    local stored_version = -1
    local stored_flag = flag
    if stored then
      local v, f = string.match(stored, '^(%d+):(%d)$')
      stored_version = tonumber(v)
      stored_flag = f
    end
    if stored_version >= version then
      visible = stored_flag == '1'
    else
      redis.call('HSET', KEYS[2], member, version .. ':' .. flag)
    end
    local old = redis.call('HGET', hkey, member)
    local points = 0
    if old then points = math.floor(tonumber(old) / SPAN) end
    points = points + delta
    redis.call('INCRBY', skey, ARGV[a + 2])
    if points == 0 then
      redis.call('HDEL', hkey, member)
      redis.call('ZREM', zkey, member)
    else
      local score = string.format('%.0f', points * SPAN + (LAST - minute))
      redis.call('HSET', hkey, member, score)
      if visible then
        redis.call('ZADD', zkey, score, member)
      else
        redis.call('ZREM', zkey, member)
      end
    end
    redis.call('SADD', KEYS[3], ARGV[a + 4])
    if seq > top then top = seq end
  end
end
if top > applied then redis.call('SET', KEYS[1], string.format('%.0f', top)) end
return top
"""

VISIBILITY_SCRIPT = """
if redis.call('SCARD', KEYS[2]) ~= tonumber(ARGV[4]) then return -1 end
local member = ARGV[1]
local version = tonumber(ARGV[2])
local flag = ARGV[3]
local stored = redis.call('HGET', KEYS[1], member)
if stored then
  local v = string.match(stored, '^(%d+):')
  if tonumber(v) >= version then return 0 end
end
redis.call('HSET', KEYS[1], member, version .. ':' .. flag)
redis.call('INCR', KEYS[3])
for i = 4, #KEYS, 2 do
  if flag == '1' then
    local score = redis.call('HGET', KEYS[i + 1], member)
    if score then redis.call('ZADD', KEYS[i], score, member) end
  else
    redis.call('ZREM', KEYS[i], member)
  end
end
return 1
"""

STAGE_SCRIPT = """
local count = tonumber(ARGV[1])
for i = 0, count - 1 do
  local a = 2 + i * 3
  local member = ARGV[a]
  local score = ARGV[a + 1]
  local version = tonumber(ARGV[a + 2])
  local flag = '1'
  if version < 0 then flag = '0'; version = -version - 1 end
  local stored = redis.call('HGET', KEYS[1], member)
  if stored then
    local v, f = string.match(stored, '^(%d+):(%d)$')
    if tonumber(v) >= version then flag = f else redis.call('HSET', KEYS[1], member, version .. ':' .. flag) end
  else
    redis.call('HSET', KEYS[1], member, version .. ':' .. flag)
  end
  redis.call('HSET', KEYS[3], member, score)
  if flag == '1' then redis.call('ZADD', KEYS[2], score, member) end
end
return count
"""

SWAP_SCRIPT = """
if (redis.call('GET', KEYS[9]) or '0') ~= ARGV[1] then
  redis.call('DEL', KEYS[7], KEYS[8])
  return -1
end
local count = tonumber(ARGV[3])
for pair = 0, 1 do
  local live = KEYS[1 + pair]
  local staged = KEYS[7 + pair]
  if redis.call('EXISTS', live) == 1 then
    redis.call('RENAME', live, KEYS[10])
    redis.call('UNLINK', KEYS[10])
  end
  if redis.call('EXISTS', staged) == 1 then redis.call('RENAME', staged, live) end
end
if count > 0 then
  redis.call('SET', KEYS[3], ARGV[4])
  redis.call('SADD', KEYS[5], ARGV[2])
else
  redis.call('DEL', KEYS[3])
  redis.call('SREM', KEYS[5], ARGV[2])
end
if tonumber(ARGV[5]) > tonumber(redis.call('GET', KEYS[6]) or '0') then
  redis.call('SET', KEYS[6], ARGV[5])
end
return count
"""

ADVANCE_SCRIPT = """
local block = tonumber(redis.call('HGET', KEYS[1], 'block') or '0')
if tonumber(ARGV[1]) > block then
  redis.call('HSET', KEYS[1], 'block', ARGV[1], 'seq', ARGV[2])
  return 1
end
return 0
"""


def text(value: bytes | str) -> str:
    """A Redis reply as text (the client returns bytes)."""
    return value.decode() if isinstance(value, bytes) else value


@dataclass(frozen=True, slots=True)
class BoardChange:
    """One change on one board of a scope, as the script takes it."""

    seq: int
    member_id: int
    delta_minor: int
    minute: int
    period: str
    visibility_version: int
    visible: bool


@dataclass(frozen=True, slots=True)
class Standing:
    """A member on a board as written by a rebuild."""

    member_id: int
    points_minor: int
    score: int
    visibility_version: int
    visible: bool


APPLY_PIPELINE = 200  # scope scripts per round trip


def _apply_arguments(scope: str, changes: Sequence[BoardChange]) -> tuple[list[str], list[str | int]]:
    keys = [seq_key(scope), visibility_key(scope), periods_key(scope)]
    args: list[str | int] = [len(changes)]
    for change in changes:
        keys += [board_key(scope, change.period), all_key(scope, change.period), sum_key(scope, change.period)]
        args += [
            change.seq,
            change.member_id,
            change.delta_minor,
            change.minute,
            change.period,
            change.visibility_version,
            "1" if change.visible else "0",
        ]
    return keys, args


async def apply_scope(redis: Redis, scope: str, changes: Sequence[BoardChange]) -> int:
    """Apply one scope's changes (in chain order), each at most once; the
    scope's applied position afterwards."""
    keys, args = _apply_arguments(scope, changes)
    return int(await redis.eval(APPLY_SCRIPT, len(keys), *keys, *args))


async def apply_scopes(redis: Redis, changes_by_scope: Mapping[str, Sequence[BoardChange]]) -> None:
    """``apply_scope`` for many scopes, ``APPLY_PIPELINE`` scripts per round
    trip. Each script is still atomic for its scope, and the guarantee is
    the same: a script that did not run is applied by the next run."""
    work = list(changes_by_scope.items())
    for start in range(0, len(work), APPLY_PIPELINE):
        pipe = redis.pipeline(transaction=False)
        for scope, changes in work[start : start + APPLY_PIPELINE]:
            keys, args = _apply_arguments(scope, changes)
            pipe.eval(APPLY_SCRIPT, len(keys), *keys, *args)
        await pipe.execute()


STAGE_CHUNK = 2_000  # members per staging script: a few ms of Redis time each, never a long block
REPLACE_ATTEMPTS = 5


async def replace_board(
    redis: Redis, scope: str, period: str, standings: Sequence[Standing], *, through_seq: int
) -> None:
    """Write one board whole (a rebuild), replacing what Redis had.

    A board may hold a million members, and one script that writes them all
    would stop Redis for seconds (``BUSY`` for every other client). So the
    board is staged beside the live one in chunks of ``STAGE_CHUNK``
    (readers keep seeing the old board meanwhile), then swapped in by one
    short script: two RENAMEs, the old values unlinked (freed in the
    background). A visibility change that lands while staging bumps the
    scope's generation (``VISIBILITY``), and the swap refuses a board staged
    under an older generation; the board is then staged again. Feed runs
    cannot interleave: the rebuild holds the feed's lock.
    """
    staged_board, staged_all = staged_board_key(scope, period), staged_all_key(scope, period)
    total = sum(standing.points_minor for standing in standings)
    keys = [
        board_key(scope, period),
        all_key(scope, period),
        sum_key(scope, period),
        visibility_key(scope),
        periods_key(scope),
        seq_key(scope),
        staged_board,
        staged_all,
        visibility_generation_key(scope),
        replaced_key(scope),
    ]
    for _ in range(REPLACE_ATTEMPTS):
        generation = text(await redis.get(visibility_generation_key(scope)) or b"0")
        await redis.unlink(staged_board, staged_all)
        for start in range(0, len(standings), STAGE_CHUNK):
            args: list[str | int] = [len(standings[start : start + STAGE_CHUNK])]
            for standing in standings[start : start + STAGE_CHUNK]:
                version = standing.visibility_version if standing.visible else -standing.visibility_version - 1
                args += [standing.member_id, standing.score, version]
            await redis.eval(STAGE_SCRIPT, 3, visibility_key(scope), staged_board, staged_all, *args)
        swapped = await redis.eval(
            SWAP_SCRIPT, len(keys), *keys, generation, period, len(standings), total, through_seq
        )
        if int(swapped) >= 0:
            return
    raise RuntimeError(f"visibility kept changing in {scope}; run `fengling leaderboards rebuild --scope {scope}`")


VISIBILITY_ATTEMPTS = 5


async def apply_visibility(redis: Redis, scope: str, member_id: int, *, version: int, visible: bool) -> None:
    """Show or hide ``member_id`` on every board of ``scope`` (highest version wins)."""
    for _ in range(VISIBILITY_ATTEMPTS):
        periods = sorted(text(period) for period in await redis.smembers(periods_key(scope)))
        keys = [visibility_key(scope), periods_key(scope), visibility_generation_key(scope)]
        for period in periods:
            keys += [board_key(scope, period), all_key(scope, period)]
        done = await redis.eval(
            VISIBILITY_SCRIPT, len(keys), *keys, member_id, version, "1" if visible else "0", len(periods)
        )
        if int(done) >= 0:
            return
    raise RuntimeError(f"the periods of {scope} kept changing; run `fengling leaderboards rebuild --scope {scope}`")


REMEMBER_CHUNK = 1_000  # members per pipeline


async def remember_scopes(redis: Redis, scopes_by_member: Mapping[int, Iterable[str]]) -> None:
    """Add to each member's set of scopes (what a visibility change walks),
    pipelined: one round trip per ``REMEMBER_CHUNK`` members, not one each."""
    pending = [(member_id, sorted(scopes)) for member_id, scopes in scopes_by_member.items()]
    for start in range(0, len(pending), REMEMBER_CHUNK):
        pipe = redis.pipeline(transaction=False)
        for member_id, scopes in pending[start : start + REMEMBER_CHUNK]:
            if scopes:
                pipe.sadd(member_scopes_key(member_id), *scopes)
        await pipe.execute()


async def scopes_of_member(redis: Redis, member_id: int) -> list[str]:
    return sorted(text(scope) for scope in await redis.smembers(member_scopes_key(member_id)))


async def feed_position(redis: Redis) -> tuple[int, int]:
    """The last chain block the feed applied, and its head position."""
    block, seq = await redis.hmget(FEED_KEY, ["block", "seq"])
    return int(block or 0), int(seq or 0)


async def advance_feed(redis: Redis, block_id: int, seq: int) -> None:
    await redis.eval(ADVANCE_SCRIPT, 1, FEED_KEY, block_id, seq)
