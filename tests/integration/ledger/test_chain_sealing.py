"""Sealing: every committed entry gets into the chain exactly once, whatever
order entries commit in, and sealing never rewrites an entry row."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ledger import chain
from ledger.chain import blocks_after, seal_pending, unsealed_ids
from ledger.models import EntryRecord
from ledger.tables import LedgerEntry, LedgerPosting
from ledger.verify import verify_ledger
from tests.support.ledger_helpers import WALLET, fund, open_chart, raw, spend


async def sealed_in_order() -> list[int]:
    return [entry_id for block in await blocks_after(0, 1000) for entry_id in block.entry_ids]


async def commit_late(entry: EntryRecord) -> None:
    """Make ``entry`` look like a transaction that took its id early and
    committed after later entries were sealed: its rows vanish before a
    sealing run and come back after it."""
    entry_row = (await LedgerEntry.select().where(LedgerEntry.id == entry.id).run())[0]
    posting_rows = await LedgerPosting.select().where(LedgerPosting.entry == entry.id).run()
    await raw("DELETE FROM ledger_posting WHERE entry = {}", entry.id)
    await raw("DELETE FROM ledger_entry WHERE id = {}", entry.id)
    sealed = await seal_pending()
    assert entry.id not in await sealed_in_order() and sealed > 0
    await insert_rows(LedgerEntry, [entry_row])
    await insert_rows(LedgerPosting, posting_rows)


async def insert_rows(table: Any, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        await table.insert(table(_data=dict(row))).run()


async def test_entries_are_sealed_once_in_id_order_and_rows_stay_unchanged() -> None:
    await open_chart()
    made = [await fund(WALLET, "10"), await spend(WALLET, "2"), await fund(WALLET, "1")]
    before = await LedgerEntry.select().order_by(LedgerEntry.id).run()
    assert await seal_pending() == 3
    assert await seal_pending() == 0
    assert await sealed_in_order() == [entry.id for entry in made]
    assert await LedgerEntry.select().order_by(LedgerEntry.id).run() == before
    later = await fund(WALLET, "5")
    assert await seal_pending() == 1
    assert await sealed_in_order() == [entry.id for entry in made] + [later.id]
    blocks = await blocks_after(0, 10)
    assert [block.head_seq for block in blocks] == [3, 4]
    assert blocks[-1].sealed_through == later.id


async def test_an_entry_committing_late_is_sealed_by_the_next_regular_run() -> None:
    """An entry whose id is below ones already sealed, committing within the window, is sealed next run."""
    await open_chart()
    made = [await fund(WALLET, "10"), await fund(WALLET, "3"), await spend(WALLET, "1")]
    await commit_late(made[1])
    assert await seal_pending() == 1
    assert await sealed_in_order() == [made[0].id, made[2].id, made[1].id]
    assert (await verify_ledger()).ok


async def test_an_entry_committing_after_the_window_is_sealed_by_a_full_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the regular run's window only ``seal_pending(everything=True)`` (verify, ``fengling ledger seal``)
    finds a late entry; until then it is reported as unsealed, never lost."""
    monkeypatch.setattr(chain, "LATE_COMMIT_WINDOW", timedelta(0))
    await open_chart()
    made = [await fund(WALLET, "10"), await fund(WALLET, "3"), await spend(WALLET, "1")]
    await commit_late(made[1])
    assert await seal_pending() == 0
    assert (await unsealed_ids())[0] == [made[1].id]
    report = await verify_ledger()
    assert report.ok and report.sealed_now == 1 and report.unsealed == 0
    assert await sealed_in_order() == [made[0].id, made[2].id, made[1].id]


async def test_verify_without_sealing_counts_what_is_unsealed() -> None:
    await open_chart()
    await fund(WALLET, "10")
    await seal_pending()
    await fund(WALLET, "1")
    await fund(WALLET, "2")
    report = await verify_ledger(seal_first=False)
    assert report.ok and report.unsealed == 2 and report.entries_checked == 1 and report.head_seq == 1
