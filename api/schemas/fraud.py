"""Request and response models of the fraud review routes.

A case is shown with the decision that opened it: every rule's result with
its reason in Chinese and English. Reviewers see each rule's evidence; the
member sees the reasons, who decides and by when, but not the evidence
(it can name other members' reports and photos).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from api.points import Points
from core.ids import MAX_ID
from fraud.cases import NOTE_MAX_CHARS
from fraud.models import CaseRecord, CaseStatus, DecisionRecord, Label, Outcome, Subject

DECIDERS_ZH = "本网格及上级的组织者（不含本人和核实人）"
DECIDERS_EN = "organisers of this grid or above (never the member or the verifier)"


class RuleResultOut(BaseModel):
    rule: str
    hit: bool
    score: int
    reason_zh: str
    reason_en: str
    evidence: dict[str, Any]


class DecisionOut(BaseModel):
    id: int
    outcome: Outcome
    score: int
    ruleset_version: str
    decided_at: datetime
    results: list[RuleResultOut]


class CaseOut(BaseModel):
    """A review case: why the points are held, who decides, by when, and
    (once decided) the outcome."""

    id: int
    subject: Subject
    subject_id: int
    member_id: int
    verifier_id: int | None
    organisation_id: int
    points: Points
    status: CaseStatus
    reason_zh: str
    reason_en: str
    deciders_zh: str = DECIDERS_ZH
    deciders_en: str = DECIDERS_EN
    due_at: datetime
    taken_by: int | None
    taken_until: datetime | None
    decided_by: int | None
    decided_at: datetime | None
    label: Label | None
    note: str
    objection: str
    created_at: datetime
    score: int = 0
    rules: list[str] = []
    campaign_id: int | None = None
    decision: DecisionOut | None


class CaseListOut(BaseModel):
    items: list[CaseOut]


class NextCaseOut(BaseModel):
    """The case "take next" locked to the caller; null when none is free."""

    case: CaseOut | None


class RuleStatisticsOut(BaseModel):
    rule: str
    hits: int = Field(description="flagged decisions (review or deny) the rule hit")
    labelled_fraud: int
    labelled_legitimate: int
    labelled_unclear: int
    precision: Decimal | None = Field(description="fraud / (fraud + legitimate) among decided cases it hit")
    median_minutes_to_decide: Decimal | None


class StatisticsOut(BaseModel):
    days: int
    rules: list[RuleStatisticsOut]


class CaseVerdict(StrEnum):
    APPROVE = "approve"  # post the held points to the wallet
    REJECT = "reject"  # void the hold and reject the activity


class CaseDecisionIn(BaseModel):
    verdict: CaseVerdict
    label: Label
    note: str = Field(min_length=1, max_length=NOTE_MAX_CHARS)


class ObjectionIn(BaseModel):
    note: str = Field(min_length=1, max_length=NOTE_MAX_CHARS)


def case_out(case: CaseRecord, decision: DecisionRecord | None, *, with_evidence: bool) -> CaseOut:
    shown = None
    if decision is not None:
        shown = DecisionOut(
            id=decision.id,
            outcome=decision.outcome,
            score=decision.score,
            ruleset_version=decision.ruleset_version,
            decided_at=decision.decided_at,
            results=[
                RuleResultOut(
                    rule=str(result["rule"]),
                    hit=bool(result["hit"]),
                    score=int(result["score"]),
                    reason_zh=str(result["reason_zh"]),
                    reason_en=str(result["reason_en"]),
                    evidence=dict(result["evidence"]) if with_evidence else {},
                )
                for result in decision.results
            ],
        )
    return CaseOut(
        id=case.id,
        subject=case.subject,
        subject_id=case.subject_id,
        member_id=case.member_id,
        verifier_id=case.verifier_id,
        organisation_id=case.organisation_id,
        points=case.amount,
        status=case.status,
        reason_zh=case.reason_zh,
        reason_en=case.reason_en,
        due_at=case.due_at,
        taken_by=case.taken_by,
        taken_until=case.taken_until,
        decided_by=case.decided_by,
        decided_at=case.decided_at,
        label=case.label,
        note=case.note,
        objection=case.objection,
        created_at=case.created_at,
        score=case.score,
        rules=list(case.rules),
        campaign_id=case.campaign_id,
        decision=shown,
    )


class SnoozeIn(BaseModel):
    member_id: int = Field(ge=1, le=MAX_ID)
    rule: str = Field(min_length=1, max_length=40)
    reason: str = Field(min_length=1, max_length=500)
    expires_at: datetime


class SnoozeOut(BaseModel):
    id: int
    member_id: int
    rule: str
    reason: str
    expires_at: datetime
    created_by: int
    created_at: datetime


class SnoozeListOut(BaseModel):
    items: list[SnoozeOut]


class AllowPairIn(BaseModel):
    member_a: int = Field(ge=1, le=MAX_ID)
    member_b: int = Field(ge=1, le=MAX_ID)
    reason: str = Field(min_length=1, max_length=500)


class AllowPairOut(BaseModel):
    id: int
    member_ids: list[int]
    reason: str
    created_by: int
    created_at: datetime


class AllowPairListOut(BaseModel):
    items: list[AllowPairOut]


class ShadowIn(BaseModel):
    overrides: dict[str, int] = Field(default_factory=dict, description="thresholds shadow mode judges with")
    rules: list[str] = Field(default_factory=list, description="rules evaluated in shadow only, not enforced")


class SettingsIn(BaseModel):
    overrides: dict[str, int] = Field(default_factory=dict, description="the organisation's threshold overrides")
    shadow: ShadowIn | None = None


class SettingsOut(BaseModel):
    organisation_id: int
    overrides: dict[str, int]
    thresholds: dict[str, int] = Field(description="the thresholds that apply (defaults with the overrides)")
    defaults: dict[str, int]
    shadow: ShadowIn | None
    shadow_thresholds: dict[str, int] | None
    rules: list[str] = Field(description="every registered rule")


class ShadowFlagOut(BaseModel):
    subject: Subject
    subject_id: int
    member_id: int
    issuer_id: int | None
    shadow_outcome: Outcome
    shadow_score: int
    shadow_rules: list[str]
    enforced_outcome: Outcome | None
    enforced_score: int | None
    decided_at: datetime


class ShadowListOut(BaseModel):
    days: int
    items: list[ShadowFlagOut]
