"""core.database.after_commit: what a transaction tells the world outside
the database is told after its commit, never before it and never for a
rolled-back or retried attempt."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.clock import utc_now
from core.database import after_commit, in_write_transaction
from ledger.tables import LedgerAccount


async def _open_account(code: str) -> None:
    await LedgerAccount.insert(
        LedgerAccount(code=code, account_type="liability", name_zh=code, created_at=utc_now())
    ).run()


async def _exists(code: str) -> bool:
    return bool(await LedgerAccount.exists().where(LedgerAccount.code == code).run())


async def test_a_callback_runs_after_the_commit_and_sees_what_was_committed() -> None:
    seen: list[bool] = []

    async def work() -> None:
        await _open_account("after:commit")

        async def told() -> None:
            seen.append(await _exists("after:commit"))  # read outside the transaction

        await after_commit(told)
        assert seen == []  # not while the transaction is open

    await in_write_transaction(work)
    assert seen == [True]


async def test_a_rolled_back_transaction_tells_nobody() -> None:
    told: list[str] = []

    async def work() -> None:
        await _open_account("after:rollback")

        async def tell() -> None:
            told.append("rolled back")

        await after_commit(tell)
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        await in_write_transaction(work)
    assert told == []
    assert not await _exists("after:rollback")


@dataclass
class Deadlock(Exception):
    """What the driver raises on a deadlock, as far as the retry loop looks."""

    sqlstate: str = "40P01"


async def test_a_retried_attempt_tells_only_for_the_attempt_that_committed() -> None:
    told: list[int] = []
    attempts = 0

    async def work() -> None:
        nonlocal attempts
        attempts += 1
        attempt = attempts

        async def tell() -> None:
            told.append(attempt)

        await after_commit(tell)
        if attempt == 1:
            raise Deadlock()

    await in_write_transaction(work)
    assert told == [2]


async def test_outside_a_transaction_a_callback_runs_at_once() -> None:
    told: list[str] = []

    async def tell() -> None:
        told.append("now")

    await after_commit(tell)
    assert told == ["now"]


async def test_a_failing_callback_is_logged_and_the_others_still_run(caplog: pytest.LogCaptureFixture) -> None:
    told: list[str] = []

    async def fail() -> None:
        raise RuntimeError("listener broke")

    async def tell() -> None:
        told.append("still told")

    async def work() -> None:
        await after_commit(fail)
        await after_commit(tell)

    await in_write_transaction(work)
    assert told == ["still told"]
    assert "after-commit callback" in caplog.text
