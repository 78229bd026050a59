"""The wallet read (``ledger/account_view.py``) finds an account's active
holds through the partial index of active holds, on either engine, so it
does not walk the resolved holds an account gathers with every order; on
PostgreSQL it takes the newest straight off that index, with no sort."""

from __future__ import annotations

from datetime import timedelta

from core.clock import utc_now
from core.fixed_sql import Dialect, FixedSql, dialect, fetch
from ledger.account_view import _ACCOUNT_WITH_ACTIVE_HOLDS, MAX_VIEWED_HOLDS, find_account_view
from ledger.accounts import open_account
from ledger.holds import create_hold, void_hold
from ledger.posting import transfer
from ledger.tables import LedgerHold

CODE = "volunteer:7:wallet"


async def _wallet_with_resolved_history(active: int, resolved: int) -> list[int]:
    await open_account("issuer:1", account_type="equity", allow_negative=True, name_zh="发行", name_en="issuer")
    await open_account(CODE, account_type="liability", allow_negative=False, name_zh="钱包", name_en="wallet")
    await transfer(debit_code="issuer:1", credit_code=CODE, amount="100.00", kind="grant", reason_zh="发放")
    expires_at = utc_now() + timedelta(days=7)
    active_ids = []
    for number in range(active + resolved):
        hold = await create_hold(
            account_code=CODE, amount="0.50", reason_zh=f"预留 {number}", reason_en="", expires_at=expires_at
        )
        if number < resolved:
            await void_hold(hold.id)
        else:
            active_ids.append(hold.id)
    return active_ids


async def _plan() -> str:
    statement = _ACCOUNT_WITH_ACTIVE_HOLDS(CODE, MAX_VIEWED_HOLDS)
    db = LedgerHold._meta.db
    if dialect() is Dialect.SQLITE:
        explain = FixedSql(postgres="", sqlite=f"EXPLAIN QUERY PLAN {statement.statement.sqlite}")
        return "\n".join(str(row["detail"]) for row in await fetch(explain(*statement.args)))
    # The plan a prepared statement settles on (generic), with sequential
    # scans priced out so the tiny test table does not decide the answer.
    async with db.transaction():
        await LedgerHold.raw("SET LOCAL plan_cache_mode = force_generic_plan").run()
        await LedgerHold.raw("SET LOCAL enable_seqscan = off").run()
        await LedgerHold.raw(
            "PREPARE wallet_read AS " + statement.statement.postgres.replace("$1", "$1::text").replace("$2", "$2::int")
        ).run()
        rows = await LedgerHold.raw(f"EXPLAIN EXECUTE wallet_read('{CODE}', {MAX_VIEWED_HOLDS})").run()
        await LedgerHold.raw("DEALLOCATE wallet_read").run()
    return "\n".join(str(row["QUERY PLAN"]) for row in rows)


async def test_the_wallet_lists_only_active_holds_newest_first_past_a_long_resolved_history() -> None:
    active_ids = await _wallet_with_resolved_history(active=3, resolved=30)

    view = await find_account_view(CODE)

    assert view is not None
    assert [hold.id for hold in view.holds] == sorted(active_ids, reverse=True)
    assert view.held_minor == 150
    assert view.available_minor == 10000 - 150


async def test_the_wallet_read_uses_the_partial_index_of_active_holds() -> None:
    await _wallet_with_resolved_history(active=2, resolved=20)

    plan = await _plan()

    assert "ledger_hold_active_account" in plan
    if dialect() is Dialect.POSTGRES:
        # The newest holds come off the index in order (LATERAL … LIMIT): nothing is sorted.
        assert "Sort" not in plan, plan
