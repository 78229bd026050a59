"""Tamper evidence: after the chain is sealed, any edit made behind the
ledger's back (raw SQL) is reported by verify_ledger(), naming the entry or
account.

The chain lives in ``ledger_chain_block`` (ledger/chain.py): a tamperer who
deletes a sealed entry can also take it out of its block, and one who cuts
off the newest entries can also cut the last block; the tests below do both."""

from __future__ import annotations

import pytest

from ledger.chain import (
    GENESIS,
    LINK_BYTES,
    Block,
    blocks_after,
    entries_by_id,
    entry_digest,
    link_prefix,
    pack_ids,
    postings_by_entry,
    unsealed_count,
)
from ledger.models import EntryRecord
from ledger.tables import LedgerAccount, LedgerPosting
from ledger.verify import VerifyReport, verify_ledger
from tests.support.ledger_helpers import (
    BUDGET,
    SHOP,
    WALLET,
    WALLET_2,
    fund,
    open_chart,
    raw,
    spend,
)


@pytest.fixture
async def entries() -> list[EntryRecord]:
    """Five entries, sealed, verified clean."""
    await open_chart()
    made = [
        await fund(WALLET, "100", reason_zh="巡逻奖励"),
        await fund(BUDGET, "500"),
        await fund(WALLET_2, "20", reason_zh="清扫奖励"),
        await spend(WALLET, "30"),
        await spend(WALLET_2, "5"),
    ]
    report = await verify_ledger()
    assert report.ok, report.faults
    assert report.sealed_now == 5 and report.entries_checked == 5 and report.unsealed == 0
    assert [entry_id for block in await blocks_after(0, 100) for entry_id in block.entry_ids] == [e.id for e in made]
    assert await unsealed_count() == 0
    return made


async def block_of(entry_id: int) -> tuple[Block, int]:
    """The block that sealed ``entry_id``, and the entry's place in it."""
    for block in await blocks_after(0, 100):
        if entry_id in block.entry_ids:
            return block, block.entry_ids.index(entry_id)
    raise AssertionError(f"entry {entry_id} is not sealed")


async def rewrite_block(block: Block, entry_ids: list[int], links: bytes, head_seq: int, head: str) -> None:
    await raw(
        "UPDATE ledger_chain_block SET entry_ids = {}, links = {}, head_seq = {}, head = {} WHERE id = {}",
        pack_ids(entry_ids),
        links,
        head_seq,
        head,
        block.id,
    )


async def links_of(entry_ids: list[int]) -> list[str]:
    """The whole links of the chain's first entries, recomputed as a tamperer
    who knows the algorithm would (SHA-256 has no secret)."""
    rows = await entries_by_id(entry_ids)
    postings = await postings_by_entry(entry_ids)
    links, previous = [], GENESIS
    for entry_id in entry_ids:
        previous = entry_digest(rows[entry_id], postings[entry_id], previous)
        links.append(previous)
    return links


async def undo_balance(posting_row: dict[str, int]) -> None:
    """Take a posting's effect off its account's materialised balance (covering a deletion)."""
    await raw(
        f"UPDATE ledger_account SET balance_minor = balance_minor - ({posting_row['amount_minor']}) "
        f"WHERE id = {posting_row['account']}"
    )


async def delete_entry(entry_id: int) -> None:
    """Remove an entry's rows as a careful tamperer would: balances compensated, postings, then the row."""
    for row in await posting_rows(entry_id):
        await undo_balance(row)
    await raw(f"DELETE FROM ledger_posting WHERE entry = {entry_id}")
    await raw(f"DELETE FROM ledger_entry WHERE id = {entry_id}")


async def unseal(entry_id: int) -> None:
    """Take a sealed entry out of its block, keeping the block consistent:
    the later entries move up one position."""
    block, index = await block_of(entry_id)
    ids = list(block.entry_ids)
    del ids[index]
    links = block.links[: index * LINK_BYTES] + block.links[(index + 1) * LINK_BYTES :]
    await rewrite_block(block, ids, links, block.head_seq - 1, block.head)


def checks(report: VerifyReport) -> set[str]:
    return {fault.check for fault in report.faults}


async def posting_rows(entry_id: int) -> list[dict[str, int]]:
    return list(
        await LedgerPosting.select(LedgerPosting.id, LedgerPosting.account, LedgerPosting.amount_minor)
        .where(LedgerPosting.entry == entry_id)
        .order_by(LedgerPosting.id)
        .run()
    )


async def test_a_clean_ledger_verifies_repeatedly(entries: list[EntryRecord]) -> None:
    """Control: without tampering, verify stays ok, seals nothing new, and the head it reports checks out."""
    report = await verify_ledger()
    assert report.ok and report.sealed_now == 0 and report.entries_checked == 5
    assert report.head_seq == 5
    again = await verify_ledger(expect_head=(report.head_seq, report.head_hash))
    assert again.ok, again.faults
    # The head stays valid as the chain grows.
    await fund(WALLET, "1")
    grown = await verify_ledger(expect_head=(report.head_seq, report.head_hash))
    assert grown.ok and grown.head_seq == 6 and grown.sealed_now == 1


async def test_changed_posting_amount_is_reported_at_its_entry(entries: list[EntryRecord]) -> None:
    """One posting's amount changed by raw SQL -> not ok, first_broken_entry_id is that entry."""
    target = entries[2]
    posting_id = (await posting_rows(target.id))[1]["id"]
    await raw(f"UPDATE ledger_posting SET amount_minor = amount_minor + 1 WHERE id = {posting_id}")
    report = await verify_ledger()
    assert not report.ok
    assert report.first_broken_entry_id == target.id
    chain = [f for f in report.faults if f.check == "chain"]
    assert [f.entry_id for f in chain] == [target.id]
    assert {"chain", "entry_balanced", "balance_materialised"} <= checks(report)


async def test_balanced_consistent_tamper_is_still_caught_by_the_chain(entries: list[EntryRecord]) -> None:
    """Both legs and both balances changed consistently (every other check passes):
    the chain alone reports the entry."""
    target = entries[0]  # issuance -> wallet 100
    for row in await posting_rows(target.id):
        delta = 1000 if row["amount_minor"] > 0 else -1000
        await raw(f"UPDATE ledger_posting SET amount_minor = amount_minor + {delta} WHERE id = {row['id']}")
        await raw(f"UPDATE ledger_account SET balance_minor = balance_minor + {delta} WHERE id = {row['account']}")
    report = await verify_ledger()
    assert checks(report) == {"chain"}, report.faults
    assert report.first_broken_entry_id == target.id


async def test_posting_added_to_a_sealed_entry_is_a_chain_fault(entries: list[EntryRecord]) -> None:
    """Two balancing postings inserted into a sealed entry (balances moved to match) -> chain fault at that entry."""
    target = entries[3]
    legs = await posting_rows(target.id)
    for row in legs:
        delta = 700 if row["amount_minor"] > 0 else -700
        await raw(
            "INSERT INTO ledger_posting (id, entry, account, amount_minor, balance_after_minor, created_at) "
            "VALUES ({}, {}, {}, {}, 0, {})",
            10_000 + row["id"],
            target.id,
            row["account"],
            delta,
            target.created_at,
        )
        await raw(f"UPDATE ledger_account SET balance_minor = balance_minor + {delta} WHERE id = {row['account']}")
    report = await verify_ledger()
    assert [(f.check, f.entry_id) for f in report.faults] == [("chain", target.id)]


async def test_changed_reason_is_a_chain_fault_naming_the_entry(entries: list[EntryRecord]) -> None:
    """reason_zh rewritten by raw SQL -> exactly one chain fault, naming that entry."""
    target = entries[3]
    await raw(f"UPDATE ledger_entry SET reason_zh = '篡改的理由' WHERE id = {target.id}")
    report = await verify_ledger()
    assert not report.ok
    assert [(f.check, f.entry_id) for f in report.faults] == [("chain", target.id)]
    assert report.first_broken_entry_id == target.id


async def test_changed_chain_hash_is_a_chain_fault(entries: list[EntryRecord]) -> None:
    """The seal itself overwritten (an entry's link in its block, or the block's head) -> chain fault at that entry."""
    target = entries[1]
    block, index = await block_of(target.id)
    forged = block.links[: index * LINK_BYTES] + b"\xff" * LINK_BYTES + block.links[(index + 1) * LINK_BYTES :]
    await rewrite_block(block, list(block.entry_ids), forged, block.head_seq, block.head)
    report = await verify_ledger()
    assert [(f.check, f.entry_id) for f in report.faults] == [("chain", target.id)]
    await rewrite_block(block, list(block.entry_ids), block.links, block.head_seq, "f" * 64)
    report = await verify_ledger()
    assert [(f.check, f.entry_id) for f in report.faults] == [("chain", entries[-1].id)]


async def test_deleted_sealed_entry_is_a_chain_fault(entries: list[EntryRecord]) -> None:
    """A middle entry and its postings deleted (balances compensated so nothing else
    notices), and taken out of its block -> chain fault at the gap."""
    await delete_entry(entries[1].id)
    await unseal(entries[1].id)
    report = await verify_ledger()
    assert not report.ok
    assert checks(report) == {"chain"}, report.faults
    # The gap is reported at the entry that now sits where the deleted one was.
    assert report.first_broken_entry_id == entries[2].id


async def test_deleted_sealed_entry_left_in_its_block_is_named(entries: list[EntryRecord]) -> None:
    """A middle entry and its postings deleted, its block untouched -> chain fault naming the missing entry."""
    await delete_entry(entries[1].id)
    report = await verify_ledger()
    assert checks(report) == {"chain"}, report.faults
    assert report.first_broken_entry_id == entries[1].id
    assert "missing" in report.faults[0].detail


async def test_deleted_newest_sealed_entry_is_detected(entries: list[EntryRecord]) -> None:
    """Cutting off the newest sealed entry (balances compensated): its block still names it.

    Regression: the rest of the chain still verified, so tail truncation used to go unnoticed.
    """
    await delete_entry(entries[-1].id)
    report = await verify_ledger()
    assert not report.ok
    assert checks(report) == {"chain"}, report.faults
    assert report.first_broken_entry_id == entries[-1].id
    assert report.head_seq == 5


async def test_cutting_entries_and_their_seals_is_caught_by_the_recorded_head(entries: list[EntryRecord]) -> None:
    """Someone who also cuts the block (recomputing its head) evades the database's own checks,
    but not a head recorded outside it."""
    recorded = await verify_ledger()
    head = (recorded.head_seq, recorded.head_hash)
    await delete_entry(entries[-1].id)
    block, _ = await block_of(entries[-1].id)
    kept = [entry.id for entry in entries[:-1]]
    await rewrite_block(
        block, kept, b"".join(link_prefix(link) for link in await links_of(kept)), 4, (await links_of(kept))[-1]
    )
    # Without the recorded head, nothing left in the database contradicts the cut: ledger/README.md.
    assert (await verify_ledger()).ok
    report = await verify_ledger(expect_head=head)
    assert checks(report) == {"chain_head"}, report.faults


async def test_changed_materialised_balance_names_the_account(entries: list[EntryRecord]) -> None:
    """A materialised balance changed by raw SQL -> balance_materialised fault naming the account code."""
    await raw(f"UPDATE ledger_account SET balance_minor = balance_minor + 500 WHERE code = '{SHOP}'")
    report = await verify_ledger()
    assert not report.ok
    materialised = [f for f in report.faults if f.check == "balance_materialised"]
    assert [f.account_code for f in materialised] == [SHOP]
    assert "trial_balance" in checks(report)
    assert "chain" not in checks(report)
    rows = await LedgerAccount.select(LedgerAccount.balance_minor).where(LedgerAccount.code == SHOP).run()
    assert rows[0]["balance_minor"] == 3500 + 500


async def test_changed_held_total_names_the_account(entries: list[EntryRecord]) -> None:
    """A held total that no active hold justifies -> held_materialised fault naming the account."""
    await raw(f"UPDATE ledger_account SET held_minor = 100 WHERE code = '{WALLET}'")
    report = await verify_ledger()
    assert [(f.check, f.account_code) for f in report.faults] == [("held_materialised", WALLET)]
