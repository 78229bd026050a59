"""Manual adjustments and reversals by organisers and admins.

Both need an ``Idempotency-Key`` header: a retried request (flaky phone
network, double tap) has exactly one effect and gets the original answer
back with ``Idempotent-Replayed: true``. Keys are namespaced per member, so
two organisers can never collide. Every action is audited.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody

from api.errors import ProblemException
from api.guards import principal_of, requires_manager
from api.params import BigId, IdempotencyKey
from api.schemas import AdjustmentIn, EntryOut, ReversalIn, entry_out
from community import audit
from community.access import Principal, can_manage_account
from ledger.accounts import find_balance
from ledger.errors import EntryNotFound, InvalidEntry
from ledger.models import EntryRecord
from ledger.posting import load_entry, transfer
from ledger.reversal import reverse_entry


async def _require_managed(principal: Principal, code: str, field: str) -> None:
    account = await find_balance(code)
    if account is None or not await can_manage_account(principal, account):
        raise ProblemException(404, "account_not_found", f"no account {code!r} that you manage", field=field)


def _entry_response(entry: EntryRecord) -> Response[EntryOut]:
    headers = {"Idempotent-Replayed": "true"} if entry.replayed else {}
    return Response(entry_out(entry), status_code=200 if entry.replayed else 201, headers=headers)


class LedgerController(Controller):
    path = "/api/v1/ledger"
    tags = ["ledger"]
    guards = [requires_manager]

    @post("/adjustments", operation_id="postAdjustment", summary="Move points between two managed accounts")
    async def post_adjustment(
        self, request: Request[Any, Any, Any], data: JSONBody[AdjustmentIn], idempotency_key: IdempotencyKey
    ) -> Response[EntryOut]:
        principal = principal_of(request)
        if data.amount <= 0:
            raise InvalidEntry("amount must be positive; swap the accounts to move points back", field="amount")
        if data.debit_account.startswith("shop:"):
            # Its balance is owed to unsettled months; only pickups, returns in
            # the month of pickup and settlement move it.
            raise ProblemException(
                409,
                "settlement_account_protected",
                "a shop settlement account cannot be debited by hand",
                field="debit_account",
            )
        await _require_managed(principal, data.debit_account, "debit_account")
        await _require_managed(principal, data.credit_account, "credit_account")
        entry = await transfer(
            debit_code=data.debit_account,
            credit_code=data.credit_account,
            amount=data.amount,
            kind="adjustment",
            reason_zh=data.reason_zh,
            reason_en=data.reason_en,
            memo=data.memo,
            actor_ref=principal.ref,
            idempotency_key=f"api:{principal.member_id}:{idempotency_key}",
        )
        if not entry.replayed:
            await audit.record(
                principal.ref,
                "ledger.adjustment",
                f"entry:{entry.id}",
                amount=str(data.amount),
                debit=data.debit_account,
                credit=data.credit_account,
            )
        return _entry_response(entry)

    @get("/entries/{entry_id:int}", operation_id="getEntry", summary="One entry with its postings")
    async def get_entry(self, request: Request[Any, Any, Any], entry_id: BigId) -> EntryOut:
        entry = await self._managed_entry(principal_of(request), entry_id)
        return entry_out(entry)

    @post("/entries/{entry_id:int}/reversal", operation_id="reverseEntry", summary="Reverse an entry (once)")
    async def reverse(
        self,
        request: Request[Any, Any, Any],
        entry_id: BigId,
        data: JSONBody[ReversalIn],
        idempotency_key: IdempotencyKey,
    ) -> Response[EntryOut]:
        principal = principal_of(request)
        await self._managed_entry(principal, entry_id)
        entry = await reverse_entry(
            entry_id,
            reason_zh=data.reason_zh,
            reason_en=data.reason_en,
            actor_ref=principal.ref,
            idempotency_key=f"api:{principal.member_id}:{idempotency_key}",
        )
        if not entry.replayed:
            await audit.record(principal.ref, "ledger.reversal", f"entry:{entry_id}", reversal_entry_id=entry.id)
        return _entry_response(entry)

    @staticmethod
    async def _managed_entry(principal: Principal, entry_id: BigId) -> EntryRecord:
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
            raise ProblemException(404, "entry_not_found", f"no entry {entry_id} that you manage", field="entry_id")
        return entry
