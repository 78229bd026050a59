"""Two-phase transfers: reserve now, post or void later.

A hold lowers the account's *available* balance (balance − active holds)
without moving points. Posting it moves up to the held amount to a
destination in one entry and releases the rest; voiding or expiry releases
it all. A hold leaves ``active`` exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from core.clock import utc_now
from core.database import in_write_transaction, is_sqlite
from ledger.amounts import from_minor, parse_amount, to_minor
from ledger.errors import HoldNotActive, HoldNotFound, IdempotencyConflict, InsufficientFunds, InvalidEntry
from ledger.models import EntryRecord, EntryRequest, HoldRecord, Leg
from ledger.posting import (
    apply_legs,
    check_legs,
    entry_fingerprint,
    fingerprint,
    lock_accounts,
    replay_or_conflict,
    store_balances,
    write_entry,
)
from ledger.tables import LedgerAccount, LedgerHold

ACTIVE = "active"
POSTED = "posted"
VOIDED = "voided"
EXPIRED = "expired"

# A hold that outlives a year is a bug in its caller, not a reservation.
MAX_HOLD_TTL = timedelta(days=366)


def _record(row: Mapping[str, Any], account_code: str, *, replayed: bool = False) -> HoldRecord:
    return HoldRecord(
        id=row["id"],
        account_code=account_code,
        amount=from_minor(row["amount_minor"]),
        status=row["status"],
        reason_zh=row["reason_zh"],
        reason_en=row["reason_en"],
        actor_ref=row["actor_ref"],
        cause_ref=row["cause_ref"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        resolved_at=row["resolved_at"],
        posted_entry_id=row["posted_entry"],
        posted_amount=from_minor(row["posted_amount_minor"]),
        replayed=replayed,
    )


async def _hold_row(hold_id: int, *, lock: bool) -> dict[str, Any]:
    query = LedgerHold.select().where(LedgerHold.id == hold_id)
    if lock and not is_sqlite():
        query = query.lock_rows()
    rows = await query.run()
    if not rows:
        raise HoldNotFound(f"hold {hold_id} does not exist", field="hold_id")
    return dict(rows[0])


async def _account_code(account_id: int) -> str:
    rows = await LedgerAccount.select(LedgerAccount.code).where(LedgerAccount.id == account_id).run()
    return str(rows[0]["code"])


async def get_hold(hold_id: int) -> HoldRecord:
    row = await _hold_row(hold_id, lock=False)
    return _record(row, await _account_code(row["account"]))


async def list_holds(account_code: str, *, status: str | None = ACTIVE, limit: int = 100) -> list[HoldRecord]:
    limit = max(1, min(limit, 500))
    query = LedgerHold.select().where(LedgerHold.account.code == account_code)
    if status is not None:
        query = query.where(LedgerHold.status == status)
    rows = await query.order_by(LedgerHold.id, ascending=False).limit(limit).run()
    return [_record(row, account_code) for row in rows]


async def create_hold(
    *,
    account_code: str,
    amount: Decimal | str,
    reason_zh: str,
    expires_at: datetime,
    reason_en: str = "",
    actor_ref: str = "system",
    cause_ref: str = "",
    metadata: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> HoldRecord:
    """Reserve ``amount`` on ``account_code`` until ``expires_at``.

    Refused with ``InsufficientFunds`` if a no-negative account's available
    balance is below ``amount``.
    """
    points = parse_amount(amount)
    if points <= 0:
        raise InvalidEntry("a hold amount must be positive", field="amount")
    if not reason_zh:
        raise InvalidEntry("a hold needs a reason", field="reason_zh")
    now = utc_now()
    if expires_at.tzinfo is None or expires_at <= now or expires_at - now > MAX_HOLD_TTL:
        raise InvalidEntry("expires_at must be in the future, within a year, with a time zone", field="expires_at")
    request_fingerprint = fingerprint(
        {
            "op": "hold",
            "account": account_code,
            "amount": str(points),
            "reason_zh": reason_zh,
            "cause_ref": cause_ref,
        }
    )
    amount_minor = to_minor(points)

    async def work() -> HoldRecord:
        accounts = await lock_accounts([account_code])
        account = accounts[account_code]
        if idempotency_key is not None:
            rows = await LedgerHold.select().where(LedgerHold.idempotency_key == idempotency_key).run()
            if rows:
                if rows[0]["request_fingerprint"] != request_fingerprint:
                    raise IdempotencyConflict(idempotency_key)
                return _record(rows[0], account_code, replayed=True)
        if not account.allow_negative and account.available_minor < amount_minor:
            raise InsufficientFunds(account_code, from_minor(account.available_minor), points)
        account.held_minor += amount_minor
        inserted = await LedgerHold.insert(
            LedgerHold(
                account=account.id,
                amount_minor=amount_minor,
                status=ACTIVE,
                reason_zh=reason_zh,
                reason_en=reason_en,
                actor_ref=actor_ref,
                cause_ref=cause_ref,
                metadata=json.dumps(dict(metadata or {}), ensure_ascii=False, sort_keys=True, default=str),
                idempotency_key=idempotency_key,
                request_fingerprint=request_fingerprint,
                created_at=now,
                expires_at=expires_at,
            )
        ).run()
        await store_balances([account])
        return _record(await _hold_row(inserted[0]["id"], lock=False), account_code)

    return await in_write_transaction(work, retry_unique=True)


async def post_hold(
    hold_id: int,
    *,
    destination_code: str,
    kind: str,
    reason_zh: str,
    amount: Decimal | str | None = None,
    reason_en: str = "",
    actor_ref: str = "system",
    metadata: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> tuple[HoldRecord, EntryRecord]:
    """Post ``amount`` (default: all) of an active hold to ``destination_code``
    and release the remainder, in one entry. Retrying with the same
    ``idempotency_key`` returns the original result."""
    hold = await get_hold(hold_id)
    points = hold.amount if amount is None else parse_amount(amount)
    if points <= 0 or points > hold.amount:
        raise InvalidEntry(f"posted amount must be between 0.01 and {hold.amount}", field="amount")
    request = EntryRequest(
        kind=kind,
        legs=(
            Leg(account_code=hold.account_code, amount=-points),
            Leg(account_code=destination_code, amount=points),
        ),
        reason_zh=reason_zh,
        reason_en=reason_en,
        metadata={**dict(metadata or {}), "hold_id": hold_id},
        actor_ref=actor_ref,
        cause_ref=hold.cause_ref,
        idempotency_key=idempotency_key,
    )
    check_legs(request.legs)  # the destination must be another account
    request_fingerprint = entry_fingerprint(request)

    async def work() -> tuple[HoldRecord, EntryRecord]:
        accounts = await lock_accounts([hold.account_code, destination_code])
        row = await _hold_row(hold_id, lock=True)
        if idempotency_key is not None:
            replay = await replay_or_conflict(idempotency_key, request_fingerprint)
            if replay is not None:
                return _record(row, hold.account_code, replayed=True), replay
        _require_active(row)
        source = accounts[hold.account_code]
        # Release the whole hold first, then debit what is posted: the
        # available balance is unchanged by the remainder's release.
        source.held_minor -= row["amount_minor"]
        moves = apply_legs(accounts, request.legs)
        entry = await write_entry(
            request=request,
            request_fingerprint=request_fingerprint,
            moves=moves,
            touched=[account for account, _ in moves],
        )
        now = utc_now()
        await (
            LedgerHold.update(
                {
                    LedgerHold.status: POSTED,
                    LedgerHold.resolved_at: now,
                    LedgerHold.posted_entry: entry.id,
                    LedgerHold.posted_amount_minor: to_minor(points),
                }
            )
            .where(LedgerHold.id == hold_id)
            .run()
        )
        row.update(status=POSTED, resolved_at=now, posted_entry=entry.id, posted_amount_minor=to_minor(points))
        return _record(row, hold.account_code), entry

    return await in_write_transaction(work, retry_unique=True)


def _require_active(row: Mapping[str, Any]) -> None:
    if row["status"] != ACTIVE:
        raise HoldNotActive(f"hold {row['id']} is {row['status']}, not active", field="hold_id")
    if row["expires_at"] <= utc_now():
        raise HoldNotActive(f"hold {row['id']} expired at {row['expires_at'].isoformat()}", field="hold_id")


async def _release(hold_id: int, *, new_status: str, only_if_expired: bool, now: datetime | None = None) -> HoldRecord:
    hold = await get_hold(hold_id)

    async def work() -> HoldRecord:
        accounts = await lock_accounts([hold.account_code])
        row = await _hold_row(hold_id, lock=True)
        if row["status"] != ACTIVE:
            if row["status"] == new_status:
                return _record(row, hold.account_code, replayed=True)
            raise HoldNotActive(f"hold {hold_id} is {row['status']}, not active", field="hold_id")
        moment = now or utc_now()
        if only_if_expired and row["expires_at"] > moment:
            raise HoldNotActive(f"hold {hold_id} has not expired yet", field="hold_id")
        account = accounts[hold.account_code]
        account.held_minor -= row["amount_minor"]
        await store_balances([account])
        await (
            LedgerHold.update({LedgerHold.status: new_status, LedgerHold.resolved_at: moment})
            .where(LedgerHold.id == hold_id)
            .run()
        )
        row.update(status=new_status, resolved_at=moment)
        return _record(row, hold.account_code)

    return await in_write_transaction(work)


async def void_hold(hold_id: int) -> HoldRecord:
    """Release an active hold. Voiding a voided hold again is a no-op."""
    return await _release(hold_id, new_status=VOIDED, only_if_expired=False)


async def expire_holds(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Release every active hold past its deadline. Returns how many expired.

    Each hold is released in its own short transaction so the job never
    holds balance locks for long; a hold posted or voided meanwhile is
    skipped.
    """
    cutoff = now or utc_now()
    expired = 0
    while True:
        rows = (
            await LedgerHold.select(LedgerHold.id)
            .where((LedgerHold.status == ACTIVE) & (LedgerHold.expires_at <= cutoff))
            .order_by(LedgerHold.id)
            .limit(batch_size)
            .run()
        )
        if not rows:
            return expired
        for row in rows:
            try:
                await _release(row["id"], new_status=EXPIRED, only_if_expired=True, now=cutoff)
                expired += 1
            except HoldNotActive:
                continue
        if len(rows) < batch_size:
            return expired
