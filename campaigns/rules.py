"""Earning rules of a campaign, and the arithmetic that applies them.

Rules are stored on the campaign as JSON (amounts as strings) and validated
by :class:`EarningRules` on the way in and out, so a stored rule set is
always one the code understands.

Rounding is explicit and happens once: service points are
``minutes × rate-per-hour ÷ 60``, computed exactly in integer hundredths and
rounded **half to even** (``ROUND_HALF_EVEN``, banker's rounding) to two
places. So 1 minute at 0.30/h is 0.005 → 0.00, 3 minutes at 0.30/h is
0.015 → 0.02; over many logs the rounding does not drift in one direction.
Patrol, report and bonus points are fixed amounts and need no rounding.
Caps cut an award down to what is left of the day's and the week's
allowance; they never round.

The budget rule is here too: an award never exceeds what is left in the
campaign's budget (``check_budget``; ``campaigns.budget`` applies it, and
the ledger's no-negative budget account backs it up).

Everything in this module is pure: no database, unit-tested in
``tests/unit/test_campaign_rules.py``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)

from campaigns.errors import BudgetExhausted, InvalidCampaignData
from community.teams import TeamKind
from ledger.amounts import MINOR_PER_POINT, from_minor, parse_amount

# One activity never earns more than this, whatever the rules say.
MAX_RULE_POINTS = Decimal("10000")
DEFAULT_RATE_KEY = "default"


class ReportKind(StrEnum):
    HAZARD = "hazard"  # 隐患
    TIP = "tip"  # 线索
    DISPUTE = "dispute"  # 纠纷
    SNAP = "snap"  # 其他情况: anything else seen on the way (the pages' words: web/i18n.py report_kind_*)


def _rule_points(value: object) -> Decimal:
    amount = parse_amount(value, field="rules")
    if not Decimal(0) <= amount <= MAX_RULE_POINTS:
        raise ValueError(f"points in a rule must be between 0 and {MAX_RULE_POINTS}")
    return amount


RulePoints = Annotated[Decimal, BeforeValidator(_rule_points), PlainSerializer(str, return_type=str)]


class EarningRules(BaseModel):
    """What one verified activity earns, and the caps per person.

    - ``service_per_hour``: points per hour of service, by the kind of team
      it was logged with (``"default"`` for service without a team or of a
      kind not listed);
    - ``patrol_points`` for a completed patrol lasting at least
      ``patrol_min_minutes``; shorter patrols are verified but earn nothing;
    - ``report_points`` per verified report, by kind;
    - ``report_useful_bonus`` when a handled report is marked useful;
    - ``daily_cap`` / ``weekly_cap``: most a person earns in this campaign
      per day / ISO week (China time) of the activity, bonuses included.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    service_per_hour: dict[str, RulePoints] = Field(default_factory=dict, max_length=20)
    patrol_points: RulePoints = Decimal("0.00")
    patrol_min_minutes: int = Field(default=30, ge=0, le=24 * 60)
    report_points: dict[ReportKind, RulePoints] = Field(default_factory=dict)
    report_useful_bonus: RulePoints = Decimal("0.00")
    daily_cap: RulePoints | None = None
    weekly_cap: RulePoints | None = None

    @field_validator("service_per_hour")
    @classmethod
    def _known_team_kinds(cls, rates: dict[str, Decimal]) -> dict[str, Decimal]:
        allowed = {DEFAULT_RATE_KEY, *(kind.value for kind in TeamKind)}
        unknown = sorted(set(rates) - allowed)
        if unknown:
            raise ValueError(f"unknown team kinds {unknown}; use {sorted(allowed)}")
        return rates

    @model_validator(mode="after")
    def _caps_consistent(self) -> EarningRules:
        if self.daily_cap is not None and self.weekly_cap is not None and self.weekly_cap < self.daily_cap:
            raise ValueError("weekly_cap cannot be below daily_cap")
        return self

    def service_rate(self, team_kind: str | None) -> Decimal:
        if team_kind is not None and team_kind in self.service_per_hour:
            return self.service_per_hour[team_kind]
        return self.service_per_hour.get(DEFAULT_RATE_KEY, Decimal("0.00"))

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def service_points(minutes: int, rate_per_hour: Decimal) -> Decimal:
    """``minutes × rate ÷ 60``, exact, rounded half to even to 2 places."""
    if minutes < 0:
        raise ValueError("minutes cannot be negative")
    numerator = minutes * int(parse_amount(rate_per_hour) * MINOR_PER_POINT)
    quotient, remainder = divmod(numerator, 60)
    if remainder * 2 > 60 or (remainder * 2 == 60 and quotient % 2 == 1):
        quotient += 1
    return from_minor(quotient)


def apply_caps(computed: Decimal, *, earned_today: Decimal, earned_this_week: Decimal, rules: EarningRules) -> Decimal:
    """The part of ``computed`` that fits under the daily and weekly caps."""
    allowed = computed
    if rules.daily_cap is not None:
        allowed = min(allowed, max(Decimal("0.00"), rules.daily_cap - earned_today))
    if rules.weekly_cap is not None:
        allowed = min(allowed, max(Decimal("0.00"), rules.weekly_cap - earned_this_week))
    return allowed


def parse_rules(raw: Any) -> EarningRules:
    """Rules from the database (JSON text or dict) or from a caller;
    ``InvalidCampaignData`` naming the first bad field."""
    data = json.loads(raw) if isinstance(raw, str) else raw
    try:
        return EarningRules.model_validate(data or {})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidCampaignData(f"rules.{where}: {first['msg']}", field="rules") from error


def check_budget(campaign_id: int, *, available: Decimal, amount: Decimal) -> None:
    """The budget rule: an award of ``amount`` fits in what is ``available``
    in the campaign's budget, or it is refused whole (never cut down to fit:
    a volunteer is paid what the rules give, or the organiser funds first)."""
    if available < amount:
        raise BudgetExhausted(
            f"campaign {campaign_id} has {available} points left; this award needs {amount}. "
            "Fund the campaign first; nothing was changed.",
            field="campaign_id",
        )
