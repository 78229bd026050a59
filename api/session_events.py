"""Every API process hears at once when a member's sessions or roles change.

Each process keeps the members behind recent tokens in memory
(``community/session_cache.py``). When a change to a member's sessions or
roles commits in any process, that process publishes the member id on a
Redis channel (``publish_member_change``, registered as the cache's change
listener), and each process's ``listen`` task forgets the member. A Redis
PUBLISH reaches the subscribers as soon as it is processed, and the
publishing request awaits it before it answers, so a logout or a revoked
role is in force in every process by the time its caller hears back.

When the subscription breaks (Redis down or unreachable, no answer to the
heartbeat), the cache is switched off, so each request reads its member
from the database, until the subscription is back; then the cache starts
empty, since notifications sent in between were lost. The channel name
carries the Redis database number, so deployments sharing a server do not
hear each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from redis.exceptions import RedisError

from community.session_cache import SESSIONS, SessionCache, add_change_listener, remove_change_listener
from core.cancellation import raise_if_cancel_lost, stop_if_cancelled, stop_tasks

logger = logging.getLogger("fengling.sessions")

# A PING on the subscription this often; three missed answers in a row
# count as a broken subscription (a connection can die without closing).
HEARTBEAT_SECONDS = 5.0
MISSED_HEARTBEATS = 3
RECONNECT_SECONDS = 1.0
# How long shutdown waits for the cancelled listener (``stop_tasks``
# repeats the cancellation, which redis-py can swallow). Under Litestar's
# sync test client the listener's task was seen never to finish once
# cancelled (its event loop no longer ran), which hung the app's shutdown.
STOP_SECONDS = 1.0


class SubscriptionLost(ConnectionError):
    """Redis stopped answering on the subscription."""


def channel_of(redis: Redis) -> str:
    database = redis.connection_pool.connection_kwargs.get("db", 0)
    return f"fengling:{database}:member-changed"


async def publish_member_change(redis: Redis, member_id: int) -> None:
    """Tell every process to forget ``member_id``. If Redis cannot be
    reached, the other processes' subscriptions are broken too and their
    caches are off, so nothing stale is served; the failure is logged."""
    try:
        await redis.publish(channel_of(redis), str(member_id))
    except (RedisError, OSError) as error:
        logger.warning("could not publish the change to member %s: %r", member_id, error)


def _forget(cache: SessionCache, data: object) -> None:
    text = data.decode() if isinstance(data, bytes) else str(data)
    if text.isdigit():
        cache.forget(int(text))


async def _listen_once(redis: Redis, cache: SessionCache) -> None:
    """Subscribe, switch the cache on, and forget each member announced,
    until the subscription breaks (raises)."""
    loop = asyncio.get_running_loop()
    async with redis.pubsub() as pubsub:
        await pubsub.subscribe(channel_of(redis))
        raise_if_cancel_lost()
        cache.enable()
        last_heard = last_ping = loop.time()
        while True:
            message = await pubsub.get_message(timeout=HEARTBEAT_SECONDS)
            raise_if_cancel_lost()
            now = loop.time()
            if message is not None:
                last_heard = now
                if message["type"] == "message":
                    _forget(cache, message["data"])
            if now - last_heard > HEARTBEAT_SECONDS * MISSED_HEARTBEATS:
                raise SubscriptionLost(f"no answer from Redis for {now - last_heard:.0f} s")
            if now - last_ping >= HEARTBEAT_SECONDS:
                await pubsub.ping()
                raise_if_cancel_lost()
                last_ping = now


async def listen(redis: Redis, cache: SessionCache = SESSIONS) -> None:
    """Keep the subscription up for the life of the process."""
    while True:
        try:
            await _listen_once(redis, cache)
        except (RedisError, OSError) as error:
            stop_if_cancelled(error)  # redis-py may turn our cancellation into a connection error
            cache.disable()
            logger.warning("member change notifications interrupted, members are read per request: %r", error)
            await asyncio.sleep(RECONNECT_SECONDS)


@contextlib.asynccontextmanager
async def member_change_notifications(redis: Redis) -> AsyncIterator[None]:
    """For the app's lifespan: publish this process's changes, hear the others'."""
    app_loop = asyncio.get_running_loop()

    async def publish(member_id: int) -> None:
        if asyncio.get_running_loop() is app_loop:
            await publish_member_change(redis, member_id)
            return
        # A service run on another event loop than the app's (tests drive
        # services beside a running app): the client's connections belong
        # to the app's loop, so publish there.
        sent = asyncio.run_coroutine_threadsafe(publish_member_change(redis, member_id), app_loop)
        await asyncio.wrap_future(sent)

    add_change_listener(publish)
    listener = asyncio.create_task(listen(redis), name="fengling-member-changes")
    try:
        yield
    finally:
        remove_change_listener(publish)
        if await stop_tasks({listener}, within=STOP_SECONDS):
            logger.warning("the member change listener did not stop within %s s", STOP_SECONDS)
