"""One Redis client per process: a real server, or the in-process stand-in.

``FENGLING_REDIS_URL=memory://`` (the embedded default) gives fakeredis,
which speaks the same protocol in memory (Lua included, for Litestar's
stores). Each client built here gets a server of its own, so two apps in one
process (the tests build many) never share counters, sessions or boards. It
is per process: run several workers only with a real Redis.

A real server's client retries a command once, at once, on a connection
or timeout error: a pooled connection that went stale (Redis restarted, an
idle connection cut by a firewall) is replaced without the caller seeing
it. When Redis is really down the second try fails too, quickly (short
connect timeout), and the request becomes a 503 (``api/outages.py``).
"""

from __future__ import annotations

import fakeredis
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError, TimeoutError

from fengling_settings import Settings

# A local Redis answers in well under a millisecond; a second to connect and
# a few to answer only ever run out when it is down or unreachable.
CONNECT_TIMEOUT_SECONDS = 1.0
COMMAND_TIMEOUT_SECONDS = 5.0
# Ping a connection idle for this long before reusing it.
HEALTH_CHECK_SECONDS = 30


def build_redis(settings: Settings) -> Redis:
    if settings.uses_embedded_redis:
        return fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    return Redis.from_url(
        settings.redis_url,
        retry=Retry(NoBackoff(), retries=1),
        retry_on_error=[ConnectionError, TimeoutError],
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=COMMAND_TIMEOUT_SECONDS,
        health_check_interval=HEALTH_CHECK_SECONDS,
    )
