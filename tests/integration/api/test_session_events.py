"""A change to a member's sessions or roles reaches every API process at
once (api/session_events.py, community/session_cache.py): the process that
commits it publishes the member on Redis, and every process listening
forgets its cached copy, so the next request reads the member again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis

from api.session_events import channel_of, publish_member_change
from community.access import load_principal
from community.sessions import end_all_sessions
from community.tables import Member
from fengling_settings import get_settings
from tests.support.community_helpers import PASSWORD, Tree, build_tree

Client = AsyncTestClient[Litestar]
VOLUNTEER_PHONE = "13900000004"
WAIT_S = 3.0


@pytest.fixture
async def tree() -> Tree:
    return await build_tree()


@pytest.fixture
async def other_process_redis(app: Litestar) -> AsyncIterator[Redis]:
    """A Redis client as another API process holds one (with the in-process
    stand-in, the app's own: there is no other process)."""
    if get_settings().uses_embedded_redis:
        yield app.state.redis
        return
    redis = Redis.from_url(get_settings().redis_url)
    yield redis
    await redis.aclose()


async def _me(client: Client, headers: dict[str, str]) -> int:
    return (await client.get("/api/v1/me", headers=headers)).status_code


async def _until_refused(client: Client, headers: dict[str, str]) -> int:
    deadline = asyncio.get_running_loop().time() + WAIT_S
    status = await _me(client, headers)
    while status != 401 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
        status = await _me(client, headers)
    return status


async def test_a_session_ended_in_another_process_is_refused_here_at_once(
    client: Client, tree: Tree, other_process_redis: Redis
) -> None:
    login = await client.post("/api/v1/auth/login", json={"phone": VOLUNTEER_PHONE, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert await _me(client, headers) == 200  # now cached in this process
    # Another process commits a logout: the row changes, this process is not called...
    await Member.update({Member.session_version: Member.session_version + 1}).where(Member.id == tree.volunteer).run()
    assert await _me(client, headers) == 200
    # ...until that process announces it, as it does after every such commit.
    await publish_member_change(other_process_redis, tree.volunteer)
    assert await _until_refused(client, headers) == 401


async def test_a_logout_is_announced_to_the_other_processes_after_it_commits(
    client: Client, tree: Tree, other_process_redis: Redis
) -> None:
    async with other_process_redis.pubsub() as pubsub:
        await pubsub.subscribe(channel_of(other_process_redis))
        await pubsub.get_message(timeout=1.0)  # the subscription's confirmation
        await end_all_sessions(await load_principal(tree.volunteer))
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=WAIT_S)
    assert message is not None and message["data"] == str(tree.volunteer).encode()


async def test_the_app_stops_its_listener_at_every_shutdown(app: Litestar, caplog: pytest.LogCaptureFixture) -> None:
    """Stopping right after starting is when redis-py can swallow the
    listener's cancellation (it is still subscribing); the shutdown repeats
    it (core/cancellation.stop_tasks). A listener left running kept its
    event loop from closing, which once hung the whole test run."""
    caplog.set_level(logging.WARNING, logger="fengling.sessions")
    for _ in range(5):
        async with AsyncTestClient(app=app) as client:
            assert (await client.get("/api/v1/me")).status_code == 401
    assert [record.message for record in caplog.records if "did not stop" in record.message] == []
