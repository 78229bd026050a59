"""``fengling members unlock`` and ``fengling members create-admin``, run
in-process on the test database (and, on the PostgreSQL pass, the real
Redis the API would use)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

import fakeredis
import pytest
from redis.asyncio import Redis
from typer.testing import CliRunner

import admin.cli
from admin.cli import app
from api.community.auth import KNOWN_DEVICE_PURPOSE, LOCKOUT_PURPOSES, PhoneLockout
from community.members import authenticate
from community.roles import Role
from community.tables import AuditEvent
from fengling_settings import get_settings
from tests.support.community_helpers import Tree, build_tree, counts

runner = CliRunner()
PHONE = "13800000002"


@pytest.fixture
def redis_factory(monkeypatch: pytest.MonkeyPatch) -> Callable[[], Redis]:
    """A fresh client per event loop on the Redis the CLI talks to: the test
    Redis on the PostgreSQL pass, otherwise one fakeredis server shared by
    the test and the command (the in-process stand-in is out of a CLI's reach)."""
    url = os.environ.get("FENGLING_TEST_REDIS_URL")
    if url:
        return lambda: Redis.from_url(url)
    server = fakeredis.FakeServer()

    def make() -> Redis:
        return fakeredis.FakeAsyncRedis(server=server)

    monkeypatch.setattr(admin.cli, "_lockout_redis", lambda settings: make())
    return make


# The counters an unlock clears: login and invitations, and one known
# device's logins (``api.community.known_devices``).
COUNTERS = [(purpose, PHONE) for purpose in LOCKOUT_PURPOSES] + [(KNOWN_DEVICE_PURPOSE, f"{PHONE}:a-device")]


def _lock(make: Callable[[], Redis]) -> list[int]:
    """Lock every counter of PHONE; the next attempt's lock seconds."""

    async def run() -> list[int]:
        redis = make()
        try:
            waits = []
            for purpose, counted in COUNTERS:
                lockout = PhoneLockout.for_purpose(redis, purpose, get_settings())
                await lockout.reset(counted)
                for _ in range(lockout.max_failures + 1):
                    wait = await lockout.reserve(counted)
                waits.append(wait)
            return waits
        finally:
            await redis.aclose()

    return asyncio.run(run())


def test_unlock_clears_every_counter_of_the_phone_however_it_is_written(
    redis_factory: Callable[[], Redis],
) -> None:
    assert all(wait > 0 for wait in _lock(redis_factory))
    result = runner.invoke(app, ["members", "unlock", "+86 138-0000-0002"])
    assert result.exit_code == 0, result.output
    assert "13800000002" in result.output and "3 counter(s) cleared" in result.output

    async def next_attempts() -> list[int]:
        redis = redis_factory()
        try:
            return [
                await PhoneLockout.for_purpose(redis, purpose, get_settings()).reserve(counted)
                for purpose, counted in COUNTERS
            ]
        finally:
            await redis.aclose()

    assert asyncio.run(next_attempts()) == [0, 0, 0]
    events = asyncio.run(AuditEvent.select().where(AuditEvent.action == "member.unlock").run())
    assert [(event["actor_ref"], event["target_ref"]) for event in events] == [
        ("cli:members-unlock", "phone:13800000002")
    ]


def test_unlock_refuses_what_is_not_a_phone_number(redis_factory: Callable[[], Redis]) -> None:
    result = runner.invoke(app, ["members", "unlock", "not-a-phone"])
    assert result.exit_code == 2 and "mainland mobile" in result.output


def test_unlock_says_why_it_cannot_reach_the_in_process_stand_in() -> None:
    if not get_settings().uses_embedded_redis:
        pytest.skip("runs with the in-process Redis stand-in")
    result = runner.invoke(app, ["members", "unlock", PHONE])
    assert result.exit_code == 2 and "restarting the API clears them" in result.output


@pytest.fixture
def tree() -> Tree:
    return asyncio.run(build_tree())


def _create_admin(tree: Tree, *extra: str, input: str) -> object:
    args = [
        "members",
        "create-admin",
        "--name",
        "新管理员",
        "--phone",
        "137-1234-5678",
        "--organisation",
        str(tree.city),
    ]
    return runner.invoke(app, [*args, *extra], input=input)


def test_create_admin_from_stdin_makes_an_audited_admin_who_can_log_in(tree: Tree) -> None:
    result = _create_admin(tree, "--password-stdin", input="a-long-admin-pass\n")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    member = asyncio.run(authenticate("13712345678", "a-long-admin-pass"))
    assert member is not None and [(g.organisation_id, g.role) for g in member.grants] == [(tree.city, Role.ADMIN)]
    rows = asyncio.run(AuditEvent.select().where(AuditEvent.action == "member.create_admin").run())
    assert [(row["actor_ref"], row["target_ref"]) for row in rows] == [("cli:create-admin", f"member:{member.id}")]


def test_create_admin_asks_twice_without_echo_and_refuses_a_mismatch(tree: Tree) -> None:
    before = asyncio.run(counts())
    mismatch = _create_admin(tree, input="a-long-admin-pass\nanother-long-pass\n")
    assert mismatch.exit_code == 1 and "differ" in mismatch.output  # type: ignore[attr-defined]
    assert "a-long-admin-pass" not in mismatch.output  # type: ignore[attr-defined]
    assert asyncio.run(counts()) == before
    typed = _create_admin(tree, input="a-long-admin-pass\na-long-admin-pass\n")
    assert typed.exit_code == 0, typed.output  # type: ignore[attr-defined]
    assert "a-long-admin-pass" not in typed.output  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("phone", "password", "message"),
    [
        ("13900000001", "a-long-admin-pass", "already exists"),  # the tree's admin
        ("12345", "a-long-admin-pass", "mainland mobile"),
        ("13712345678", "short", "password must be"),
    ],
)
def test_create_admin_refusals_write_nothing(tree: Tree, phone: str, password: str, message: str) -> None:
    before = asyncio.run(counts())
    args = ["members", "create-admin", "--name", "甲", "--phone", phone, "--organisation", str(tree.city)]
    result = runner.invoke(app, [*args, "--password-stdin"], input=password + "\n")
    assert result.exit_code == 1 and message in result.output, result.output
    assert asyncio.run(counts()) == before
