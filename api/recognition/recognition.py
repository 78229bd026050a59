"""Star levels and badges (星级与徽章): my level, my badges, a member's
badges (policy-scoped), an issuing organisation's star thresholds.

The rules are ``recognition/`` (``policy.py`` for who sees what); these
handlers parse, call and shape.
"""

from __future__ import annotations

from litestar import Controller
from litestar.params import JSONBody

from api.dependencies import ActingPrincipal
from api.guards import requires_manager, requires_member
from api.params import Id
from api.routing import get, put
from api.schemas.recognition import BadgeOut, BadgeRuleOut, BadgesOut, LevelOut, ThresholdsIn, ThresholdsOut
from ledger.amounts import to_minor
from recognition.awarding import badges_of, not_yet
from recognition.levels import Threshold
from recognition.policy import member_whose_badges
from recognition.stars import my_level, read_thresholds, set_thresholds


async def _badges(member_id: int) -> BadgesOut:
    held = await badges_of(member_id)
    return BadgesOut(
        member_id=member_id,
        earned=[BadgeOut.held(badge) for badge in held],
        not_yet=[BadgeRuleOut.of(rule) for rule in not_yet(held)],
    )


class MyRecognitionController(Controller):
    path = "/api/v1/me"
    tags = ["me"]
    guards = [requires_member]

    @get("/level", operation_id="getMyLevel", summary="我的星级 · My star level and what the next star needs")
    async def level(self, principal: ActingPrincipal) -> LevelOut:
        return LevelOut.of(await my_level(principal))

    @get("/badges", operation_id="getMyBadges", summary="我的徽章 · My badges, and those not earned yet")
    async def badges(self, principal: ActingPrincipal) -> BadgesOut:
        return await _badges(principal.member_id)


class MemberBadgesController(Controller):
    path = "/api/v1/members"
    tags = ["community"]
    guards = [requires_member]

    @get(
        "/{member_id:int}/badges",
        operation_id="getMemberBadges",
        summary="成员徽章 · A member's badges (yourself, or staff over the member's node)",
    )
    async def badges(self, principal: ActingPrincipal, member_id: Id) -> BadgesOut:
        return await _badges(await member_whose_badges(principal, member_id))


class StarThresholdsController(Controller):
    path = "/api/v1/organisations"
    tags = ["community"]
    guards = [requires_member]

    @get(
        "/{organisation_id:int}/star-thresholds",
        operation_id="getStarThresholds",
        summary="星级标准 · An issuing organisation's star thresholds",
    )
    async def read(self, principal: ActingPrincipal, organisation_id: Id) -> ThresholdsOut:
        return ThresholdsOut.of(await read_thresholds(principal, organisation_id))

    @put(
        "/{organisation_id:int}/star-thresholds",
        guards=[requires_manager],
        operation_id="setStarThresholds",
        summary="设置星级标准 · Set an issuing organisation's star thresholds (audited)",
    )
    async def write(
        self, principal: ActingPrincipal, organisation_id: Id, data: JSONBody[ThresholdsIn]
    ) -> ThresholdsOut:
        levels = [Threshold(level.stars, to_minor(level.points), level.hours) for level in data.levels]
        return ThresholdsOut.of(await set_thresholds(principal, organisation_id, levels))
