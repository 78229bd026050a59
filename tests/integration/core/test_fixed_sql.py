"""The fixed-SQL runner and the tuned engines, on whichever engine the run
uses: statements and scripts read and write like Piccolo's queries, a
script is atomic, list arguments work on both engines, and Piccolo's own
transactions still compose with fixed SQL."""

from __future__ import annotations

import asyncio

import pytest

from core import database
from core.clock import utc_now
from core.fixed_sql import Dialect, Script, ScriptFactory, fetch, fixed_sql, read, write
from ledger.tables import LedgerAccount

INSERT_ACCOUNT = fixed_sql(
    "INSERT INTO ledger_account (code, account_type, allow_negative, owner_ref, scope_ref, name_zh, name_en,"
    " balance_minor, held_minor, created_at) VALUES ($1, 'liability', FALSE, '', '', $1, '', 0, 0, $2) RETURNING id"
)
CODES_AMONG = fixed_sql(
    "SELECT code FROM ledger_account WHERE code = ANY($1) ORDER BY code",
    sqlite="SELECT code FROM ledger_account WHERE code IN (SELECT value FROM json_each(?1)) ORDER BY code",
)
COUNT_ACCOUNTS = fixed_sql("SELECT count(*) AS n FROM ledger_account")


def insert_two_then(fail: bool) -> ScriptFactory[list[int]]:
    def script(_: Dialect) -> Script[list[int]]:
        first = yield INSERT_ACCOUNT("fixed:a", utc_now())
        second = yield INSERT_ACCOUNT("fixed:b", utc_now())
        if fail:
            raise RuntimeError("refused after two inserts")
        return [first[0]["id"], second[0]["id"]]

    return script


async def test_a_write_script_commits_every_statement_and_returns_its_result() -> None:
    ids = await write(insert_two_then(fail=False))

    assert len(ids) == 2
    rows = await fetch(CODES_AMONG(["fixed:a", "fixed:b", "fixed:none"]))
    assert [row["code"] for row in rows] == ["fixed:a", "fixed:b"]


async def test_a_write_script_that_raises_leaves_no_trace() -> None:
    with pytest.raises(RuntimeError, match="refused after two inserts"):
        await write(insert_two_then(fail=True))

    assert (await fetch(COUNT_ACCOUNTS()))[0]["n"] == 0


async def test_a_script_inside_a_piccolo_transaction_joins_it_and_rolls_back_with_it() -> None:
    async def work() -> None:
        await LedgerAccount.insert(LedgerAccount(code="piccolo:x", account_type="liability")).run()
        await write(insert_two_then(fail=False))
        seen = await fetch(CODES_AMONG(["piccolo:x", "fixed:a"]))
        assert [row["code"] for row in seen] == ["fixed:a", "piccolo:x"]
        raise LookupError("abandon the whole transaction")

    with pytest.raises(LookupError):
        await database.in_write_transaction(work)

    assert (await fetch(COUNT_ACCOUNTS()))[0]["n"] == 0
    assert await LedgerAccount.count().run() == 0


async def test_a_unique_violation_is_retried_only_when_asked_and_then_surfaces() -> None:
    await write(insert_two_then(fail=False))

    with pytest.raises(Exception, match=r"(?i)unique|duplicate") as raised:
        await write(insert_two_then(fail=False))
    assert database.is_unique_violation(raised.value)
    assert (await fetch(COUNT_ACCOUNTS()))[0]["n"] == 2


async def test_concurrent_write_scripts_all_commit() -> None:
    def insert_one(index: int) -> ScriptFactory[int]:
        def script(_: Dialect) -> Script[int]:
            rows = yield INSERT_ACCOUNT(f"many:{index:03d}", utc_now())
            return int(rows[0]["id"])

        return script

    ids = await asyncio.gather(*(write(insert_one(index)) for index in range(40)))

    assert len(set(ids)) == 40
    assert (await fetch(COUNT_ACCOUNTS()))[0]["n"] == 40


async def test_a_read_script_sees_what_was_committed_before_it() -> None:
    await write(insert_two_then(fail=False))

    def count_then_list(_: Dialect) -> Script[tuple[int, list[str]]]:
        counted = yield COUNT_ACCOUNTS()
        listed = yield CODES_AMONG(["fixed:a", "fixed:b"])
        return int(counted[0]["n"]), [row["code"] for row in listed]

    assert await read(count_then_list) == (2, ["fixed:a", "fixed:b"])


async def test_piccolo_reads_outside_a_transaction_see_fixed_sql_writes() -> None:
    await write(insert_two_then(fail=False))

    codes = await LedgerAccount.select(LedgerAccount.code).order_by(LedgerAccount.code).run()

    assert [row["code"] for row in codes] == ["fixed:a", "fixed:b"]
