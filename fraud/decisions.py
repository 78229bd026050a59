"""Storing decisions: one append-only row per screened award or order.

``record_decision`` runs inside the caller's writing transaction (the
verify or placement step that asked), so the decision commits with what it
decided. Nothing in this app updates or deletes a ``fraud_decision`` row.
"""

from __future__ import annotations

import json
from datetime import datetime

from core.fixed_sql import Dialect, Script, write
from fraud import sql
from fraud.models import DecisionRecord, Subject, Verdict
from fraud.tables import FraudDecision


def decision_values(
    verdict: Verdict,
    *,
    subject: Subject,
    subject_id: int,
    member_id: int,
    issuer_id: int | None,
    now: datetime,
    shadow: bool = False,
) -> tuple[object, ...]:
    """A decision row's values in ``fraud.sql.INSERT_DECISION``'s order
    (the same texts ``record_decision`` stores)."""
    return (
        subject.value,
        subject_id,
        member_id,
        issuer_id,
        verdict.outcome.value,
        verdict.score,
        verdict.ruleset_version,
        verdict.thresholds.to_json(),
        json.dumps([result.to_json() for result in verdict.results], ensure_ascii=False, sort_keys=True),
        now,
        shadow,
    )


async def record_decision(
    verdict: Verdict,
    *,
    subject: Subject,
    subject_id: int,
    member_id: int,
    issuer_id: int | None,
    now: datetime,
    shadow: bool = False,
) -> int:
    """Insert the decision with every rule's result; its id. ``shadow``:
    a shadow-mode decision, recorded and never enforced. A fixed statement
    (the verify path's, measured), in the caller's transaction."""
    values = decision_values(
        verdict,
        subject=subject,
        subject_id=subject_id,
        member_id=member_id,
        issuer_id=issuer_id,
        now=now,
        shadow=shadow,
    )

    def insert(_: Dialect) -> Script[int]:
        inserted = yield sql.INSERT_DECISION(*values)
        return int(inserted[0]["id"])

    return await write(insert)


async def decisions_for(subject: Subject, subject_id: int, *, shadow: bool = False) -> list[DecisionRecord]:
    """Every (enforced, or with ``shadow`` shadow) decision made on one
    activity or order, oldest first."""
    rows = await (
        FraudDecision.select()
        .where(
            (FraudDecision.subject == subject.value)
            & (FraudDecision.subject_id == subject_id)
            & (FraudDecision.shadow == shadow)
        )
        .order_by(FraudDecision.id)
        .run()
    )
    return [DecisionRecord.from_row(row) for row in rows]


async def get_decision(decision_id: int) -> DecisionRecord | None:
    rows = await FraudDecision.select().where(FraudDecision.id == decision_id).run()
    return DecisionRecord.from_row(rows[0]) if rows else None
