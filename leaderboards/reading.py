"""Reading a board: top N, my rank, my neighbours (±k), this week vs last.

Every read is a handful of sorted-set commands, each O(log N) (+ the rows
returned), run as one script (one round trip) per board; names come from the database
for the (at most ``MAX_TOP + 2 × MAX_AROUND + 1``) members shown, so a
change of name or visibility shows at once. Hidden members are not in a
board's sorted set: they are not counted, ranked or shown; a hidden reader
still sees their own points (``MyStanding.hidden``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from redis.asyncio import Redis

from community.access import Principal
from community.tables import Member
from core.clock import utc_now
from core.fixed_sql import fetch, fixed_sql
from leaderboards.errors import BoardNotFound, InvalidBoardRequest, SeasonNotFound
from leaderboards.freezing import frozen_if_due
from leaderboards.keys import ScopeKind, all_key, board_key, scope_name
from leaderboards.masking import shown_name
from leaderboards.models import BoardView, MyStanding, RankedMember, SeasonRecord, Visibility, WeekComparison
from leaderboards.periods import PeriodKind, current_period, previous_week
from leaderboards.policy import check_board_visible
from leaderboards.scores import Score
from leaderboards.seasons import visible_season
from leaderboards.tables import SeasonStanding
from ledger.amounts import from_minor

# Bounds, so no request makes Redis or the database do unbounded work.
MAX_TOP = 50
MAX_AROUND = 10


@dataclass(frozen=True, slots=True)
class BoardQuery:
    scope: str | None = None  # None: the reader's home node
    period: PeriodKind = PeriodKind.WEEK
    top: int = 10
    around: int = 0  # neighbours above and below the reader; 0: none
    season_id: int | None = None  # with period SEASON: which season


@dataclass(frozen=True, slots=True)
class _Position:
    rank: int | None  # 0-based, None when not on the visible board
    score: int | None  # from the all-members hash (hidden members too)


# One board read, one round trip: size, top N, the reader's rank and score
# (from the all-members hash, so a hidden reader still sees their points)
# and, with k > 0 and the reader ranked, ranks rank-k..rank+k. Each command
# is O(log N) plus the rows returned; both keys share the scope's hash slot.
READ_SCRIPT = """
local size = redis.call('ZCARD', KEYS[1])
local top = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1, 'WITHSCORES')
local rank = redis.call('ZREVRANK', KEYS[1], ARGV[1])
local score = redis.call('HGET', KEYS[2], ARGV[1])
local k = tonumber(ARGV[3])
local first = 0
local around = {}
if rank and k > 0 then
  first = math.max(0, rank - k)
  around = redis.call('ZREVRANGE', KEYS[1], first, rank + k, 'WITHSCORES')
end
return {size, top, rank or -1, score or '', first, around}
"""


@dataclass(frozen=True, slots=True)
class _BoardRead:
    size: int
    top: list[tuple[bytes, float]]
    mine: _Position
    first_around: int
    around: list[tuple[bytes, float]]


def _pairs(flat: Sequence[bytes]) -> list[tuple[bytes, float]]:
    return [(flat[i], float(flat[i + 1])) for i in range(0, len(flat), 2)]


async def _read(redis: Redis, scope: str, period: str, member_id: int, *, top: int, around: int) -> _BoardRead:
    size, top_flat, rank, score, first, around_flat = await redis.eval(
        READ_SCRIPT, 2, board_key(scope, period), all_key(scope, period), member_id, top, around
    )
    return _BoardRead(
        size=int(size),
        top=_pairs(top_flat),
        mine=_Position(rank=None if int(rank) < 0 else int(rank), score=int(score) if score else None),
        first_around=int(first),
        around=_pairs(around_flat),
    )


async def _position(redis: Redis, scope: str, period: str, member_id: int) -> _Position:
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zrevrank(board_key(scope, period), member_id)
        pipe.hget(all_key(scope, period), str(member_id))
        rank, score = await pipe.execute()
    return _Position(rank=None if rank is None else int(rank), score=None if score is None else int(score))


async def names_of(member_ids: Sequence[int]) -> dict[int, tuple[str, bool]]:
    if not member_ids:
        return {}
    rows = await fetch(_NAMES_OF(sorted(set(member_ids))))
    return {int(row["id"]): (str(row["name"]), row["ranking_visibility"] == Visibility.FULL_NAME.value) for row in rows}


# Fixed SQL: every board read sends it (bench/leaderboards_bench.py).
_NAMES_OF = fixed_sql(
    "SELECT id, name, ranking_visibility FROM community_member WHERE id = ANY($1::bigint[])",
    sqlite="SELECT id, name, ranking_visibility FROM community_member WHERE id IN (SELECT value FROM json_each(?1))",
)


def ranked_rows(
    rows: Sequence[tuple[bytes, float]], first_rank: int, names: dict[int, tuple[str, bool]], me: int
) -> tuple[RankedMember, ...]:
    ranked = []
    for offset, (member_text, score) in enumerate(rows):
        member_id = int(member_text)
        name, full = names.get(member_id, ("", False))
        decoded = Score.of(score)
        ranked.append(
            RankedMember(
                rank=first_rank + offset + 1,
                member_id=member_id,
                name=shown_name(name, full_name_shown=full or member_id == me),
                points=from_minor(decoded.points_minor),
                reached_at=decoded.reached_at,
                is_me=member_id == me,
            )
        )
    return tuple(ranked)


def _check(query: BoardQuery) -> None:
    if not 1 <= query.top <= MAX_TOP:
        raise InvalidBoardRequest(f"top is 1 to {MAX_TOP}", field="top")
    if not 0 <= query.around <= MAX_AROUND:
        raise InvalidBoardRequest(f"around is 0 to {MAX_AROUND}", field="around")
    if (query.period is PeriodKind.SEASON) != (query.season_id is not None):
        raise InvalidBoardRequest("a season board is named season:<id>", field="period")


async def _week(redis: Redis, scope: str, member_id: int, now: datetime) -> WeekComparison:
    this_week, last_week = current_period(PeriodKind.WEEK, now), previous_week(now)
    now_at = await _position(redis, scope, this_week, member_id)
    before = await _position(redis, scope, last_week, member_id)
    return WeekComparison(
        this_week=this_week,
        last_week=last_week,
        points_this_week=from_minor(Score.of(now_at.score).points_minor if now_at.score is not None else 0),
        points_last_week=from_minor(Score.of(before.score).points_minor if before.score is not None else 0),
        rank_this_week=None if now_at.rank is None else now_at.rank + 1,
        rank_last_week=None if before.rank is None else before.rank + 1,
    )


async def read_board(
    principal: Principal, query: BoardQuery, *, redis: Redis, now: datetime | None = None
) -> BoardView:
    _check(query)
    now = now or utc_now()
    scope = await check_board_visible(
        principal, query.scope or scope_name(ScopeKind.ORGANISATION, principal.home_organisation_id)
    )
    if query.season_id is not None:
        try:
            visible = await visible_season(principal, query.season_id)
        except SeasonNotFound:
            raise BoardNotFound(f"no season {query.season_id} for you", field="period") from None
        season = await frozen_if_due(redis, visible, now)
        if season.frozen_at is not None:
            return await read_frozen_board(principal, season, scope, query, now)
        period = f"season:{season.id}"
    else:
        period = current_period(query.period, now)
    me = principal.member_id
    read = await _read(redis, scope, period, me, top=query.top, around=query.around)
    mine = read.mine
    names = await names_of([int(member) for member, _ in [*read.top, *read.around]] + [me])
    return BoardView(
        scope=scope,
        period=period,
        size=read.size,
        top=ranked_rows(read.top, 0, names, me),
        me=MyStanding(
            rank=None if mine.rank is None else mine.rank + 1,
            points=from_minor(Score.of(mine.score).points_minor if mine.score is not None else 0),
            hidden=mine.score is not None and mine.rank is None,
        ),
        neighbours=ranked_rows(read.around, read.first_around, names, me),
        week=await _week(redis, scope, me, now) if query.period is PeriodKind.WEEK else None,
        as_of=now,
    )


async def read_frozen_board(
    principal: Principal, season: SeasonRecord, scope: str, query: BoardQuery, now: datetime
) -> BoardView:
    """A frozen season's board, from its stored standings (``freezing.py``):
    the ranks as frozen; members who have left the rankings since are not
    shown (the reader always sees their own standing)."""
    rows = (
        await SeasonStanding.select(SeasonStanding.member, SeasonStanding.rank, SeasonStanding.score)
        .where((SeasonStanding.season == season.id) & (SeasonStanding.scope == scope))
        .run()
    )
    me = principal.member_id
    names = await names_of([int(row["member"]) for row in rows] + [me])
    hidden_now = await _hidden_members([int(row["member"]) for row in rows])
    ranked = sorted(
        (
            (int(row["rank"]), int(row["member"]), int(row["score"]))
            for row in rows
            if row["rank"] is not None and (int(row["member"]) not in hidden_now or int(row["member"]) == me)
        ),
    )
    mine = next((row for row in rows if int(row["member"]) == me), None)
    my_rank = None if mine is None or mine["rank"] is None else int(mine["rank"])

    def shown(picked: Sequence[tuple[int, int, int]]) -> tuple[RankedMember, ...]:
        out = []
        for rank, member_id, score in picked:
            name, full = names.get(member_id, ("", False))
            decoded = Score.of(score)
            out.append(
                RankedMember(
                    rank=rank,
                    member_id=member_id,
                    name=shown_name(name, full_name_shown=full or member_id == me),
                    points=from_minor(decoded.points_minor),
                    reached_at=decoded.reached_at,
                    is_me=member_id == me,
                )
            )
        return tuple(out)

    around: list[tuple[int, int, int]] = []
    if query.around and my_rank is not None:
        around = [row for row in ranked if abs(row[0] - my_rank) <= query.around]
    return BoardView(
        scope=scope,
        period=f"season:{season.id}",
        size=sum(1 for row in rows if row["rank"] is not None),
        top=shown(ranked[: query.top]),
        me=MyStanding(
            rank=my_rank,
            points=from_minor(Score.of(int(mine["score"])).points_minor if mine is not None else 0),
            hidden=mine is not None and (my_rank is None or me in hidden_now),
        ),
        neighbours=shown(around),
        week=None,
        as_of=now,
    )


async def _hidden_members(member_ids: Sequence[int]) -> set[int]:
    if not member_ids:
        return set()
    rows = (
        await Member.select(Member.id)
        .where(Member.id.is_in(sorted(set(member_ids))) & (Member.ranking_visibility == Visibility.HIDDEN.value))
        .run()
    )
    return {int(row["id"]) for row in rows}
