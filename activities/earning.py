"""What a verified activity is owed: a pure computation, no database.

``owed(work, rules, earned)`` turns the campaign's earning rules and what
the activity did into the points it earns:

1. **computed**, what the rules give before caps (``computed_points``):
   - service: ``minutes × rate ÷ 60`` at the rate of the team's kind (or the
     default rate), rounded once, half to even, to 2 places
     (``campaigns.rules.service_points``);
   - patrol: the fixed patrol points if it lasted at least the rule's
     minimum, else nothing (it is still verified), times the multiplier of
     the grab-order task it was on (``claim_rules.multiplied``);
   - report: the fixed points of its kind; a *confirmation* of another
     member's earlier report (``fraud.rules.duplicate_report``) earns the
     organisation's ``confirmation_pct`` of them, so the first reporter
     keeps the full credit;
   - the useful-report bonus: the rule's fixed bonus.
2. **awarded**, the part of it that fits under the campaign's daily and
   weekly caps for this person, counted over the China-time day and ISO
   week of the activity, bonuses included (``campaigns.rules.apply_caps``);
   ``capped`` records that it was cut.

Paying it is the campaign budget's job (``campaigns.budget.pay``, which
also enforces the budget rule); loading what the caps count is
``activities.verification``. Unit-tested in ``tests/unit/test_earning.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from activities.claim_rules import multiplied
from activities.models import Kind
from campaigns.rules import EarningRules, ReportKind, apply_caps, service_points

ZERO = Decimal("0.00")

Purpose = Literal["award", "bonus"]


@dataclass(frozen=True, slots=True)
class Work:
    """What an activity did, as the earning rules see it."""

    kind: Kind
    minutes: int
    # A report's kind; None for service and patrols.
    report_kind: ReportKind | None = None
    # The kind of the team service was logged with; None without a team.
    team_kind: str | None = None
    # A patrol on a task: the task's points multiplier in hundredths.
    multiplier_pct: int = 100
    # A report confirming another member's earlier one (the fraud rules'
    # duplicate report): the percentage of the report's points it earns.
    confirmation_pct: int = 100


@dataclass(frozen=True, slots=True)
class Earned:
    """What the person already has from the campaign in the activity's cap
    periods (rejected, i.e. reversed, activities excluded)."""

    today: Decimal = ZERO
    this_week: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class Owed:
    computed: Decimal
    awarded: Decimal

    @property
    def capped(self) -> bool:
        return self.awarded < self.computed


NOTHING = Owed(computed=ZERO, awarded=ZERO)


def computed_points(work: Work, rules: EarningRules, purpose: Purpose = "award") -> Decimal:
    """What the rules give before caps."""
    if purpose == "bonus":
        return rules.report_useful_bonus
    if work.kind is Kind.SERVICE:
        return service_points(work.minutes, rules.service_rate(work.team_kind))
    if work.kind is Kind.PATROL:
        if work.minutes < rules.patrol_min_minutes:
            return ZERO
        return multiplied(rules.patrol_points, work.multiplier_pct)
    points = rules.report_points.get(work.report_kind, ZERO) if work.report_kind is not None else ZERO
    return multiplied(points, work.confirmation_pct)


def owed(work: Work, rules: EarningRules, earned: Earned, purpose: Purpose = "award") -> Owed:
    """The award (or bonus) for ``work``: computed, then cut to the caps."""
    computed = computed_points(work, rules, purpose)
    awarded = apply_caps(computed, earned_today=earned.today, earned_this_week=earned.this_week, rules=rules)
    return Owed(computed=computed, awarded=awarded)


def counts_caps(rules: EarningRules) -> bool:
    """Do the rules have a cap, i.e. is ``Earned`` worth loading?"""
    return rules.daily_cap is not None or rules.weekly_cap is not None


# What an award's statement line says before the activity's title, by the
# kind of work (reason zh, reason en): a patrol's line says patrol, not
# volunteer service. Lines already posted keep the words they were posted with.
AWARD_REASONS: dict[Kind, tuple[str, str]] = {
    Kind.SERVICE: ("志愿服务积分：", "Service points: "),
    Kind.PATROL: ("巡逻积分：", "Patrol points: "),
    Kind.REPORT: ("随手报积分：", "Report points: "),
}
BONUS_REASON = ("有效线索奖励：", "Useful report bonus: ")
ENTRY_KINDS: dict[Purpose, str] = {"award": "award", "bonus": "award_bonus"}


def entry_wording(purpose: Purpose, kind: Kind) -> tuple[str, str, str]:
    """(kind of ledger entry, reason zh, reason en) of what ``purpose`` pays
    for an activity of ``kind``; the activity's title follows the reason."""
    reason_zh, reason_en = BONUS_REASON if purpose == "bonus" else AWARD_REASONS[kind]
    return ENTRY_KINDS[purpose], reason_zh, reason_en
