"""Two-phase transfers: reserve now, post or void later.

A hold lowers the account's *available* balance (balance − active holds)
without moving points. Posting it moves up to the held amount to a
destination in one entry and releases the rest; voiding or expiry releases
it all. A hold leaves ``active`` exactly once: every transition runs under
the account's lock and then the hold's row lock, and is decided by the
pure rules in ``ledger.rules`` (``require_active``, ``release_is_replay``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.clock import utc_now
from core.fixed_sql import Dialect, Script, dialect, fetch, write
from ledger import sql
from ledger.amounts import from_minor, parse_amount, to_minor
from ledger.errors import AccountNotFound, HoldNotActive, HoldNotFound, IdempotencyConflict
from ledger.models import EntryRecord, EntryRequest, HoldRecord, HoldStatus, KeyedRequest, Leg
from ledger.posting import (
    _key,
    _replayed,
    decide_or_replay_steps,
    entry_fingerprint,
    entry_time,
    fingerprint,
    lock_accounts_steps,
    replay_steps,
    store_balances,
    write_entry_steps,
)
from ledger.rules import (
    LockedAccount,
    apply_legs,
    check_hold_affordable,
    check_legs,
    check_new_hold,
    check_post_amount,
    check_replay,
    release_is_replay,
    require_active,
)
from ledger.tables import LedgerHold

_HOLD_COLUMNS = [column.strip() for column in sql.HOLD_COLUMNS.split(",")]
# Bounds one listing; a wallet with more active holds than this is a bug upstream.
MAX_LISTED_HOLDS = 500


def _missing(hold_id: int) -> HoldNotFound:
    return HoldNotFound(f"hold {hold_id} does not exist", field="hold_id")


async def get_hold(hold_id: int) -> HoldRecord:
    rows = await fetch(sql.HOLD_WITH_ACCOUNT_CODE(hold_id))
    if not rows:
        raise _missing(hold_id)
    return HoldRecord.from_row(rows[0], str(rows[0]["account_code"]))


async def list_holds(
    account_code: str, *, status: HoldStatus | None = HoldStatus.ACTIVE, limit: int = 100
) -> list[HoldRecord]:
    """Holds on ``account_code``, newest first (at most ``MAX_LISTED_HOLDS``)."""
    limit = max(1, min(limit, MAX_LISTED_HOLDS))
    query = LedgerHold.select().where(LedgerHold.account.code == account_code)
    if status is not None:
        query = query.where(LedgerHold.status == status)
    rows = await query.order_by(LedgerHold.id, ascending=False).limit(limit).run()
    return [HoldRecord.from_row(row, account_code) for row in rows]


def _locked_hold_steps(hold_id: int, account_code: str) -> Script[HoldRecord]:
    """The hold, locked until the transaction ends (after its account)."""
    rows = yield sql.LOCK_HOLD(hold_id)
    if not rows:
        raise _missing(hold_id)
    return HoldRecord.from_row(rows[0], account_code)


def _hold_replay_steps(key: str, request_fingerprint: str, account_code: str) -> Script[HoldRecord | None]:
    rows = yield sql.HOLD_UNDER_KEY(key)
    if not rows:
        return None
    first = KeyedRequest.from_row(rows[0])
    check_replay(key, first, request_fingerprint)
    stored = yield sql.READ_HOLD(first.id)
    return HoldRecord.from_row(stored[0], account_code, replayed=True)


def _create_steps(
    account_code: str,
    amount_minor: int,
    expires_at: datetime,
    request_fingerprint: str,
    values: Mapping[str, Any],
    idempotency_key: str | None,
) -> Script[HoldRecord]:
    """``create_hold`` inside its transaction: lock, decide (or replay), write."""
    account = (yield from lock_accounts_steps([account_code]))[account_code]
    _, replay = yield from decide_or_replay_steps(
        lambda: check_hold_affordable(account, amount_minor),
        idempotency_key,
        lambda taken: _hold_replay_steps(taken, request_fingerprint, account_code),
    )
    if replay is not None:
        return replay
    inserted = yield sql.INSERT_HOLD(
        account.id,
        amount_minor,
        values["reason_zh"],
        values["reason_en"],
        values["actor_ref"],
        values["cause_ref"],
        values["metadata"],
        idempotency_key,
        request_fingerprint,
        values["created_at"],
        expires_at,
    )
    if not inserted:  # the key was taken: answer as its first request did
        return _replayed((yield from _hold_replay_steps(_key(idempotency_key), request_fingerprint, account_code)))
    account.held_minor += amount_minor
    yield from store_balances([account])
    return HoldRecord.from_row(inserted[0], account_code)


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
    balance is below ``amount``. Every caller names the deadline its own
    rule gives (an order's pickup window, an adjustment's approval window):
    the ledger has no default lifetime.
    """
    points = parse_amount(amount)
    now = utc_now()
    check_new_hold(points, reason_zh, expires_at, now)
    request_fingerprint = fingerprint(
        {
            "op": "hold",
            "account": account_code,
            "amount": str(points),
            "reason_zh": reason_zh,
            "cause_ref": cause_ref,
        }
    )
    values = {
        "reason_zh": reason_zh,
        "reason_en": reason_en,
        "actor_ref": actor_ref,
        "cause_ref": cause_ref,
        "metadata": json.dumps(dict(metadata or {}), ensure_ascii=False, sort_keys=True, default=str),
        "created_at": now,
    }
    return await write(
        lambda _: _create_steps(
            account_code, to_minor(points), expires_at, request_fingerprint, values, idempotency_key
        ),
        retry_unique=True,
    )


def _post_steps(
    hold: HoldRecord, destination_code: str, request: EntryRequest, request_fingerprint: str, points: Decimal
) -> Script[tuple[HoldRecord, EntryRecord]]:
    """``post_hold`` inside its transaction: lock, decide (or replay), write."""
    accounts = yield from lock_accounts_steps([hold.account_code, destination_code])
    locked = yield from _locked_hold_steps(hold.id, hold.account_code)
    now = utc_now()

    def decide() -> list[tuple[Any, int]]:
        require_active(locked, now)
        # Release the whole hold first, then debit what is posted: the
        # available balance is unchanged by the remainder's release.
        accounts[hold.account_code].held_minor -= to_minor(locked.amount)
        return apply_legs(accounts, request.legs)

    moves, replay = yield from decide_or_replay_steps(
        decide, request.idempotency_key, lambda taken: replay_steps(taken, request_fingerprint)
    )
    if replay is not None or moves is None:
        return replace(locked, replayed=True), _replayed(replay)
    entry = yield from write_entry_steps(request=request, request_fingerprint=request_fingerprint, moves=moves)
    if entry is None:  # the key was taken: answer as its first request did
        first = yield from replay_steps(_key(request.idempotency_key), request_fingerprint)
        return replace(locked, replayed=True), _replayed(first)
    posted = yield sql.POST_HOLD(hold.id, now, entry.id, to_minor(points))
    return HoldRecord.from_row(posted[0], hold.account_code), entry


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
    check_post_amount(points, hold.amount)
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
    return await write(
        lambda _: _post_steps(hold, destination_code, request, request_fingerprint, points), retry_unique=True
    )


def _release_steps(
    hold: HoldRecord, new_status: HoldStatus, *, only_if_expired: bool, now: datetime
) -> Script[HoldRecord]:
    """Void or expire ``hold`` inside its transaction: lock, decide, write."""
    account = (yield from lock_accounts_steps([hold.account_code]))[hold.account_code]
    locked = yield from _locked_hold_steps(hold.id, hold.account_code)
    if release_is_replay(locked, new_status, only_if_expired=only_if_expired, now=now):
        return replace(locked, replayed=True)
    account.held_minor -= to_minor(locked.amount)
    yield from store_balances([account])
    released = yield sql.RELEASE_HOLD(hold.id, new_status.value, now)
    return HoldRecord.from_row(released[0], hold.account_code)


async def void_hold(hold_id: int) -> HoldRecord:
    """Release an active hold. Voiding a voided hold again is a no-op."""
    hold = await get_hold(hold_id)
    moment = utc_now()
    return await write(lambda _: _release_steps(hold, HoldStatus.VOIDED, only_if_expired=False, now=moment))


async def _expire(hold_id: int, cutoff: datetime) -> HoldRecord:
    hold = await get_hold(hold_id)
    return await write(lambda _: _release_steps(hold, HoldStatus.EXPIRED, only_if_expired=True, now=cutoff))


async def expire_holds(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Release every active hold past its deadline. Returns how many expired.

    Each hold is released in its own short transaction so the job never
    holds balance locks for long; a hold posted or voided meanwhile is
    skipped.
    """
    cutoff = now or utc_now()
    expired = 0
    while True:
        due: list[int] = (
            await LedgerHold.select(LedgerHold.id)
            .where((LedgerHold.status == HoldStatus.ACTIVE) & (LedgerHold.expires_at <= cutoff))
            .order_by(LedgerHold.id)
            .limit(batch_size)
            .output(as_list=True)
            .run()
        )
        if not due:
            return expired
        for hold_id in due:
            try:
                await _expire(hold_id, cutoff)
                expired += 1
            except HoldNotActive:
                continue
        if len(due) < batch_size:
            return expired


# -- holds inside a caller's transaction ------------------------------------------
#
# For a caller whose own row carries the request's idempotency key and whose
# own lock already serialises the hold's transitions (``marketplace.orders``:
# the item row for placing, the order row for confirming): the hold and its
# capture as script fragments that run inside the caller's script, each two
# round trips on PostgreSQL, returning only what the caller records.


def hold_steps(
    *,
    account_code: str,
    amount: Decimal,
    reason_zh: str,
    reason_en: str,
    expires_at: datetime,
    actor_ref: str,
    cause_ref: str,
    metadata: Mapping[str, Any],
    now: datetime,
) -> Script[int]:
    """``create_hold`` without an idempotency key, inside the caller's
    script: lock the account, decide (``check_new_hold``,
    ``check_hold_affordable``), insert the hold and store the held total.
    Returns the hold's id. A refusal is raised before anything is written
    and without an SQL error, so the caller's transaction stays usable.
    PostgreSQL: the lock, then one statement (``sql.INSERT_HOLD_AND_HELD``)."""
    points = parse_amount(amount)
    check_new_hold(points, reason_zh, expires_at, now)
    amount_minor = to_minor(points)
    account = (yield from lock_accounts_steps([account_code]))[account_code]
    check_hold_affordable(account, amount_minor)
    request_fingerprint = fingerprint(
        {"op": "hold", "account": account_code, "amount": str(points), "reason_zh": reason_zh, "cause_ref": cause_ref}
    )
    values = (
        account.id,
        amount_minor,
        reason_zh,
        reason_en,
        actor_ref,
        cause_ref,
        json.dumps(dict(metadata), ensure_ascii=False, sort_keys=True, default=str),
    )
    account.held_minor += amount_minor
    if dialect() is Dialect.POSTGRES:
        rows = yield sql.INSERT_HOLD_AND_HELD(*values, request_fingerprint, now, expires_at, account.held_minor)
        return int(rows[0]["id"])
    rows = yield sql.INSERT_HOLD(*values, None, request_fingerprint, now, expires_at)
    yield from store_balances([account])
    return int(rows[0]["id"])


def capture_steps(
    hold_id: int,
    *,
    destination_code: str,
    kind: str,
    reason_zh: str,
    reason_en: str,
    actor_ref: str,
    metadata: Mapping[str, Any],
    idempotency_key: str,
) -> Script[tuple[int, datetime]]:
    """``post_hold`` of the whole hold to ``destination_code``, inside the
    caller's script; returns the entry's id and ``created_at``.

    Locks the hold's account and the destination (ascending ids) and reads
    the hold in the same statement, decides (``require_active``,
    ``check_legs``, ``apply_legs``), then writes the entry, its postings, the
    balances and the hold's move in one statement (PostgreSQL). The hold is
    read unlocked: if a transition of it committed while this waited for the
    account, the write finds it no longer active, moves nothing and this
    raises ``HoldNotActive`` (the caller's transaction rolls back). Unlike
    ``post_hold``, a taken ``idempotency_key`` is not replayed: it raises
    (the caller's own lock makes a second capture impossible)."""
    rows = yield sql.LOCK_ACCOUNTS_OF_HOLD(hold_id, destination_code)
    if not rows:
        raise _missing(hold_id)
    accounts = {account.code: account for account in map(LockedAccount.from_row, rows)}
    source = next(str(row["code"]) for row in rows if row["id"] == rows[0]["hold_account"])
    if destination_code not in accounts:
        raise AccountNotFound(destination_code)
    hold = HoldRecord.from_row({column: rows[0][f"hold_{column}"] for column in _HOLD_COLUMNS}, source)
    now = entry_time()
    require_active(hold, utc_now())
    amount_minor = to_minor(hold.amount)
    points = from_minor(amount_minor)
    request = EntryRequest(
        kind=kind,
        legs=(Leg(account_code=source, amount=-points), Leg(account_code=destination_code, amount=points)),
        reason_zh=reason_zh,
        reason_en=reason_en,
        metadata={**dict(metadata), "hold_id": hold_id},
        actor_ref=actor_ref,
        cause_ref=hold.cause_ref,
        idempotency_key=idempotency_key,
    )
    check_legs(request.legs)
    accounts[source].held_minor -= amount_minor
    moves = apply_legs(accounts, request.legs)
    request_fingerprint = entry_fingerprint(request)
    if dialect() is Dialect.SQLITE:
        entry = yield from write_entry_steps(request=request, request_fingerprint=request_fingerprint, moves=moves)
        if entry is None:
            raise IdempotencyConflict(idempotency_key)
        yield sql.POST_HOLD(hold_id, entry.created_at, entry.id, amount_minor)
        return entry.id, entry.created_at
    written = yield sql.CAPTURE_HOLD(
        request.kind,
        request.reason_zh,
        request.reason_en,
        request.memo,
        json.dumps(request.metadata, ensure_ascii=False, sort_keys=True, default=str),
        request.actor_ref,
        request.cause_ref,
        request.idempotency_key,
        request_fingerprint,
        now,
        hold_id,
        amount_minor,
        [account.id for account, _ in moves],
        [moved for _, moved in moves],
        [account.balance_minor for account, _ in moves],
        [account.held_minor for account, _ in moves],
    )
    if not written:
        raise IdempotencyConflict(idempotency_key)
    if not written[0]["posted"]:
        raise HoldNotActive(f"hold {hold_id} left active while this waited for its account", field="hold_id")
    return int(written[0]["id"]), now
