"""Snoozes and allow-listed pairs (issue #12), organisers only: the
services decide whose members may be exempted (``fraud.exemptions``)."""

from __future__ import annotations

from litestar import Controller
from litestar.params import JSONBody

from api.dependencies import ActingPrincipal
from api.guards import requires_manager, requires_member
from api.params import Id
from api.routing import delete, get, post
from api.schemas.fraud import (
    AllowPairIn,
    AllowPairListOut,
    AllowPairOut,
    SnoozeIn,
    SnoozeListOut,
    SnoozeOut,
)
from fraud.exemptions import (
    AllowPair,
    Snooze,
    allow_pair,
    delete_allow_pair,
    delete_snooze,
    list_allow_pairs,
    list_snoozes,
    snooze_rule,
)


def _snooze(snooze: Snooze) -> SnoozeOut:
    return SnoozeOut(
        id=snooze.id,
        member_id=snooze.member_id,
        rule=snooze.rule,
        reason=snooze.reason,
        expires_at=snooze.expires_at,
        created_by=snooze.created_by,
        created_at=snooze.created_at,
    )


def _pair(pair: AllowPair) -> AllowPairOut:
    return AllowPairOut(
        id=pair.id,
        member_ids=list(pair.member_ids),
        reason=pair.reason,
        created_by=pair.created_by,
        created_at=pair.created_at,
    )


class FraudSnoozesController(Controller):
    path = "/api/v1/fraud/snoozes"
    tags = ["fraud"]
    guards = [requires_member, requires_manager]

    @post("", operation_id="createFraudSnooze", summary="暂停规则 · Snooze a rule for a member", status_code=201)
    async def create(self, principal: ActingPrincipal, data: JSONBody[SnoozeIn]) -> SnoozeOut:
        snooze = await snooze_rule(
            principal, member_id=data.member_id, rule=data.rule, reason=data.reason, expires_at=data.expires_at
        )
        return _snooze(snooze)

    @get("", operation_id="listFraudSnoozes", summary="暂停中的规则 · Active snoozes")
    async def list(self, principal: ActingPrincipal) -> SnoozeListOut:
        return SnoozeListOut(items=[_snooze(snooze) for snooze in await list_snoozes(principal)])

    @delete("/{snooze_id:int}", operation_id="deleteFraudSnooze", summary="结束暂停 · End a snooze", status_code=204)
    async def remove(self, principal: ActingPrincipal, snooze_id: Id) -> None:
        await delete_snooze(principal, snooze_id)


class FraudAllowPairsController(Controller):
    path = "/api/v1/fraud/allow-pairs"
    tags = ["fraud"]
    guards = [requires_member, requires_manager]

    @post("", operation_id="createFraudAllowPair", summary="白名单 · Allow-list two members", status_code=201)
    async def create(self, principal: ActingPrincipal, data: JSONBody[AllowPairIn]) -> AllowPairOut:
        return _pair(await allow_pair(principal, member_a=data.member_a, member_b=data.member_b, reason=data.reason))

    @get("", operation_id="listFraudAllowPairs", summary="白名单 · Allow-listed pairs")
    async def list(self, principal: ActingPrincipal) -> AllowPairListOut:
        return AllowPairListOut(items=[_pair(pair) for pair in await list_allow_pairs(principal)])

    @delete(
        "/{pair_id:int}", operation_id="deleteFraudAllowPair", summary="移出白名单 · Remove a pair", status_code=204
    )
    async def remove(self, principal: ActingPrincipal, pair_id: Id) -> None:
        await delete_allow_pair(principal, pair_id)
