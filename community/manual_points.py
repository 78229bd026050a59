"""Manual points: adjustments by organisers and admins, their four-eyes
approval, and the generic reversal.

The ledger moves points between codes and knows nothing of people; this
module is where a manual move is tied to who asked for it and who may.
Every face (API, CLI, jobs, admin forms) calls these functions and gets the
same answers:

- Both accounts must be managed by the acting principal (the account's
  organisation is in the subtree of one of their organiser/admin grants);
  any other account is ``account_not_found`` (404), exactly like a missing
  one, so codes cannot be probed. A shop's settlement account is never
  debited by hand (its balance is owed to unsettled months).
- No adjustment credits the actor's own wallet (``self_credit``, 403), and
  no reversal does either.
- Above ``FENGLING_ADJUSTMENT_APPROVAL_ABOVE`` an adjustment is *pending*:
  its points are held on the debit account and an ``AdjustmentRequest``
  records it. So is a small one that would take what its actor posted on
  their own word in the last 24 hours past ``FENGLING_ADJUSTMENT_DAILY_LIMIT``,
  or what its credited account so received past the per-request threshold
  (``second_person_needed``): splitting a large move into small ones does
  not get round the second person. It posts only when a second organiser or admin over both
  accounts approves: never the requester, never the owner of the credited
  wallet. Rejection and expiry (``FENGLING_ADJUSTMENT_APPROVAL_HOURS``) void
  the hold. A request leaves ``pending`` exactly once, under its row lock.
- The generic reversal undoes manual adjustments and entries that no flow
  owns. An entry of a redemption order, an activity award, a campaign
  funding or close, or a shop settlement is refused with a code naming its
  flow: only that flow keeps its own state in step with the ledger.

Each change and its audit record are written in one transaction: both
commit or neither does.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from community import audit
from community.access import Principal, can_manage_account, managed_organisations
from community.accounts import member_ref
from community.errors import (
    AccessRefused,
    AdjustmentNotFound,
    AdjustmentNotPending,
    ManagedAccountNotFound,
    ReversalOwnedByFlow,
    SettlementAccountProtected,
)
from community.models import AdjustmentPage, AdjustmentRequestRecord, AdjustmentStatus
from community.tables import AdjustmentRequest, AuditEvent, Member
from core.clock import utc_now
from core.database import in_write_transaction, lock_row
from fengling_settings import get_settings
from ledger.accounts import find_balance
from ledger.amounts import parse_amount, to_minor
from ledger.errors import EntryNotFound, HoldNotActive, IdempotencyConflict, InvalidEntry
from ledger.holds import create_hold, get_hold, post_hold, void_hold
from ledger.models import MAX_REASON_CHARS, AccountBalance, EntryRecord, HoldStatus
from ledger.posting import find_entry_by_key, fingerprint, load_entry, lock_accounts, transfer
from ledger.reversal import reverse_entry

ADJUSTMENT_KIND = "adjustment"

# The hold outlives the request by a day, so the request's own expiry (the
# job below) voids it; the ledger's hold expiry is only the backstop.
HOLD_MARGIN = timedelta(days=1)

# A page of requests; a queue longer than this is read page by page.
MAX_PAGE_SIZE = 100

# Entry kinds and cause prefixes of the flows that own their entries. A
# manual adjustment can set neither (only reasons and memo), so an entry
# cannot be made to look manual, nor a manual one to look owned.
_FLOW_BY_KIND = {
    "redemption": "order",
    "award": "activity",
    "award_bonus": "activity",
    "campaign_fund": "campaign",
    "campaign_return": "campaign",
    "settlement": "settlement",
}
_FLOW_BY_METADATA = (
    ("order_id", "order"),
    ("activity_id", "activity"),
    ("campaign_id", "campaign"),
    ("period", "settlement"),
)
_MANUAL_CAUSE = "adjustment"
_FLOW_NAME = re.compile(r"^[a-z][a-z_]{0,29}$")


@dataclass(frozen=True, slots=True)
class AdjustmentDraft:
    """What an organiser asks for: move ``amount`` from one account to another."""

    debit_account: str
    credit_account: str
    amount: Decimal
    reason_zh: str
    reason_en: str = ""
    memo: str = ""


# How far back the adjustments one posted on one's own word are counted.
UNATTENDED_WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class UnattendedTotals:
    """What was posted by hand without a second person in the window: by
    this actor (all accounts), and to this credited account (all actors)."""

    by_actor: Decimal
    to_account: Decimal


def second_person_needed(
    amount: Decimal, recent: UnattendedTotals, *, single_limit: Decimal, daily_limit: Decimal
) -> str | None:
    """Why an adjustment must wait for a second person, or ``None`` when it
    may post on its actor's word: ``amount`` above the per-request limit;
    the credited account would receive more than that limit in the window;
    or the actor would post more than the daily limit in it."""
    if amount > single_limit:
        return "amount"
    if recent.to_account + amount > single_limit:
        return "account_window"
    if recent.by_actor + amount > daily_limit:
        return "actor_window"
    return None


def needs_approval(amount: Decimal) -> bool:
    """The per-request half of the rule: above the threshold, always."""
    return amount > get_settings().adjustment_approval_above


async def unattended_totals(actor_ref: str, credit_code: str, since: datetime) -> UnattendedTotals:
    """The adjustments posted at once (audit ``ledger.adjustment``; approved
    requests had their second person and are not counted) since ``since``.
    Read from the audit trail, written in the same transaction as each
    entry; manual adjustments are few, so the window's rows are few."""
    rows = (
        await AuditEvent.select(AuditEvent.actor_ref, AuditEvent.detail)
        .where(AuditEvent.action == "ledger.adjustment", AuditEvent.at >= since)
        .output(load_json=True)
        .run()
    )
    by_actor = to_account = Decimal(0)
    for row in rows:
        detail = row["detail"] if isinstance(row["detail"], dict) else {}
        amount = parse_amount(str(detail.get("amount", "0")))
        if row["actor_ref"] == actor_ref:
            by_actor += amount
        if detail.get("credit") == credit_code:
            to_account += amount
    return UnattendedTotals(by_actor=by_actor, to_account=to_account)


def member_key(principal: Principal, idempotency_key: str) -> str:
    """Keys are per member, so two organisers can never collide."""
    return f"api:{principal.member_id}:{idempotency_key}"


def owning_flow(entry: EntryRecord) -> str | None:
    """The flow that owns ``entry`` (``order``, ``activity``, ``campaign``,
    ``settlement``…), or ``None`` for a manual adjustment and an entry no
    flow claims. Read from what every flow records: the cause reference
    first, then the kind, then the metadata keys."""
    prefix = entry.cause_ref.partition(":")[0]
    if prefix and prefix != _MANUAL_CAUSE:
        return prefix if _FLOW_NAME.match(prefix) else "flow"
    if entry.kind in _FLOW_BY_KIND:
        return _FLOW_BY_KIND[entry.kind]
    if entry.kind == ADJUSTMENT_KIND:
        return None
    for key, flow in _FLOW_BY_METADATA:
        if key in entry.metadata:
            return flow
    return None


def _is_own(principal: Principal, account: AccountBalance) -> bool:
    return account.owner_ref == principal.ref


def _check_reason(reason_zh: str, reason_en: str, *, field: str = "reason_zh") -> None:
    if not 1 <= len(reason_zh.strip()) <= MAX_REASON_CHARS:
        raise InvalidEntry(f"a reason of 1-{MAX_REASON_CHARS} characters is needed", field=field)
    if len(reason_en) > MAX_REASON_CHARS:
        raise InvalidEntry(f"at most {MAX_REASON_CHARS} characters", field="reason_en")


async def _managed_account(principal: Principal, code: str, field: str) -> AccountBalance:
    account = await find_balance(code)
    if account is None or not await can_manage_account(principal, account):
        raise ManagedAccountNotFound(f"no account {code!r} that you manage", field=field)
    return account


def _scope_organisation(account: AccountBalance) -> int:
    """A managed account is always scoped to an organisation (``org:<id>``)."""
    return int(account.scope_ref.partition(":")[2])


async def _request(request_id: int, *, lock: bool) -> AdjustmentRequestRecord:
    """The request, locked until the transaction ends when ``lock``."""
    if lock:
        row = await lock_row(AdjustmentRequest, request_id)
    else:
        rows = await AdjustmentRequest.select().where(AdjustmentRequest.id == request_id).run()
        row = rows[0] if rows else None
    if row is None:
        raise AdjustmentNotFound(f"no adjustment request {request_id} that you may decide", field="adjustment_id")
    return AdjustmentRequestRecord.from_row(row)


async def _request_by_key(key: str) -> AdjustmentRequestRecord | None:
    rows = await AdjustmentRequest.select().where(AdjustmentRequest.idempotency_key == key).run()
    return AdjustmentRequestRecord.from_row(rows[0]) if rows else None


async def _require_visible(principal: Principal, request: AdjustmentRequestRecord) -> None:
    """Managers over both accounts see a request; to anyone else it does not exist."""
    managed = await managed_organisations(principal)
    if request.debit_organisation_id not in managed or request.credit_organisation_id not in managed:
        raise AdjustmentNotFound(f"no adjustment request {request.id} that you may decide", field="adjustment_id")


def check_pending(request: AdjustmentRequestRecord, moment: datetime) -> None:
    """A request is decided only while pending and before it expires."""
    if request.status != AdjustmentStatus.PENDING:
        raise AdjustmentNotPending(
            f"adjustment request {request.id} is already {request.status}", field="adjustment_id"
        )
    if request.expires_at <= moment:
        raise AdjustmentNotPending(
            f"adjustment request {request.id} expired at {request.expires_at.isoformat()}", field="adjustment_id"
        )


# --- Adjustments -------------------------------------------------------------------


async def adjust(
    principal: Principal, draft: AdjustmentDraft, *, idempotency_key: str, four_eyes: bool = False
) -> EntryRecord | AdjustmentRequestRecord:
    """Move points by hand between two accounts the principal manages.

    At or below the approval threshold the entry posts at once (the entry is
    returned); above it, the points are held and the pending request that
    waits for a second person is returned. ``four_eyes`` asks for that
    second person whatever the amount (the operator console does: an
    operator's hand-made move never posts on one person's word).
    Retrying with the same key returns the original outcome (``replayed``);
    the same key with another payload is ``IdempotencyConflict``.
    """
    amount = parse_amount(draft.amount)
    if amount <= 0:
        raise InvalidEntry("amount must be positive; swap the accounts to move points back", field="amount")
    _check_reason(draft.reason_zh, draft.reason_en)
    if draft.debit_account.startswith("shop:"):
        raise SettlementAccountProtected("a shop settlement account cannot be debited by hand", field="debit_account")
    debit = await _managed_account(principal, draft.debit_account, "debit_account")
    credit = await _managed_account(principal, draft.credit_account, "credit_account")
    if debit.code == credit.code:
        raise InvalidEntry("debit and credit must be two different accounts", field="credit_account")
    if _is_own(principal, credit):
        raise AccessRefused(
            "nobody credits their own wallet by hand; ask another organiser", field="credit_account", code="self_credit"
        )
    key = member_key(principal, idempotency_key)
    if four_eyes or needs_approval(amount):
        return await _request_adjustment(
            principal, debit, credit, amount, draft, key, because="four_eyes" if four_eyes else "amount"
        )
    posted = await _post_adjustment(principal, debit, credit, amount, draft, key)
    if isinstance(posted, str):  # over a 24-hour limit, or the key names a request
        return await _request_adjustment(principal, debit, credit, amount, draft, key, because=posted)
    return posted


async def _post_adjustment(
    principal: Principal,
    debit: AccountBalance,
    credit: AccountBalance,
    amount: Decimal,
    draft: AdjustmentDraft,
    key: str,
) -> EntryRecord | str:
    """Post at once, unless the 24-hour limits say a second person is needed
    (then why, and the caller files a request instead; so too when the key
    already names a request, which the request path replays or refuses)."""

    async def work() -> EntryRecord | str:
        # Both accounts locked first (ascending ids), as a pending request
        # with this key would lock its debit account: the two paths queue.
        # Then the actor's member row: their adjustments to other accounts
        # queue too, so two at once cannot both fit under the daily limit.
        await lock_accounts([debit.code, credit.code])
        await lock_row(Member, principal.member_id, Member.id)
        if await _request_by_key(key) is not None:
            return "requested"
        if await find_entry_by_key(key) is None:  # a retry of a posted one replays below
            settings = get_settings()
            recent = await unattended_totals(principal.ref, credit.code, utc_now() - UNATTENDED_WINDOW)
            because = second_person_needed(
                amount,
                recent,
                single_limit=settings.adjustment_approval_above,
                daily_limit=settings.adjustment_daily_limit,
            )
            if because is not None:
                return because
        entry = await transfer(
            debit_code=debit.code,
            credit_code=credit.code,
            amount=amount,
            kind=ADJUSTMENT_KIND,
            reason_zh=draft.reason_zh,
            reason_en=draft.reason_en,
            memo=draft.memo,
            actor_ref=principal.ref,
            idempotency_key=key,
        )
        if not entry.replayed:
            await audit.record(
                principal.ref,
                "ledger.adjustment",
                f"entry:{entry.id}",
                amount=str(amount),
                debit=debit.code,
                credit=credit.code,
            )
        return entry

    return await in_write_transaction(work, retry_unique=True)


async def _request_adjustment(
    principal: Principal,
    debit: AccountBalance,
    credit: AccountBalance,
    amount: Decimal,
    draft: AdjustmentDraft,
    key: str,
    *,
    because: str,
) -> AdjustmentRequestRecord:
    """Hold the points and file the request a second person decides;
    ``because`` (why one is needed) goes in the audit record."""
    request_fingerprint = fingerprint(
        {
            "op": "adjustment_request",
            "debit": debit.code,
            "credit": credit.code,
            "amount": str(amount),
            "reason_zh": draft.reason_zh,
            "reason_en": draft.reason_en,
            "memo": draft.memo,
        }
    )

    async def work() -> AdjustmentRequestRecord:
        await lock_accounts([debit.code])
        existing = await _request_by_key(key)
        if existing is not None:
            if existing.request_fingerprint != request_fingerprint:
                raise IdempotencyConflict(key)
            return replace(existing, replayed=True)
        if await find_entry_by_key(key) is not None:
            raise IdempotencyConflict(key)
        now = utc_now()
        expires_at = now + timedelta(hours=get_settings().adjustment_approval_hours)
        inserted = await AdjustmentRequest.insert(
            AdjustmentRequest(
                requested_by=principal.member_id,
                debit_account=debit.code,
                credit_account=credit.code,
                debit_organisation=_scope_organisation(debit),
                credit_organisation=_scope_organisation(credit),
                amount_minor=to_minor(amount),
                reason_zh=draft.reason_zh,
                reason_en=draft.reason_en,
                memo=draft.memo,
                status=AdjustmentStatus.PENDING.value,
                idempotency_key=key,
                request_fingerprint=request_fingerprint,
                created_at=now,
                expires_at=expires_at,
            )
        ).run()
        request_id = int(inserted[0]["id"])
        hold = await create_hold(
            account_code=debit.code,
            amount=amount,
            reason_zh=f"待审批调整：{draft.reason_zh}"[:MAX_REASON_CHARS],
            reason_en=f"Adjustment awaiting approval: {draft.reason_en or draft.reason_zh}"[:MAX_REASON_CHARS],
            expires_at=expires_at + HOLD_MARGIN,
            actor_ref=principal.ref,
            cause_ref=f"{_MANUAL_CAUSE}:{request_id}",
            metadata={"adjustment_id": request_id, "credit_account": credit.code},
            idempotency_key=f"{_MANUAL_CAUSE}:{request_id}:hold",
        )
        await (
            AdjustmentRequest.update({AdjustmentRequest.hold_id: hold.id})
            .where(AdjustmentRequest.id == request_id)
            .run()
        )
        await audit.record(
            principal.ref,
            "ledger.adjustment.request",
            f"adjustment:{request_id}",
            amount=str(amount),
            debit=debit.code,
            credit=credit.code,
            hold_id=hold.id,
            because=because,
        )
        return await _request(request_id, lock=False)

    return await in_write_transaction(work, retry_unique=True)


async def approve_adjustment(
    principal: Principal, request_id: int, *, now: datetime | None = None
) -> AdjustmentRequestRecord:
    """The second person: post the held points to the credit account."""
    return await in_write_transaction(lambda: _approve(principal, request_id, now or utc_now()), retry_unique=True)


async def _approve(principal: Principal, request_id: int, moment: datetime) -> AdjustmentRequestRecord:
    """Under the request's row lock: who may approve, then post its hold."""
    request = await _request(request_id, lock=True)
    await _require_visible(principal, request)
    if request.requested_by == principal.member_id:
        raise AccessRefused(
            "a second organiser or admin must approve what you requested",
            field="adjustment_id",
            code="own_adjustment",
        )
    credit = await find_balance(request.credit_account)
    if credit is not None and _is_own(principal, credit):
        raise AccessRefused("nobody approves points for their own wallet", field="adjustment_id", code="self_credit")
    check_pending(request, moment)
    metadata: dict[str, Any] = {
        "adjustment_id": request_id,
        "requested_by": member_ref(request.requested_by),
        "approved_by": principal.ref,
    }
    if request.memo:
        metadata["memo"] = request.memo
    if request.hold_id is None:  # every pending request holds its points
        raise AdjustmentNotPending(f"adjustment request {request_id} holds no points", field="adjustment_id")
    _, entry = await post_hold(
        request.hold_id,
        destination_code=request.credit_account,
        kind=ADJUSTMENT_KIND,
        reason_zh=request.reason_zh,
        reason_en=request.reason_en,
        actor_ref=principal.ref,
        metadata=metadata,
        idempotency_key=f"{_MANUAL_CAUSE}:{request_id}:approve",
    )
    await (
        AdjustmentRequest.update(
            {
                AdjustmentRequest.status: AdjustmentStatus.APPROVED.value,
                AdjustmentRequest.entry_id: entry.id,
                AdjustmentRequest.decided_by: principal.member_id,
                AdjustmentRequest.decided_at: moment,
            }
        )
        .where(AdjustmentRequest.id == request_id)
        .run()
    )
    await audit.record(
        principal.ref,
        "ledger.adjustment.approve",
        f"adjustment:{request_id}",
        entry_id=entry.id,
        amount=str(request.amount),
        requested_by=member_ref(request.requested_by),
    )
    return await _request(request_id, lock=False)


async def reject_adjustment(
    principal: Principal, request_id: int, *, reason_zh: str, reason_en: str = "", now: datetime | None = None
) -> AdjustmentRequestRecord:
    """Refuse a pending request and release its held points. Any manager
    over both accounts may, the requester too (withdrawing it)."""
    _check_reason(reason_zh, reason_en)
    return await in_write_transaction(lambda: _reject(principal, request_id, reason_zh, now or utc_now()))


async def _reject(principal: Principal, request_id: int, reason_zh: str, moment: datetime) -> AdjustmentRequestRecord:
    """Under the request's row lock: release its hold and record the refusal."""
    request = await _request(request_id, lock=True)
    await _require_visible(principal, request)
    check_pending(request, moment)
    if request.hold_id is not None:
        await void_hold(request.hold_id)
    await (
        AdjustmentRequest.update(
            {
                AdjustmentRequest.status: AdjustmentStatus.REJECTED.value,
                AdjustmentRequest.decided_by: principal.member_id,
                AdjustmentRequest.decided_at: moment,
                AdjustmentRequest.decision_reason: reason_zh.strip(),
            }
        )
        .where(AdjustmentRequest.id == request_id)
        .run()
    )
    await audit.record(
        principal.ref,
        "ledger.adjustment.reject",
        f"adjustment:{request_id}",
        reason=reason_zh.strip(),
        amount=str(request.amount),
    )
    return await _request(request_id, lock=False)


async def list_adjustments(
    principal: Principal,
    *,
    status: AdjustmentStatus | None = AdjustmentStatus.PENDING,
    after_id: int | None = None,
    limit: int = 50,
) -> AdjustmentPage:
    """Requests over accounts the principal manages, oldest first (keyset:
    ``after_id`` is the previous page's ``next_cursor``)."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    managed = sorted(await managed_organisations(principal))
    if not managed:
        return AdjustmentPage(requests=[], next_cursor=None)
    query = AdjustmentRequest.select().where(
        AdjustmentRequest.debit_organisation.is_in(managed) & AdjustmentRequest.credit_organisation.is_in(managed)
    )
    if status is not None:
        query = query.where(AdjustmentRequest.status == status.value)
    if after_id is not None:
        query = query.where(AdjustmentRequest.id > after_id)
    rows = await query.order_by(AdjustmentRequest.id).limit(limit + 1).run()
    page = [AdjustmentRequestRecord.from_row(row) for row in rows[:limit]]
    return AdjustmentPage(requests=page, next_cursor=page[-1].id if len(rows) > limit else None)


async def expire_adjustments(*, now: datetime | None = None, batch_size: int = 100) -> int:
    """Void every pending request past its deadline and release its points.
    Returns how many expired. Each request in its own short transaction; one
    decided meanwhile is skipped. Safe to run from several workers."""
    cutoff = now or utc_now()
    expired = 0
    after_id = 0
    while True:
        ids = (
            await AdjustmentRequest.select(AdjustmentRequest.id)
            .where(
                (AdjustmentRequest.status == AdjustmentStatus.PENDING.value)
                & (AdjustmentRequest.expires_at <= cutoff)
                & (AdjustmentRequest.id > after_id)
            )
            .order_by(AdjustmentRequest.id)
            .limit(batch_size)
            .output(as_list=True)
            .run()
        )
        for request_id in ids:
            if await _expire_one(int(request_id), cutoff):
                expired += 1
        if len(ids) < batch_size:
            return expired
        after_id = int(ids[-1])


async def _expire_one(request_id: int, cutoff: datetime) -> bool:
    return await in_write_transaction(lambda: _expire(request_id, cutoff))


async def _expire(request_id: int, cutoff: datetime) -> bool:
    """Under the request's row lock: a request still pending past ``cutoff``
    expires and its hold is released; any other is left alone."""
    request = await _request(request_id, lock=True)
    if request.status != AdjustmentStatus.PENDING or request.expires_at > cutoff:
        return False
    if request.hold_id is not None and (await get_hold(request.hold_id)).status == HoldStatus.ACTIVE:
        # Released by the ledger's own hold expiry meanwhile: nothing to void.
        with contextlib.suppress(HoldNotActive):
            await void_hold(request.hold_id)
    await (
        AdjustmentRequest.update(
            {AdjustmentRequest.status: AdjustmentStatus.EXPIRED.value, AdjustmentRequest.decided_at: cutoff}
        )
        .where(AdjustmentRequest.id == request_id)
        .run()
    )
    await audit.record(
        "system",
        "ledger.adjustment.expire",
        f"adjustment:{request_id}",
        amount=str(request.amount),
        requested_by=member_ref(request.requested_by),
    )
    return True


# --- Entries and reversals ------------------------------------------------------------


async def visible_entry(principal: Principal, entry_id: int) -> EntryRecord:
    """An entry whose every account the principal manages; any other is
    ``entry_not_found``, like a missing one."""
    try:
        entry = await load_entry(entry_id)
    except EntryNotFound:
        entry = None
    if entry is not None:
        for posting in entry.postings:
            account = await find_balance(posting.account_code)
            if account is None or not await can_manage_account(principal, account):
                entry = None
                break
    if entry is None:
        raise EntryNotFound(f"no entry {entry_id} that you manage", field="entry_id")
    return entry


async def reverse_manual_entry(
    principal: Principal, entry_id: int, *, reason_zh: str, reason_en: str = "", idempotency_key: str
) -> EntryRecord:
    """Mirror a manual entry once. Refused, with nothing changed, for an
    entry a flow owns (``reversal_owned_by_<flow>``) and for a reversal that
    would credit the actor's own wallet."""
    _check_reason(reason_zh, reason_en)
    entry = await visible_entry(principal, entry_id)
    flow = owning_flow(entry)
    if flow is not None:
        raise ReversalOwnedByFlow(
            f"entry {entry_id} belongs to a {flow}; undo it there (cancel, return, reject or close), "
            "so its state stays in step with the ledger",
            flow=flow,
        )
    for posting in entry.postings:
        if posting.amount >= 0:
            continue  # the reversal debits this account
        account = await find_balance(posting.account_code)
        if account is not None and _is_own(principal, account):
            raise AccessRefused(
                "this reversal would credit your own wallet; ask another organiser",
                field="entry_id",
                code="self_credit",
            )

    async def work() -> EntryRecord:
        reversal = await reverse_entry(
            entry_id,
            reason_zh=reason_zh,
            reason_en=reason_en,
            actor_ref=principal.ref,
            idempotency_key=member_key(principal, idempotency_key),
        )
        if not reversal.replayed:
            await audit.record(principal.ref, "ledger.reversal", f"entry:{entry_id}", reversal_entry_id=reversal.id)
        return reversal

    return await in_write_transaction(work, retry_unique=True)
