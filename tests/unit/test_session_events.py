"""How an API process follows the member-change channel
(api/session_events.py): an announced member is forgotten, and while the
subscription is broken the cache is off. A fake Redis, no network."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError

from api import session_events
from community.access import Principal
from community.session_cache import CachedSession, SessionCache
from core.cancellation import stop_tasks


class FakePubSub:
    def __init__(self, fail: bool) -> None:
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.fail = fail
        self.subscribed = asyncio.Event()

    async def subscribe(self, channel: str) -> None:
        if self.fail:
            raise ConnectionError("Redis is down")
        self.subscribed.set()

    async def get_message(self, timeout: float = 0.0) -> dict[str, Any] | None:  # noqa: ASYNC109 (redis-py's signature)
        try:
            return await asyncio.wait_for(self.messages.get(), 0.01)
        except TimeoutError:
            return None

    async def ping(self) -> None:
        await self.messages.put({"type": "pong", "channel": None, "data": b""})

    async def __aenter__(self) -> FakePubSub:
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Nothing to close."""


class FakeRedis:
    def __init__(self, *, fail: bool = False) -> None:
        self.connection_pool = type("Pool", (), {"connection_kwargs": {"db": 3}})()
        self.pubsub_client = FakePubSub(fail)

    def pubsub(self) -> FakePubSub:
        return self.pubsub_client


def _session(member_id: int) -> CachedSession:
    principal = Principal(member_id=member_id, name="李四", home_organisation_id=1, grants=())
    return CachedSession(principal=principal, session_version=0, active=True)


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_an_announced_member_is_forgotten_and_the_others_are_kept() -> None:
    cache = SessionCache(lambda: 60.0)
    redis = FakeRedis()
    task = asyncio.create_task(session_events.listen(redis, cache))  # type: ignore[arg-type]
    await asyncio.wait_for(redis.pubsub_client.subscribed.wait(), 1.0)
    await asyncio.sleep(0)  # the listener switches the cache on, empty
    for member_id in (5, 6):
        cache.put(member_id, _session(member_id), generation=cache.generation)
    await redis.pubsub_client.messages.put({"type": "message", "channel": b"fengling:3:member-changed", "data": b"5"})
    await asyncio.sleep(0.05)
    await _stop(task)
    assert cache.get(5) is None
    assert cache.get(6) == _session(6)


async def test_while_redis_is_unreachable_every_member_is_read_per_request() -> None:
    cache = SessionCache(lambda: 60.0)
    cache.put(5, _session(5), generation=cache.generation)
    task = asyncio.create_task(session_events.listen(FakeRedis(fail=True), cache))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    await _stop(task)
    assert not cache.enabled
    assert cache.get(5) is None


def test_the_channel_carries_the_redis_database_number() -> None:
    assert session_events.channel_of(FakeRedis()) == "fengling:3:member-changed"  # type: ignore[arg-type]


class CancellationToErrorPubSub(FakePubSub):
    """A client that turns the cancellation thrown into a waiting read into
    a connection error of its own, as redis-py can."""

    async def get_message(self, timeout: float = 0.0) -> dict[str, Any] | None:  # noqa: ASYNC109 (redis-py's signature)
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError as cancelled:
            raise RedisConnectionError("Connection closed by server.") from cancelled
        return None


async def test_the_listener_stops_when_cancelled_even_if_the_client_turns_the_cancel_into_an_error() -> None:
    redis = FakeRedis()
    redis.pubsub_client = CancellationToErrorPubSub(fail=False)
    task = asyncio.create_task(session_events.listen(redis, SessionCache(lambda: 60.0)))  # type: ignore[arg-type]
    await asyncio.wait_for(redis.pubsub_client.subscribed.wait(), 1.0)

    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2.0)

    assert task in done and task.cancelled()


class CancellationSwallowingPubSub(FakePubSub):
    """A client whose subscribe drops the cancellation that arrives as its
    write completes, as ``asyncio.wait_for`` does on Python 3.11 (CPython
    gh-86296) inside redis-py; the reads that follow wait normally."""

    async def subscribe(self, channel: str) -> None:
        # The write "completed" as the cancellation arrived: its result wins.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3600)
        self.subscribed.set()

    async def get_message(self, timeout: float = 0.0) -> dict[str, Any] | None:  # noqa: ASYNC109 (redis-py's signature)
        await asyncio.sleep(3600)  # a long read, as with HEARTBEAT_SECONDS
        return None


async def test_the_listener_stops_even_when_the_client_drops_its_cancellation_while_subscribing() -> None:
    redis = FakeRedis()
    redis.pubsub_client = CancellationSwallowingPubSub(fail=False)
    task = asyncio.create_task(session_events.listen(redis, SessionCache(lambda: 60.0)))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)  # the listener waits in subscribe

    still_running = await stop_tasks({task}, within=2.0)

    assert not still_running and task.cancelled()
    assert redis.pubsub_client.subscribed.is_set()  # the cancellation was indeed swallowed once
