"""Which campaign an activity earns from: pure decisions over loaded records.

- **A named campaign** must be open, belong to the activity's organisation
  or one above it, and run at the moment of the activity
  (``check_applicable``).
- **No campaign named**: the open default campaign of the nearest
  organisation at or above the activity's that runs at that moment; none if
  there is none (the activity can still be verified, it earns nothing)
  (``nearest_default``).

``chain`` is the activity's organisation and its ancestors, nearest first
(``community.organisations.ancestor_ids``). The loading and locking is
``campaigns.campaigns.applicable_campaign``; these functions only decide, and
are unit-tested in ``tests/unit/test_campaign_rules.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from campaigns.errors import CampaignClosed, CampaignNotApplicable
from campaigns.models import CampaignRecord


def check_applicable(campaign: CampaignRecord, chain: Sequence[int], moment: datetime) -> None:
    """Refuse a named campaign that is closed, elsewhere or at another time."""
    if not campaign.is_open:
        raise CampaignClosed(f"campaign {campaign.id} is closed", field="campaign_id")
    if campaign.organisation_id not in chain:
        raise CampaignNotApplicable(f"campaign {campaign.id} does not cover this organisation", field="campaign_id")
    if not campaign.covers(moment):
        raise CampaignNotApplicable(f"campaign {campaign.id} does not run at {moment.isoformat()}", field="campaign_id")


def nearest_default(
    defaults: Iterable[CampaignRecord], chain: Sequence[int], moment: datetime
) -> CampaignRecord | None:
    """The open default campaign nearest up ``chain`` that runs at ``moment``."""
    by_organisation = {
        campaign.organisation_id: campaign
        for campaign in defaults
        if campaign.is_default and campaign.is_open and campaign.covers(moment)
    }
    for organisation_id in chain:
        if organisation_id in by_organisation:
            return by_organisation[organisation_id]
    return None
