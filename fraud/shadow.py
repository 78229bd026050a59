"""Rule settings per issuing organisation, and shadow mode.

An issuing organisation's settings are its threshold overrides (on
``DEFAULT_THRESHOLDS``) and a **shadow** block: overrides on top of those
and rules that are evaluated but not enforced. Every screening then
decides twice (``judge``, pure): the *enforced* verdict (live thresholds,
the shadow rules left out) and, when a shadow block exists, the *shadow*
verdict (shadow thresholds, every rule). The shadow verdict is stored as a
``fraud_decision`` row with ``shadow`` set, beside the enforced one, and
never acts; ``GET /api/v1/fraud/shadow`` lists what it would have flagged.

Changing settings never touches a stored decision: each keeps a copy of
the thresholds it was judged with (``fraud_decision.thresholds``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from piccolo.columns import Column

from community import audit
from community.access import Principal, can_manage_organisation, managed_organisations
from community.errors import OrganisationNotFound
from community.organisations import get_organisation
from core.clock import utc_now
from core.database import in_write_transaction
from fraud.errors import InvalidThresholds, SettingsNotFound
from fraud.models import DEFAULT_THRESHOLDS, DecisionRecord, Outcome, ScreeningContext, Subject, Thresholds, Verdict
from fraud.rules import all_rules, decide, rules_for
from fraud.tables import FraudDecision, FraudThreshold
from fraud.thresholds import apply_overrides

RULE_NAMES = frozenset(rule.__name__ for rule in all_rules())


@dataclass(frozen=True, slots=True)
class ShadowSettings:
    """What shadow mode judges with: thresholds, and rules it alone runs."""

    thresholds: Thresholds
    rules: frozenset[str] = frozenset()
    overrides: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """An issuing organisation's settings as stored and as they apply."""

    organisation_id: int | None
    overrides: Mapping[str, Any]
    thresholds: Thresholds
    shadow: ShadowSettings | None

    def shadow_json(self) -> dict[str, Any]:
        if self.shadow is None:
            return {}
        return {"overrides": dict(self.shadow.overrides), "rules": sorted(self.shadow.rules)}


def parse_settings(
    organisation_id: int | None, overrides: Mapping[str, Any], shadow: Mapping[str, Any]
) -> RuleSettings:
    """Validated settings (pure): overrides on the defaults; the shadow's
    overrides on those; shadow rules must be registered rules."""
    thresholds = apply_overrides(DEFAULT_THRESHOLDS, overrides)
    if not shadow:
        return RuleSettings(organisation_id, dict(overrides), thresholds, None)
    unknown = sorted(set(shadow) - {"overrides", "rules"})
    if unknown:
        raise InvalidThresholds(f"unknown shadow settings: {', '.join(unknown)}", field="shadow")
    shadow_overrides = shadow.get("overrides") or {}
    rules = shadow.get("rules") or []
    if not isinstance(shadow_overrides, Mapping) or not isinstance(rules, list):
        raise InvalidThresholds("shadow is {overrides: {...}, rules: [...]}", field="shadow")
    strange = sorted(str(rule) for rule in rules if rule not in RULE_NAMES)
    if strange:
        raise InvalidThresholds(f"no rule named {', '.join(strange)}", field="shadow.rules")
    shadow_settings = ShadowSettings(
        thresholds=apply_overrides(thresholds, shadow_overrides),
        rules=frozenset(str(rule) for rule in rules),
        overrides=dict(shadow_overrides),
    )
    return RuleSettings(organisation_id, dict(overrides), thresholds, shadow_settings)


def judge(context: ScreeningContext, settings: RuleSettings) -> tuple[Verdict, Verdict | None]:
    """The enforced verdict (the shadow rules left out) and the shadow one
    (None without shadow mode) (pure)."""
    registered = rules_for(context.subject)
    if settings.shadow is None:
        return decide(context, settings.thresholds), None
    enforced = [rule for rule in registered if rule.__name__ not in settings.shadow.rules]
    return decide(context, settings.thresholds, enforced), decide(context, settings.shadow.thresholds, registered)


async def settings_for(issuer_id: int | None) -> RuleSettings:
    """An issuing organisation's settings (one query; defaults if none)."""
    if issuer_id is None:
        return RuleSettings(None, {}, DEFAULT_THRESHOLDS, None)
    rows = await (
        FraudThreshold.select(FraudThreshold.overrides, FraudThreshold.shadow)
        .where(FraudThreshold.organisation == issuer_id)
        .run()
    )
    if not rows:
        return RuleSettings(issuer_id, {}, DEFAULT_THRESHOLDS, None)
    return stored_settings(issuer_id, rows[0]["overrides"], rows[0]["shadow"])


def stored_settings(issuer_id: int | None, overrides: str | None, shadow: str | None) -> RuleSettings:
    """The settings an issuer's ``fraud_threshold`` row holds (its JSON
    columns as text; both None when it has no row: the defaults) (pure)."""
    if issuer_id is None:
        return RuleSettings(None, {}, DEFAULT_THRESHOLDS, None)
    if overrides is None:
        return RuleSettings(issuer_id, {}, DEFAULT_THRESHOLDS, None)
    return parse_settings(issuer_id, json.loads(overrides), json.loads(shadow or "{}"))


async def _issuer_managed(principal: Principal, organisation_id: int) -> None:
    """Managers of an issuing organisation; anyone else, or an organisation
    that issues no points, finds no settings (404)."""
    missing = SettingsNotFound(f"no fraud settings of organisation {organisation_id} for you", field="org_id")
    try:
        organisation = await get_organisation(organisation_id)
    except OrganisationNotFound as error:  # the same answer as one not managed
        raise missing from error
    if not organisation.issues_points or not await can_manage_organisation(principal, organisation_id):
        raise missing


async def read_settings(principal: Principal, organisation_id: int) -> RuleSettings:
    await _issuer_managed(principal, organisation_id)
    return await settings_for(organisation_id)


async def update_settings(
    principal: Principal,
    organisation_id: int,
    *,
    overrides: Mapping[str, Any],
    shadow: Mapping[str, Any],
    now: datetime | None = None,
) -> RuleSettings:
    """Replace the organisation's settings (validated, audited with what
    they were). Past decisions keep the thresholds they were judged with."""
    chosen = parse_settings(organisation_id, overrides, shadow)
    await _issuer_managed(principal, organisation_id)
    moment = now or utc_now()

    async def write() -> None:
        before = await settings_for(organisation_id)
        values: dict[Column | str, Any] = {
            FraudThreshold.overrides: json.dumps(dict(chosen.overrides), sort_keys=True),
            FraudThreshold.shadow: json.dumps(chosen.shadow_json(), sort_keys=True),
            FraudThreshold.updated_at: moment,
        }
        exists = await FraudThreshold.exists().where(FraudThreshold.organisation == organisation_id).run()
        if exists:
            await FraudThreshold.update(values).where(FraudThreshold.organisation == organisation_id).run()
        else:
            await FraudThreshold.insert(
                FraudThreshold(
                    organisation=organisation_id,
                    overrides=values[FraudThreshold.overrides],
                    shadow=values[FraudThreshold.shadow],
                    updated_at=moment,
                )
            ).run()
        await audit.record(
            principal.ref,
            "fraud.settings.update",
            f"organisation:{organisation_id}",
            before={"overrides": dict(before.overrides), "shadow": before.shadow_json()},
            after={"overrides": dict(chosen.overrides), "shadow": chosen.shadow_json()},
        )

    await in_write_transaction(write)
    return chosen


def thresholds_json(thresholds: Thresholds) -> dict[str, int]:
    return {name: int(value) for name, value in asdict(thresholds).items()}


@dataclass(frozen=True, slots=True)
class ShadowFlag:
    """A subject shadow mode would have flagged, beside what was enforced."""

    subject: Subject
    subject_id: int
    member_id: int
    issuer_id: int | None
    shadow_outcome: Outcome
    shadow_score: int
    shadow_rules: tuple[str, ...]
    enforced_outcome: Outcome | None
    enforced_score: int | None
    decided_at: datetime


SHADOW_LISTED = 200


async def shadow_flags(principal: Principal, *, days: int = 30, now: datetime | None = None) -> list[ShadowFlag]:
    """Shadow decisions of review or deny, newest first, for issuers the
    principal manages, each with the enforced decision it stood beside."""
    organisation_ids = sorted(await managed_organisations(principal))
    if not organisation_ids:
        return []
    since = (now or utc_now()) - timedelta(days=days)
    rows = await (
        FraudDecision.select()
        .where(
            (FraudDecision.shadow == True)  # noqa: E712 (Piccolo builds SQL from it)
            & FraudDecision.issuer.is_in(organisation_ids)
            & (FraudDecision.outcome != Outcome.ALLOW.value)
            & (FraudDecision.decided_at >= since)
        )
        .order_by(FraudDecision.id, ascending=False)
        .limit(SHADOW_LISTED)
        .run()
    )
    shadows = [DecisionRecord.from_row(row) for row in rows]
    enforced: dict[tuple[str, int], DecisionRecord] = {}
    if shadows:
        found = await (
            FraudDecision.select()
            .where(
                (FraudDecision.shadow == False)  # noqa: E712
                & FraudDecision.subject_id.is_in(sorted({shadow.subject_id for shadow in shadows}))
            )
            .run()
        )
        for record in map(DecisionRecord.from_row, found):
            enforced[(record.subject.value, record.subject_id)] = record
    flags = []
    for shadow in shadows:
        beside = enforced.get((shadow.subject.value, shadow.subject_id))
        flags.append(
            ShadowFlag(
                subject=shadow.subject,
                subject_id=shadow.subject_id,
                member_id=shadow.member_id,
                issuer_id=shadow.issuer_id,
                shadow_outcome=shadow.outcome,
                shadow_score=shadow.score,
                shadow_rules=tuple(str(result["rule"]) for result in shadow.results if result.get("hit")),
                enforced_outcome=beside.outcome if beside is not None else None,
                enforced_score=beside.score if beside is not None else None,
                decided_at=shadow.decided_at,
            )
        )
    return flags
