"""Manual adjustments, their four-eyes approval, and reversals by
organisers and admins.

Creating an adjustment or a reversal needs an ``Idempotency-Key`` header: a
retried request (flaky phone network, double tap) has exactly one effect
and gets the original answer back with ``Idempotent-Replayed: true``. Who
may do what, and the audit record, live in ``community.manual_points``;
these handlers only parse, call and shape the reply.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, QueryParameter

from api.dependencies import ActingPrincipal
from api.guards import requires_manager
from api.params import MAX_ID, BigId, Id, IdempotencyKey
from api.routing import get, post
from api.schemas.ledger import (
    AdjustmentIn,
    AdjustmentPageOut,
    AdjustmentRejectIn,
    AdjustmentRequestOut,
    EntryOut,
    ReversalIn,
)
from community.manual_points import (
    MAX_PAGE_SIZE,
    AdjustmentDraft,
    adjust,
    approve_adjustment,
    list_adjustments,
    reject_adjustment,
    reverse_manual_entry,
    visible_entry,
)
from community.models import AdjustmentStatus
from core.cursors import MAX_CURSOR_LENGTH, decode_cursor, encode_cursor
from ledger.models import EntryRecord

REPLAYED = {"Idempotent-Replayed": "true"}
# The list tag of an adjustment-request cursor (key: the last request id shown).
ADJUSTMENT_CURSOR = "adj"


def _entry_response(entry: EntryRecord) -> Response[EntryOut]:
    return Response(
        EntryOut.model_validate(entry),
        status_code=200 if entry.replayed else 201,
        headers=REPLAYED if entry.replayed else {},
    )


class LedgerController(Controller):
    path = "/api/v1/ledger"
    tags = ["ledger"]
    guards = [requires_manager]

    @post(
        "/adjustments",
        operation_id="postAdjustment",
        summary="Move points between two managed accounts",
        description=(
            "At or below FENGLING_ADJUSTMENT_APPROVAL_ABOVE the entry posts at once (201, the entry). "
            "Above it the points are held on the debit account and the answer is 202 with the pending "
            "request, which a second organiser or admin over both accounts approves or rejects. "
            "So is a smaller one that takes what the caller posted on their own word in 24 hours past "
            "FENGLING_ADJUSTMENT_DAILY_LIMIT, or what the credited account so received past the threshold. "
            "Never credits the caller's own wallet (403 self_credit). A replay answers 200 (entry) "
            "or 202 (request) with Idempotent-Replayed: true."
        ),
        responses={
            200: ResponseSpec(data_container=EntryOut, description="A replay of a posted adjustment"),
            202: ResponseSpec(
                data_container=AdjustmentRequestOut,
                description="Above the four-eyes threshold: pending, its points held until decided",
            ),
        },
    )
    async def post_adjustment(
        self, principal: ActingPrincipal, data: JSONBody[AdjustmentIn], idempotency_key: IdempotencyKey
    ) -> Response[EntryOut]:
        done = await adjust(
            principal,
            AdjustmentDraft(
                debit_account=data.debit_account,
                credit_account=data.credit_account,
                amount=data.amount,
                reason_zh=data.reason_zh,
                reason_en=data.reason_en,
                memo=data.memo,
            ),
            idempotency_key=idempotency_key,
        )
        if isinstance(done, EntryRecord):
            return _entry_response(done)
        pending: Response[Any] = Response(
            AdjustmentRequestOut.model_validate(done), status_code=202, headers=REPLAYED if done.replayed else {}
        )
        return pending

    @get("/adjustments", operation_id="listAdjustments", summary="Four-eyes adjustment requests you may decide")
    async def list_requests(
        self,
        principal: ActingPrincipal,
        status: Annotated[AdjustmentStatus, QueryParameter()] = AdjustmentStatus.PENDING,
        cursor: Annotated[
            str | None, QueryParameter(max_length=MAX_CURSOR_LENGTH, description="next_cursor of the previous page")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)] = 50,
    ) -> AdjustmentPageOut:
        after_id = None if cursor is None else decode_cursor(ADJUSTMENT_CURSOR, cursor, key_min=1, key_max=MAX_ID)[0]
        page = await list_adjustments(principal, status=status, after_id=after_id, limit=limit)
        return AdjustmentPageOut(
            requests=[AdjustmentRequestOut.model_validate(request) for request in page.requests],
            next_cursor=None if page.next_cursor is None else encode_cursor(ADJUSTMENT_CURSOR, page.next_cursor),
        )

    @post(
        "/adjustments/{adjustment_id:int}/approve",
        operation_id="approveAdjustment",
        summary="Approve a pending adjustment: post its held points (not your own request)",
        status_code=200,
    )
    async def approve(self, principal: ActingPrincipal, adjustment_id: Id) -> AdjustmentRequestOut:
        return AdjustmentRequestOut.model_validate(await approve_adjustment(principal, adjustment_id))

    @post(
        "/adjustments/{adjustment_id:int}/reject",
        operation_id="rejectAdjustment",
        summary="Reject a pending adjustment: release its held points",
        status_code=200,
    )
    async def reject(
        self, principal: ActingPrincipal, adjustment_id: Id, data: JSONBody[AdjustmentRejectIn]
    ) -> AdjustmentRequestOut:
        decided = await reject_adjustment(principal, adjustment_id, reason_zh=data.reason_zh, reason_en=data.reason_en)
        return AdjustmentRequestOut.model_validate(decided)

    @get("/entries/{entry_id:int}", operation_id="getEntry", summary="One entry with its postings")
    async def get_entry(self, principal: ActingPrincipal, entry_id: BigId) -> EntryOut:
        return EntryOut.model_validate(await visible_entry(principal, entry_id))

    @post(
        "/entries/{entry_id:int}/reversal",
        operation_id="reverseEntry",
        summary="Reverse a manual entry (once)",
        description=(
            "Only manual adjustments and entries no flow owns. An entry of a redemption order, an activity "
            "award, a campaign funding or close, or a shop settlement is refused (409 reversal_owned_by_order, "
            "_activity, _campaign, _settlement): undo it through its own flow."
        ),
        responses={200: ResponseSpec(data_container=EntryOut, description="A replay of a reversal")},
    )
    async def reverse(
        self,
        principal: ActingPrincipal,
        entry_id: BigId,
        data: JSONBody[ReversalIn],
        idempotency_key: IdempotencyKey,
    ) -> Response[EntryOut]:
        entry = await reverse_manual_entry(
            principal,
            entry_id,
            reason_zh=data.reason_zh,
            reason_en=data.reason_en,
            idempotency_key=idempotency_key,
        )
        return _entry_response(entry)
