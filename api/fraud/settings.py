"""Rule settings per issuing organisation and shadow mode (issue #12):
organisers of the organisation read and replace them (validated, audited by
``fraud.shadow``); the shadow list shows what shadow mode would have flagged."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller
from litestar.params import JSONBody, QueryParameter

from api.dependencies import ActingPrincipal
from api.guards import requires_manager, requires_member
from api.params import Id
from api.routing import get, put
from api.schemas.fraud import SettingsIn, SettingsOut, ShadowFlagOut, ShadowIn, ShadowListOut
from fraud.models import DEFAULT_THRESHOLDS
from fraud.rules import all_rules
from fraud.shadow import RuleSettings, read_settings, shadow_flags, thresholds_json, update_settings

MAX_SHADOW_DAYS = 366


def _settings_out(organisation_id: int, settings: RuleSettings) -> SettingsOut:
    shadow = settings.shadow
    return SettingsOut(
        organisation_id=organisation_id,
        overrides=dict(settings.overrides),
        thresholds=thresholds_json(settings.thresholds),
        defaults=thresholds_json(DEFAULT_THRESHOLDS),
        shadow=ShadowIn(overrides=dict(shadow.overrides), rules=sorted(shadow.rules)) if shadow else None,
        shadow_thresholds=thresholds_json(shadow.thresholds) if shadow else None,
        rules=[rule.__name__ for rule in all_rules()],
    )


class FraudSettingsController(Controller):
    path = "/api/v1/fraud"
    tags = ["fraud"]
    guards = [requires_member, requires_manager]

    @get("/settings/{org_id:int}", operation_id="getFraudSettings", summary="规则设置 · Rule settings")
    async def read(self, principal: ActingPrincipal, org_id: Id) -> SettingsOut:
        return _settings_out(org_id, await read_settings(principal, org_id))

    @put("/settings/{org_id:int}", operation_id="putFraudSettings", summary="修改规则设置 · Replace rule settings")
    async def replace(self, principal: ActingPrincipal, org_id: Id, data: JSONBody[SettingsIn]) -> SettingsOut:
        shadow = data.shadow.model_dump() if data.shadow is not None else {}
        chosen = await update_settings(principal, org_id, overrides=data.overrides, shadow=shadow)
        return _settings_out(org_id, chosen)

    @get("/shadow", operation_id="listFraudShadow", summary="影子模式命中 · What shadow mode would have flagged")
    async def shadow(
        self, principal: ActingPrincipal, days: Annotated[int, QueryParameter(ge=1, le=MAX_SHADOW_DAYS)] = 30
    ) -> ShadowListOut:
        flags = await shadow_flags(principal, days=days)
        return ShadowListOut(
            days=days,
            items=[
                ShadowFlagOut(
                    subject=flag.subject,
                    subject_id=flag.subject_id,
                    member_id=flag.member_id,
                    issuer_id=flag.issuer_id,
                    shadow_outcome=flag.shadow_outcome,
                    shadow_score=flag.shadow_score,
                    shadow_rules=list(flag.shadow_rules),
                    enforced_outcome=flag.enforced_outcome,
                    enforced_score=flag.enforced_score,
                    decided_at=flag.decided_at,
                )
                for flag in flags
            ],
        )
