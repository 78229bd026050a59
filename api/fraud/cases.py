"""Review cases of awards held by the fraud rules (issue #12).

Organisers (and admins) over the grid list, take and decide cases; the
member whose points are held reads their case and adds an objection. The
services decide who may do what (``fraud.policy``, ``fraud.cases``,
``activities.held``); these handlers parse, call and shape.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller
from litestar.params import JSONBody, QueryParameter

from activities.held import approve_held, reject_held
from api.dependencies import ActingPrincipal
from api.guards import requires_manager, requires_member
from api.params import Id
from api.routing import get, post
from api.schemas.fraud import CaseDecisionIn, CaseListOut, CaseOut, CaseVerdict, NextCaseOut, ObjectionIn, case_out
from community.access import Principal
from core.ids import MAX_ID
from fraud.cases import (
    QueueFilter,
    QueueSort,
    add_objection,
    check_queue_filter,
    get_case,
    member_cases,
    open_cases_for,
    take_case,
    take_next_case,
    visible_case,
)
from fraud.decisions import get_decision
from fraud.models import CaseRecord, Subject
from fraud.rules import all_rules
from marketplace.order_reviews import approve_held_order, reject_held_order

RULE_NAMES = frozenset(rule.__name__ for rule in all_rules())


async def _shaped(principal: Principal, case: CaseRecord) -> CaseOut:
    decision = await get_decision(case.decision_id)
    return case_out(case, decision, with_evidence=case.member_id != principal.member_id)


class FraudCasesController(Controller):
    path = "/api/v1/fraud/cases"
    tags = ["fraud"]
    guards = [requires_member]

    @get("", operation_id="listFraudCases", summary="待审核队列 · Review queue", guards=[requires_manager])
    async def queue(
        self,
        principal: ActingPrincipal,
        rule: Annotated[str | None, QueryParameter(max_length=40)] = None,
        organisation_id: Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)] = None,
        campaign_id: Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)] = None,
        sort: Annotated[QueueSort, QueryParameter()] = QueueSort.SCORE,
    ) -> CaseListOut:
        chosen = QueueFilter(rule=rule, organisation_id=organisation_id, campaign_id=campaign_id, sort=sort)
        check_queue_filter(chosen, RULE_NAMES)
        cases = await open_cases_for(principal, chosen=chosen)
        return CaseListOut(items=[await _shaped(principal, case) for case in cases])

    @post(
        "/next",
        operation_id="takeNextFraudCase",
        summary="领取下一条 · Take the next case",
        status_code=200,
        guards=[requires_manager],
    )
    async def take_next(self, principal: ActingPrincipal) -> NextCaseOut:
        case = await take_next_case(principal)
        return NextCaseOut(case=await _shaped(principal, case) if case is not None else None)

    @get("/mine", operation_id="listMyFraudCases", summary="我的待审核积分 · My points held for review")
    async def mine(self, principal: ActingPrincipal) -> CaseListOut:
        return CaseListOut(items=[await _shaped(principal, case) for case in await member_cases(principal)])

    @get("/{case_id:int}", operation_id="getFraudCase", summary="积分待审核原因 · Why points are held")
    async def case(self, principal: ActingPrincipal, case_id: Id) -> CaseOut:
        return await _shaped(principal, await visible_case(principal, case_id))

    @post(
        "/{case_id:int}/take",
        operation_id="takeFraudCase",
        summary="领取审核 · Take a case",
        status_code=200,
        guards=[requires_manager],
    )
    async def take(self, principal: ActingPrincipal, case_id: Id) -> CaseOut:
        return await _shaped(principal, await take_case(principal, case_id))

    @post(
        "/{case_id:int}/decision",
        operation_id="decideFraudCase",
        summary="审核决定 · Approve or reject held points",
        status_code=200,
        guards=[requires_manager],
    )
    async def decide(self, principal: ActingPrincipal, case_id: Id, data: JSONBody[CaseDecisionIn]) -> CaseOut:
        approve = data.verdict is CaseVerdict.APPROVE
        if (await get_case(case_id)).subject is Subject.ORDER:
            decide_order = approve_held_order if approve else reject_held_order
            await decide_order(principal, case_id, label=data.label, note=data.note)
        else:
            decide_activity = approve_held if approve else reject_held
            await decide_activity(principal, case_id, label=data.label, note=data.note)
        return await _shaped(principal, await get_case(case_id))

    @post(
        "/{case_id:int}/objection",
        operation_id="objectToFraudCase",
        summary="提出异议 · Object to held points",
        status_code=200,
    )
    async def objection(self, principal: ActingPrincipal, case_id: Id, data: JSONBody[ObjectionIn]) -> CaseOut:
        return await _shaped(principal, await add_objection(principal, case_id, note=data.note))
