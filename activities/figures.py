"""Figures an organiser reports upward: what a campaign has paid out and
how many activities sit in each status. Read from the activities (the
ledger holds the same money; ``tests`` prove the two agree)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from activities.models import Status
from activities.tables import Activity
from campaigns.campaigns import visible_campaign
from campaigns.models import CampaignWithBudget
from community.access import Principal
from ledger.amounts import from_minor


class CampaignFigures(BaseModel):
    awarded: Decimal
    bonuses: Decimal
    activities_by_status: dict[str, int]


async def campaign_figures(campaign_id: int) -> CampaignFigures:
    rows = await Activity.raw(
        "SELECT status, COUNT(*) AS n, COALESCE(SUM(points_awarded_minor), 0) AS awarded, "
        "COALESCE(SUM(bonus_minor), 0) AS bonuses FROM activities_activity WHERE campaign = {} GROUP BY status",
        campaign_id,
    ).run()
    live = [row for row in rows if row["status"] != Status.REJECTED]
    return CampaignFigures(
        awarded=from_minor(sum(int(row["awarded"]) for row in live)),
        bonuses=from_minor(sum(int(row["bonuses"]) for row in live)),
        activities_by_status={row["status"]: int(row["n"]) for row in rows},
    )


async def visible_campaign_figures(
    principal: Principal, campaign_id: int
) -> tuple[CampaignWithBudget, CampaignFigures]:
    """A campaign and its figures, for a principal who may see it
    (``campaigns/policy.py``); ``CampaignNotFound`` for anyone else."""
    campaign = await visible_campaign(principal, campaign_id)
    return campaign, await campaign_figures(campaign_id)
