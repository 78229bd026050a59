"""Turning a verified activity into points: one ledger entry, from the
campaign's budget to the volunteer's wallet.

Guarantees:
- exactly one award entry per activity (idempotency key
  ``activity:<id>:award``; a useful report's bonus is ``activity:<id>:bonus``),
  carrying the activity, campaign and approver in its metadata (invariant 5);
- an award never exceeds the budget left: checked with the budget row locked,
  and the ledger's no-negative rule backs it up;
- an award never takes a person over the campaign's daily or weekly cap
  (counted over the China-time day / ISO week of the activity, bonuses
  included): it is cut down to what is left, and ``capped`` records that;
- rounding: see ``campaigns.rules`` (half to even, two places, once).

Everything here runs inside the caller's transaction, after the activity
row is locked. Lock order: activity → campaign → ledger accounts (ascending
id), the same in every path, so awards, rejections and closings cannot
deadlock one another.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from activities.errors import ActivityNotOpen
from activities.models import ActivityRecord, Kind, Status
from activities.tables import Activity
from campaigns.accounts import budget_code
from campaigns.campaigns import CLOSED, OPEN, lock_campaign, parse_rules
from campaigns.errors import BudgetExhausted, CampaignClosed
from campaigns.funding import return_to_issuance
from campaigns.rules import EarningRules, apply_caps, service_points
from community.accounts import member_ref, open_wallet, wallet_code
from community.members import home_organisation_of
from community.teams import team_kind_of
from ledger.accounts import find_balance
from ledger.amounts import from_minor, to_minor
from ledger.errors import InsufficientFunds
from ledger.posting import lock_accounts, transfer
from ledger.reversal import reverse_entry

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Award:
    computed: Decimal
    awarded: Decimal
    capped: bool
    entry_id: int | None


def activity_ref(activity_id: int) -> str:
    return f"activity:{activity_id}"


async def computed_points(row: ActivityRecord, rules: EarningRules) -> Decimal:
    """What the rules give this activity before caps."""
    if row.kind is Kind.SERVICE:
        team_kind = await team_kind_of(row.team_id) if row.team_id is not None else None
        return service_points(row.minutes or 0, rules.service_rate(team_kind))
    if row.kind is Kind.PATROL:
        return rules.patrol_points if (row.minutes or 0) >= rules.patrol_min_minutes else ZERO
    if row.report_kind is None:
        return ZERO
    return rules.report_points.get(row.report_kind, ZERO)


_EARNED_SELECT = "SELECT COALESCE(SUM(points_awarded_minor + bonus_minor), 0) AS total FROM activities_activity "
_EARNED_SQL = {
    "day": _EARNED_SELECT + "WHERE member = {} AND campaign = {} AND award_day = {} AND status != {}",
    "week": _EARNED_SELECT + "WHERE member = {} AND campaign = {} AND award_week = {} AND status != {}",
}


async def _earned(member_id: int, campaign_id: int, column: Literal["day", "week"], period: str) -> Decimal:
    """Points this member has from the campaign in one cap period, bonuses
    included, rejected (reversed) activities excluded."""
    rows = await Activity.raw(
        _EARNED_SQL[column],
        member_id,
        campaign_id,
        period,
        Status.REJECTED.value,
    ).run()
    return from_minor(int(rows[0]["total"]))


async def _capped(row: ActivityRecord, campaign_id: int, rules: EarningRules, computed: Decimal) -> Decimal:
    earned_today = (
        await _earned(row.member_id, campaign_id, "day", row.award_day) if rules.daily_cap is not None else ZERO
    )
    earned_this_week = (
        await _earned(row.member_id, campaign_id, "week", row.award_week) if rules.weekly_cap is not None else ZERO
    )
    return apply_caps(computed, earned_today=earned_today, earned_this_week=earned_this_week, rules=rules)


async def _pay(
    row: ActivityRecord,
    campaign_id: int,
    *,
    amount: Decimal,
    kind: str,
    purpose: str,
    approver_id: int,
    metadata: dict[str, Any],
    reason_zh: str,
    reason_en: str,
) -> int:
    """Budget → wallet, with the budget checked first so the refusal names
    the campaign, not an account."""
    budget = budget_code(campaign_id)
    wallet = wallet_code(row.member_id)
    # Whoever has a verified activity has earned: a member who holds no
    # earning role (an organiser logging service) gets their wallet now.
    if await find_balance(wallet) is None:
        await open_wallet(row.member_id, await home_organisation_of(row.member_id))
    accounts = await lock_accounts([budget, wallet])
    left = accounts[budget].available_minor
    if left < to_minor(amount):
        raise BudgetExhausted(
            f"campaign {campaign_id} has {from_minor(left)} points left; this award needs {amount}. "
            "Fund the campaign first; nothing was changed.",
            field="campaign_id",
        )
    entry = await transfer(
        debit_code=budget,
        credit_code=wallet,
        amount=amount,
        kind=kind,
        reason_zh=reason_zh,
        reason_en=reason_en,
        metadata={
            "activity_id": row.id,
            "activity_kind": row.kind.value,
            "campaign_id": campaign_id,
            "approver_member_id": approver_id,
            "organisation_id": row.organisation_id,
            **metadata,
        },
        actor_ref=member_ref(approver_id),
        cause_ref=activity_ref(row.id),
        idempotency_key=f"{activity_ref(row.id)}:{purpose}",
    )
    return entry.id


async def _open_rules(campaign_id: int) -> EarningRules:
    campaign = await lock_campaign(campaign_id)
    if campaign["status"] != OPEN:
        raise CampaignClosed(
            f"campaign {campaign_id} is closed; verify under another campaign (campaign_id)", field="campaign_id"
        )
    return parse_rules(campaign["rules"])


# purpose → (kind of entry, reason zh, reason en); the title follows the reason.
_PURPOSES: dict[Literal["award", "bonus"], tuple[str, str, str]] = {
    "award": ("award", "志愿服务积分：", "Volunteer points: "),
    "bonus": ("award_bonus", "有效线索奖励：", "Useful report bonus: "),
}


async def _grant(row: ActivityRecord, *, approver_id: int, purpose: Literal["award", "bonus"]) -> Award:
    """Compute, cap and pay one award or bonus for ``row``."""
    campaign_id = row.campaign_id
    if campaign_id is None:
        return Award(computed=ZERO, awarded=ZERO, capped=False, entry_id=None)
    rules = await _open_rules(campaign_id)
    computed = await computed_points(row, rules) if purpose == "award" else rules.report_useful_bonus
    awarded = await _capped(row, campaign_id, rules, computed)
    entry_id = None
    if awarded > 0:
        kind, reason_zh, reason_en = _PURPOSES[purpose]
        entry_id = await _pay(
            row,
            campaign_id,
            amount=awarded,
            kind=kind,
            purpose=purpose,
            approver_id=approver_id,
            metadata={"minutes": row.minutes, "computed": str(computed), "capped": awarded < computed},
            reason_zh=reason_zh + row.title,
            reason_en=reason_en + row.title,
        )
    return Award(computed=computed, awarded=awarded, capped=awarded < computed, entry_id=entry_id)


async def award(row: ActivityRecord, *, approver_id: int) -> Award:
    """The award for verifying ``row`` (its ``campaign`` already resolved)."""
    return await _grant(row, approver_id=approver_id, purpose="award")


async def useful_bonus(row: ActivityRecord, *, approver_id: int) -> Award:
    """The bonus for a report handled as useful (within the caps)."""
    return await _grant(row, approver_id=approver_id, purpose="bonus")


def _brief(text: str, limit: int = 100) -> str:
    """Ledger reasons are short; the full text stays in the metadata."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def reverse_awards(row: ActivityRecord, *, actor_id: int, reason: str) -> tuple[int | None, int | None]:
    """Reverse the award and bonus of ``row`` (in that order). If the
    campaign has closed since, the returned points go on to issuance, as
    closing would have sent them. Refused, with nothing changed, if the
    volunteer has already spent them."""
    reversals: list[int | None] = []
    campaign = await lock_campaign(row.campaign_id) if row.campaign_id is not None else None
    returned = ZERO
    for purpose, entry_id, amount in (
        ("award", row.award_entry_id, row.points_awarded),
        ("bonus", row.bonus_entry_id, row.bonus),
    ):
        if entry_id is None:
            reversals.append(None)
            continue
        try:
            reversal = await reverse_entry(
                entry_id,
                reason_zh=f"撤销积分：{_brief(reason)}",
                reason_en=f"Points withdrawn: {_brief(reason)}",
                actor_ref=member_ref(actor_id),
                metadata={"activity_id": row.id, "rejected_by_member_id": actor_id, "reason": reason},
                idempotency_key=f"{activity_ref(row.id)}:{purpose}:reversal",
            )
        except InsufficientFunds as error:
            raise ActivityNotOpen(
                "the volunteer has already spent these points, so the award cannot be withdrawn; "
                "an organiser can correct the wallet with an adjustment",
                field="activity_id",
            ) from error
        reversals.append(reversal.id)
        returned += amount
    if row.campaign_id is not None and campaign is not None and campaign["status"] == CLOSED and returned:
        await return_to_issuance(row.campaign_id, campaign["organisation"], returned, actor_ref=member_ref(actor_id))
    return reversals[0], reversals[1]
