"""The ceiling for ``GET /api/v1/leaderboards?around=me``: a Litestar app
sending the same Redis commands raw.

``bench/leaderboards_bench.py`` serves it beside Fengling, with the same server
and number of workers, on the same Redis, and reports Fengling's latency as
a ratio to this one. Per request it runs the one script
``leaderboards.reading`` runs for a board (top 10, my rank, ±5 neighbours:
``ZCARD``, ``ZREVRANGE``, ``ZREVRANK``, ``HGET``, ``ZREVRANGE``, one round
trip), and answers the rows as JSON: no token, no principal, no policy, no
names from the database. Nothing here imports the
project, so the ceiling does not move when the project changes.

Environment: ``FL_BENCH_REDIS_URL``, ``FL_BENCH_BOARD`` (the sorted set),
``FL_BENCH_ALL`` (its hash of every score), ``FL_BENCH_MEMBER`` (whose rank).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar, get
from litestar.datastructures import State
from redis.asyncio import Redis

TOP = 10
AROUND = 5


@get("/health", sync_to_thread=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


# The script ``leaderboards.reading`` runs for one board (copied, so the
# ceiling does not move when the project changes).
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


def _pairs(flat: list[bytes]) -> list[list[Any]]:
    return [[flat[i].decode(), float(flat[i + 1])] for i in range(0, len(flat), 2)]


@get("/board")
async def board(state: State) -> dict[str, Any]:
    redis: Redis = state.redis
    size, top, rank, score, _, around = await redis.eval(
        READ_SCRIPT, 2, state.board, state.every, state.member, TOP, AROUND
    )
    return {
        "size": size,
        "top": _pairs(top),
        "me": {"rank": None if rank < 0 else rank, "score": score.decode() if score else None},
        "neighbours": _pairs(around),
    }


def create_app() -> Litestar:
    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.redis = Redis.from_url(os.environ["FL_BENCH_REDIS_URL"])
        app.state.board = os.environ["FL_BENCH_BOARD"]
        app.state.every = os.environ["FL_BENCH_ALL"]
        app.state.member = os.environ["FL_BENCH_MEMBER"]
        try:
            yield
        finally:
            await app.state.redis.aclose()

    return Litestar(route_handlers=[health, board], lifespan=[lifespan])
