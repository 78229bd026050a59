"""Per-rule statistics for the organisations a reviewer manages.

For each registered rule, over a window (default ``DEFAULT_DAYS``):

- **hits**: flagged decisions (review or deny) the rule hit, judged for an
  issuing organisation the reviewer manages (a rule scoring nothing, like
  the duplicate report's confirmation, never flags and is counted apart
  only through its cases);
- **precision**: of the decided cases the rule hit, in organisations the
  reviewer manages, those labelled confirmed fraud over those labelled
  fraud or legitimate (unclear labels count for neither; None without a
  label yet);
- **median time to decide**: from a case opening to a reviewer's decision
  (releases by the deadline are not a reviewer's decision), in minutes.

``rule_statistics`` is pure; ``statistics_for`` reads bounded rows.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from community.access import Principal, managed_organisations
from core.clock import utc_now
from fraud.models import CaseRecord, CaseStatus, Label, Outcome
from fraud.rules import all_rules
from fraud.tables import FraudCase, FraudDecision

DEFAULT_DAYS = 90
MAX_DAYS = 366
# Bounds on the rows one request reads.
DECISION_LIMIT = 50_000
CASE_LIMIT = 20_000


@dataclass(frozen=True, slots=True)
class RuleStatistics:
    rule: str
    hits: int
    labelled_fraud: int
    labelled_legitimate: int
    labelled_unclear: int
    precision: Decimal | None
    median_minutes_to_decide: Decimal | None


def rule_statistics(
    rules: Sequence[str], hits_per_decision: Iterable[Iterable[str]], cases: Iterable[CaseRecord]
) -> list[RuleStatistics]:
    """Each rule's hits, labels, precision and median decision time (pure)."""
    hits = dict.fromkeys(rules, 0)
    for hit_rules in hits_per_decision:
        for rule in set(hit_rules):
            if rule in hits:
                hits[rule] += 1
    labels: dict[str, dict[Label, int]] = {rule: dict.fromkeys(Label, 0) for rule in rules}
    minutes: dict[str, list[float]] = {rule: [] for rule in rules}
    for case in cases:
        decided_by_reviewer = case.decided_by is not None and case.decided_at is not None
        for rule in case.rules:
            if rule not in labels:
                continue
            if case.label is not None and case.status in (CaseStatus.APPROVED, CaseStatus.REJECTED):
                labels[rule][case.label] += 1
            if decided_by_reviewer and case.decided_at is not None:
                minutes[rule].append((case.decided_at - case.created_at).total_seconds() / 60)
    out = []
    for rule in rules:
        fraud, legitimate = labels[rule][Label.FRAUD], labels[rule][Label.LEGITIMATE]
        precision = (
            (Decimal(fraud) / Decimal(fraud + legitimate)).quantize(Decimal("0.001")) if fraud + legitimate else None
        )
        median = Decimal(str(statistics.median(minutes[rule]))).quantize(Decimal("0.1")) if minutes[rule] else None
        out.append(
            RuleStatistics(
                rule=rule,
                hits=hits[rule],
                labelled_fraud=fraud,
                labelled_legitimate=legitimate,
                labelled_unclear=labels[rule][Label.UNCLEAR],
                precision=precision,
                median_minutes_to_decide=median,
            )
        )
    return out


def hit_rules_of(results_json: str) -> list[str]:
    """The rules that hit, from a stored decision's results (pure)."""
    return [result["rule"] for result in json.loads(results_json) if result.get("hit")]


async def statistics_for(
    principal: Principal, *, days: int = DEFAULT_DAYS, now: datetime | None = None
) -> list[RuleStatistics]:
    """Per-rule statistics over the last ``days`` days, for the
    organisations the principal manages (none: every count zero)."""
    since = (now or utc_now()) - timedelta(days=days)
    names = [rule.__name__ for rule in all_rules()]
    organisation_ids = sorted(await managed_organisations(principal))
    if not organisation_ids:
        return rule_statistics(names, [], [])
    decisions = await (
        FraudDecision.select(FraudDecision.results)
        .where(
            FraudDecision.issuer.is_in(organisation_ids)
            & (FraudDecision.shadow == False)  # noqa: E712 (Piccolo builds SQL from it)
            & FraudDecision.outcome.is_in([Outcome.REVIEW.value, Outcome.DENY.value])
            & (FraudDecision.decided_at >= since)
        )
        .limit(DECISION_LIMIT)
        .output(as_list=True)
        .run()
    )
    case_rows = await (
        FraudCase.select()
        .where(FraudCase.organisation.is_in(organisation_ids) & (FraudCase.created_at >= since))
        .limit(CASE_LIMIT)
        .run()
    )
    return rule_statistics(names, map(hit_rules_of, decisions), map(CaseRecord.from_row, case_rows))
