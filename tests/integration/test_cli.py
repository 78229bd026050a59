"""The ``fengling`` CLI, run in-process on the test database."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from activities.calendar import CHINA_ZONE
from admin.cli import app
from admin.terminal import run_command
from ledger.accounts import open_account
from ledger.posting import transfer
from ledger.tables import LedgerPosting
from tests.support.demo_snapshot import load_demo_quickly
from tests.support.outages import DATABASE_OUTAGES, take_database_down

runner = CliRunner()


async def _three_entries() -> list[int]:
    await open_account("org:1:issuance", account_type="equity", allow_negative=True)
    await open_account("volunteer:1:wallet", account_type="liability")
    ids = []
    for points in ("10.00", "5.00", "2.50"):
        entry = await transfer(
            debit_code="org:1:issuance",
            credit_code="volunteer:1:wallet",
            amount=Decimal(points),
            kind="award",
            reason_zh="巡逻奖励",
        )
        ids.append(entry.id)
    return ids


def test_verify_passes_on_an_intact_ledger() -> None:
    asyncio.run(_three_entries())
    result = runner.invoke(app, ["ledger", "verify"])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


def test_verify_names_a_posting_changed_by_raw_sql_and_exits_nonzero() -> None:
    ids = asyncio.run(_three_entries())
    assert runner.invoke(app, ["ledger", "verify"]).exit_code == 0  # seals the chain
    tampered = ids[1]
    asyncio.run(
        LedgerPosting.raw(
            "UPDATE ledger_posting SET amount_minor = amount_minor + 100 WHERE entry = {} AND amount_minor > 0",
            tampered,
        ).run()
    )
    result = runner.invoke(app, ["ledger", "verify"])
    assert result.exit_code == 1, result.output
    assert f"first broken entry: {tampered}" in result.output


def test_balance_and_statement_commands() -> None:
    asyncio.run(_three_entries())
    balance = runner.invoke(app, ["ledger", "balance", "volunteer:1:wallet"])
    assert balance.exit_code == 0 and "balance 17.50" in balance.output
    statement = runner.invoke(app, ["ledger", "statement", "volunteer:1:wallet", "--limit", "2"])
    assert statement.exit_code == 0 and "next page: --cursor" in statement.output
    assert "time (China time)" in statement.output
    # The newest line's time as China time (UTC+8), not UTC.
    newest = asyncio.run(_newest_line_time())
    assert newest.astimezone(CHINA_ZONE).strftime("%Y-%m-%d %H:%M") in statement.output
    forged = runner.invoke(app, ["ledger", "statement", "volunteer:1:wallet", "--cursor", "forged"])
    assert forged.exit_code == 1 and "cursor" in forged.output
    missing = runner.invoke(app, ["ledger", "balance", "nobody:wallet"])
    assert missing.exit_code == 1


async def _newest_line_time() -> datetime:
    from ledger.statements import statement

    page = await statement("volunteer:1:wallet", limit=1)
    return page.lines[0].created_at


def test_verify_prints_the_head_and_checks_a_recorded_one() -> None:
    asyncio.run(_three_entries())
    first = runner.invoke(app, ["ledger", "verify"])
    head = next(line.split("chain head: ")[1] for line in first.output.splitlines() if "chain head:" in line)
    assert head.startswith("3:")
    assert runner.invoke(app, ["ledger", "verify", "--expect-head", head]).exit_code == 0
    forged = head[:-1] + ("0" if head[-1] != "0" else "1")
    result = runner.invoke(app, ["ledger", "verify", "--expect-head", forged])
    assert result.exit_code == 1
    assert "chain_head" in result.output


def test_marketplace_statement_and_expiry_commands() -> None:
    asyncio.run(load_demo_quickly())
    statement = runner.invoke(app, ["marketplace", "statement", "1", "2026-11"])
    assert statement.exit_code == 0, statement.output
    assert "time (China time)" in statement.output
    assert "net 0.00" in statement.output
    bad = runner.invoke(app, ["marketplace", "statement", "1", "2026-13"])
    assert bad.exit_code == 1
    expired = runner.invoke(app, ["marketplace", "expire-orders"])
    assert expired.exit_code == 0 and "expired 0 orders" in expired.output


def test_keys_rotate_makes_a_new_signing_key_and_lists_the_retired_one() -> None:
    from marketplace.signing_keys import all_keys, forget_cached_key

    forget_cached_key()
    first = runner.invoke(app, ["keys", "rotate"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["keys", "rotate"])
    assert second.exit_code == 0, second.output
    keys = asyncio.run(all_keys())
    assert len(keys) == 2
    assert f"new signing key {keys[1].key_id}" in second.output
    assert keys[0].retired_at is not None and keys[1].retired_at is None
    listed = runner.invoke(app, ["keys", "list"])
    assert listed.exit_code == 0, listed.output
    assert keys[0].public_key in listed.output and keys[1].public_key in listed.output
    assert listed.output.count("签名中 signing") == 1


@pytest.mark.parametrize("kind", DATABASE_OUTAGES)
def test_a_command_whose_database_is_down_says_so_in_one_line_and_exits_1(
    kind: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    take_database_down(kind, monkeypatch, tmp_path)
    result = runner.invoke(app, ["ledger", "expire-holds"])
    assert result.exit_code == 1, result.output
    assert "无法连接数据库 the database cannot be reached" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


def test_a_command_that_fails_for_another_reason_still_raises_it() -> None:
    async def broken() -> None:
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError, match="a bug, not an outage"):
        run_command(broken())


def test_a_broken_pipe_is_not_reported_as_a_database_outage() -> None:
    async def piped_to_head() -> None:
        raise BrokenPipeError(32, "Broken pipe")

    with pytest.raises(BrokenPipeError):
        run_command(piped_to_head())
