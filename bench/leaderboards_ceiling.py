"""The ceiling for ``GET /api/v1/leaderboards?around=me``: a Litestar app
sending the same Redis commands raw.

``bench/leaderboards_bench.py`` serves it beside Fengling, with the same server
and number of workers, on the same Redis, and reports Fengling's latency as
a ratio to this one. Per request it sends what ``leaderboards.reading``
sends for one board (top 10, my rank, ±5 neighbours): ``ZCARD`` +
``ZREVRANGE 0 9`` (one pipeline), ``ZREVRANK`` + ``HGET`` (one pipeline),
``ZREVRANGE rank-5 rank+5``, and answers the rows as JSON: no token, no
principal, no policy, no names from the database. Nothing here imports the
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


@get("/board")
async def board(state: State) -> dict[str, Any]:
    redis: Redis = state.redis
    key, every, member = state.board, state.every, state.member
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zcard(key)
        pipe.zrevrange(key, 0, TOP - 1, withscores=True)
        size, top = await pipe.execute()
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zrevrank(key, member)
        pipe.hget(every, member)
        rank, score = await pipe.execute()
    around: list[Any] = []
    if rank is not None:
        around = await redis.zrevrange(key, max(0, rank - AROUND), rank + AROUND, withscores=True)
    return {
        "size": size,
        "top": [[m.decode(), s] for m, s in top],
        "me": {"rank": rank, "score": score.decode() if score else None},
        "neighbours": [[m.decode(), s] for m, s in around],
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
