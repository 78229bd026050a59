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
from collections.abc import Awaitable, Callable, Iterator
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
from fengling_settings import get_settings
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


@pytest.fixture
def daily_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """One actor may post 1,000.00 a day on their own word (500.00 a request)."""
    monkeypatch.setenv("FENGLING_ADJUSTMENT_DAILY_LIMIT", "1000.00")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def _volunteers(tree: Tree, count: int) -> list[str]:
    """Wallets of ``count`` new volunteers in the organiser's community."""
    return [
        wallet_code(await add_member(f"志愿者{n}", f"1370000{n:04d}", tree.grid2, Role.VOLUNTEER)) for n in range(count)
    ]


async def test_small_adjustments_that_add_up_past_the_limits_wait_for_a_second_person(
    tree: Tree, daily_limit: None
) -> None:
    """The security review's split: 500.00 at a time posts at once, so
    2,000.00 into one wallet or across several used to need nobody else.
    Now one wallet receives at most 500.00 a day so, and one organiser posts
    at most the daily limit; past either, even 0.01 is a pending request,
    and its audit record says why."""
    organiser = await principal(tree.organiser)
    first = await adjust(organiser, _draft(tree, "500.00"), idempotency_key="split-1")
    assert isinstance(first, EntryRecord)
    again = await adjust(organiser, _draft(tree, "0.01"), idempotency_key="split-2")
    assert isinstance(again, AdjustmentRequestRecord) and again.status == "pending"

    wallets = await _volunteers(tree, 2)
    second = await adjust(organiser, _draft(tree, "500.00", credit=wallets[0]), idempotency_key="split-3")
    assert isinstance(second, EntryRecord)  # 1,000.00 posted today: at the limit, not past it
    third = await adjust(organiser, _draft(tree, "0.01", credit=wallets[1]), idempotency_key="split-4")
    assert isinstance(third, AdjustmentRequestRecord)

    reasons = [
        row["detail"]["because"]
        for row in await AuditEvent.select(AuditEvent.detail)
        .where(AuditEvent.action == "ledger.adjustment.request")
        .order_by(AuditEvent.id)
        .output(load_json=True)
        .run()
    ]
    assert reasons == ["account_window", "actor_window"]
    # Another organiser still posts to a fresh wallet on their own word;
    # approved requests had their second person and count for nobody.
    other = await principal(await add_member("周主任", "13900000011", tree.community, Role.ORGANIZER))
    assert isinstance(await approve_adjustment(other, third.id), AdjustmentRequestRecord)
    fresh = await adjust(other, _draft(tree, "400.00", credit=wallets[1]), idempotency_key="split-5")
    assert isinstance(fresh, EntryRecord)
    await assert_ledger_ok()


async def test_a_retried_adjustment_answers_as_first_time_after_the_limit_is_reached(
    tree: Tree, daily_limit: None
) -> None:
    """A retry of an adjustment that posted replays its entry, though the
    same amount now would wait; a retry of one that waited replays its
    request, though the same amount now would post."""
    organiser = await principal(tree.organiser)
    posted = await adjust(organiser, _draft(tree, "500.00"), idempotency_key="retry-posted")
    waited = await adjust(organiser, _draft(tree, "10.00"), idempotency_key="retry-waited")
    assert isinstance(posted, EntryRecord) and isinstance(waited, AdjustmentRequestRecord)
    replayed = await adjust(organiser, _draft(tree, "500.00"), idempotency_key="retry-posted")
    assert isinstance(replayed, EntryRecord) and replayed.id == posted.id and replayed.replayed
    await reject_adjustment(organiser, waited.id, reason_zh="撤回")
    again = await adjust(organiser, _draft(tree, "10.00"), idempotency_key="retry-waited")
    assert isinstance(again, AdjustmentRequestRecord) and again.id == waited.id and again.replayed


async def test_concurrent_small_adjustments_by_one_actor_cannot_both_fit_under_the_daily_limit(
    tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a daily limit of 900.00, two adjustments of 500.00 each fit
    alone. Sent at once between four different wallets (no account lock in
    common), the actor's row lock queues them, so exactly one posts and the
    other waits for a second person."""
    wallets = await _volunteers(tree, 4)
    admin = await principal(tree.admin)
    for n, wallet in enumerate(wallets[:2]):  # funded by someone else, before the limit is lowered
        await adjust(admin, _draft(tree, "500.00", credit=wallet), idempotency_key=f"fund-{n}")
    monkeypatch.setenv("FENGLING_ADJUSTMENT_DAILY_LIMIT", "900.00")
    get_settings.cache_clear()
    organiser = await principal(tree.organiser)
    # The gate is where each reads the day's totals: without the actor's
    # lock both would read 0.00 there and both post.
    rendezvous(monkeypatch, manual_points, "unattended_totals", parties=2)
    results = await asyncio.gather(
        adjust(organiser, _draft(tree, "500.00", debit=wallets[0], credit=wallets[2]), idempotency_key="race-a"),
        adjust(organiser, _draft(tree, "500.00", debit=wallets[1], credit=wallets[3]), idempotency_key="race-b"),
        return_exceptions=True,
    )
    monkeypatch.undo()
    get_settings.cache_clear()
    assert sorted(type(r).__name__ for r in results) == ["AdjustmentRequestRecord", "EntryRecord"], results
    received = [(await get_balance(wallet)).balance for wallet in wallets[2:]]
    assert sorted(received) == [Decimal("0.00"), Decimal("500.00")]
    await assert_ledger_ok()
