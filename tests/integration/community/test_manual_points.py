"""Manual points as a domain service (``community.manual_points``), the
same for every face: decisions on a four-eyes request race safely, and an
adjustment, a decision or a reversal commits together with its audit
record or not at all.

Concurrency runs real concurrent transactions (on PostgreSQL each on its
own pooled connection, serialised by the request's row lock; on SQLite by
BEGIN IMMEDIATE).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from community import audit, manual_points
from community.accounts import issuance_code, wallet_code
from community.errors import AdjustmentNotPending
from community.manual_points import (
    AdjustmentDraft,
    adjust,
    approve_adjustment,
    reject_adjustment,
    reverse_manual_entry,
)
from community.models import AdjustmentRequestRecord
from community.roles import Role
from community.tables import AdjustmentRequest, AuditEvent
from ledger.accounts import get_balance
from ledger.models import EntryRecord
from tests.integration.marketplace.test_concurrency import rendezvous
from tests.support.community_helpers import Tree, add_member, principal
from tests.support.marketplace_helpers import assert_ledger_ok, snapshot_everything


class AuditDown(Exception):
    """The audit insert failed (injected)."""


def _draft(tree: Tree, amount: str, *, debit: str | None = None, credit: str | None = None) -> AdjustmentDraft:
    return AdjustmentDraft(
        debit_account=debit or issuance_code(tree.community),
        credit_account=credit or wallet_code(tree.volunteer),
        amount=Decimal(amount),
        reason_zh="表彰",
    )


async def _pending(tree: Tree, amount: str, key: str) -> AdjustmentRequestRecord:
    made = await adjust(await principal(tree.admin), _draft(tree, amount), idempotency_key=key)
    assert isinstance(made, AdjustmentRequestRecord) and made.status == "pending"
    return made


async def test_concurrent_approve_and_reject_exactly_one_wins(tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    """Five requests, each approved by the organiser while the requester
    withdraws it, both transactions open at once: per request exactly one
    decision lands, the other is ``adjustment_not_pending``; the wallet
    gains exactly the approved amounts and nothing stays held."""
    requests = [await _pending(tree, f"{600 + n}.00", f"race-{n:04d}") for n in range(5)]
    organiser, admin = await principal(tree.organiser), await principal(tree.admin)
    approved = Decimal("0.00")
    for request in requests:
        rendezvous(monkeypatch, manual_points, "_request", parties=2)
        results = await asyncio.gather(
            approve_adjustment(organiser, request.id),
            reject_adjustment(admin, request.id, reason_zh="撤回"),
            return_exceptions=True,
        )
        monkeypatch.undo()
        winners = [r for r in results if isinstance(r, AdjustmentRequestRecord)]
        losers = [r for r in results if isinstance(r, AdjustmentNotPending)]
        assert len(winners) == 1 and len(losers) == 1, results
        if winners[0].status == "approved":
            approved += request.amount
        row = (await AdjustmentRequest.select().where(AdjustmentRequest.id == request.id).run())[0]
        assert row["status"] == winners[0].status
    wallet = await get_balance(wallet_code(tree.volunteer))
    assert wallet.balance == approved and wallet.held == Decimal("0.00")
    assert (await get_balance(issuance_code(tree.community))).held == Decimal("0.00")
    decisions = await AuditEvent.count().where(
        AuditEvent.action.is_in(["ledger.adjustment.approve", "ledger.adjustment.reject"])
    )
    assert decisions == len(requests)
    await assert_ledger_ok()


async def test_concurrent_approvals_post_once(tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    second = await add_member("周主任", "13900000011", tree.community, Role.ORGANIZER)
    request = await _pending(tree, "700.00", "double-approve")
    rendezvous(monkeypatch, manual_points, "_request", parties=2)
    results = await asyncio.gather(
        approve_adjustment(await principal(tree.organiser), request.id),
        approve_adjustment(await principal(second), request.id),
        return_exceptions=True,
    )
    monkeypatch.undo()
    assert sorted(type(r).__name__ for r in results) == ["AdjustmentNotPending", "AdjustmentRequestRecord"], results
    assert (await get_balance(wallet_code(tree.volunteer))).balance == Decimal("700.00")
    await assert_ledger_ok()


async def test_a_failed_audit_write_undoes_the_change(tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inject a failure into the audit insert: the adjustment (direct or
    pending), the approval, the rejection and the reversal each leave no
    trace: no entry, no hold, no request, no balance change."""
    admin, organiser = await principal(tree.admin), await principal(tree.organiser)
    direct = await adjust(admin, _draft(tree, "5.00"), idempotency_key="kept-direct")
    to_approve = await _pending(tree, "600.00", "kept-approve")
    to_reject = await _pending(tree, "601.00", "kept-reject")
    assert isinstance(direct, EntryRecord)

    async def failing(*args: Any, **kwargs: Any) -> None:
        raise AuditDown

    monkeypatch.setattr(audit, "record", failing)
    attempts: dict[str, Callable[[], Awaitable[object]]] = {
        "direct": lambda: adjust(admin, _draft(tree, "6.00"), idempotency_key="lost-direct"),
        "pending": lambda: adjust(admin, _draft(tree, "650.00"), idempotency_key="lost-pending"),
        "approve": lambda: approve_adjustment(organiser, to_approve.id),
        "reject": lambda: reject_adjustment(organiser, to_reject.id, reason_zh="不同意"),
        "reverse": lambda: reverse_manual_entry(organiser, direct.id, reason_zh="冲正", idempotency_key="lost-rev"),
    }
    for name, attempt in attempts.items():
        before = await snapshot_everything()
        with pytest.raises(AuditDown):
            await attempt()
        after = await snapshot_everything()
        assert [table for table in before if before[table] != after[table]] == [], name
    await assert_ledger_ok()
