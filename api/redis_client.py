"""One Redis client per process: a real server, or the in-process stand-in.

``FENGLING_REDIS_URL=memory://`` (the embedded default) gives fakeredis,
which speaks the same protocol in memory (Lua included, for Litestar's
stores). It is per process: run several workers only with a real Redis.
"""

from __future__ import annotations

import fakeredis
from redis.asyncio import Redis

from fengling_settings import Settings


def build_redis(settings: Settings) -> Redis:
    if settings.uses_embedded_redis:
        return fakeredis.FakeAsyncRedis()
    return Redis.from_url(settings.redis_url)
