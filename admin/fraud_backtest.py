"""``fengling fraud backtest --since …``: past awards and orders replayed
through the current rules and settings.

Every enforced decision since the date is judged again, as at its own
time: the award's context is reloaded by ``activities.screening.
award_context`` (moment: when it was decided; verifier: the activity's),
the order's by ``marketplace.screening.load_order_screening`` (moment:
when it was decided; the wallet's balance then, as its decision's
cashing-out evidence recorded it), both with the issuer's settings as they
are now (``fraud.shadow.settings_for``). Nothing is written: the stored
decisions stay as they were; the report lists those whose outcome would
now differ (``Replay.changed``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from activities.models import ActivityRecord
from activities.screening import award_context
from activities.tables import Activity
from community.members import home_organisation_of
from fraud.models import DecisionRecord, Outcome, Subject, Verdict
from fraud.shadow import judge, settings_for
from fraud.tables import FraudDecision
from marketplace.screening import OrderScreening, load_order_screening

REPLAY_LIMIT = 100_000


@dataclass(frozen=True, slots=True)
class Replay:
    """A stored decision and what the current rules decide instead."""

    stored: DecisionRecord
    now: Verdict

    @property
    def changed(self) -> bool:
        return self.stored.outcome is not self.now.outcome

    def hits_now(self) -> list[str]:
        return [result.rule for result in self.now.hits]


def _evidence(stored: DecisionRecord, rule: str) -> Mapping[str, Any]:
    for result in stored.results:
        if result.get("rule") == rule:
            evidence = result.get("evidence") or {}
            return evidence if isinstance(evidence, Mapping) else {}
    return {}


def _amount(stored: DecisionRecord) -> Decimal | None:
    amount = _evidence(stored, "cooling_off").get("amount")
    return Decimal(str(amount)) if amount is not None else None


async def _replay_award(stored: DecisionRecord) -> Verdict | None:
    rows = await Activity.select().where(Activity.id == stored.subject_id).run()
    if not rows:
        return None
    activity = ActivityRecord.from_row(rows[0])
    amount = _amount(stored) or activity.points_awarded or Decimal("0.00")
    settings = await settings_for(stored.issuer_id)
    context = await award_context(
        activity,
        amount=amount,
        verifier_id=activity.verifier_id,
        now=stored.decided_at,
        thresholds=settings.thresholds,
    )
    return judge(context, settings)[0]


async def _replay_order(stored: DecisionRecord) -> Verdict | None:
    evidence = _evidence(stored, "cashing_out")
    amount = _amount(stored)
    if amount is None or "shop_id" not in evidence:
        return None
    screening = await load_order_screening(
        member_id=stored.member_id,
        home_organisation_id=await home_organisation_of(stored.member_id),
        shop_id=int(evidence["shop_id"]),
        moment=stored.decided_at,
    )
    if "balance_before" in evidence:
        screening = _with_balance(screening, Decimal(str(evidence["balance_before"])))
    return screening.judge(order_id=stored.subject_id, amount=amount, moment=stored.decided_at)[0]


def _with_balance(screening: OrderScreening, balance: Decimal) -> OrderScreening:
    return replace(screening, available=balance)


async def backtest(since: datetime, *, limit: int = REPLAY_LIMIT) -> list[Replay]:
    """Every enforced decision since ``since`` (oldest first, at most
    ``limit``) replayed through the current rules and settings."""
    rows = await (
        FraudDecision.select()
        .where((FraudDecision.decided_at >= since) & (FraudDecision.shadow == False))  # noqa: E712
        .order_by(FraudDecision.id)
        .limit(limit)
        .run()
    )
    replays = []
    for stored in map(DecisionRecord.from_row, rows):
        verdict = await (_replay_order(stored) if stored.subject is Subject.ORDER else _replay_award(stored))
        if verdict is not None:
            replays.append(Replay(stored=stored, now=verdict))
    return replays


def summary(replays: list[Replay]) -> dict[str, int]:
    """How many were replayed, changed, newly flagged and newly cleared."""
    changed = [replay for replay in replays if replay.changed]
    return {
        "replayed": len(replays),
        "changed": len(changed),
        "now_flagged": sum(
            1 for r in changed if r.stored.outcome is Outcome.ALLOW and r.now.outcome is not Outcome.ALLOW
        ),
        "now_allowed": sum(1 for r in changed if r.now.outcome is Outcome.ALLOW),
    }
