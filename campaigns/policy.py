"""Who may see and run campaigns. The services in ``campaigns/campaigns.py``
and ``campaigns/funding.py`` apply these checks inside their transactions
(on the campaign record they have loaded, locked where they change it),
and every read of a campaign (its figures included) goes through
``check_campaign_visible``, so every face answers alike.

- A member sees the campaigns of their home organisation and of every node
  above it (what they can earn from); managers also see those of the nodes
  they manage. Any other campaign does not exist for them (404, worded as
  for a missing one).
- Creating a campaign needs a manager of its organisation (403 otherwise).
- Funding and closing need a manager of the campaign's organisation; to
  anyone else the campaign is not found, as before.
- Funding also needs a manager of the *issuer* (the nearest organisation at
  or above the campaign's that issues points): a funding creates points out
  of that organisation's issuance, so it is that organisation's decision.
  A grid organiser runs the grid's campaigns, but the community that
  issues the points funds them (403 ``issuer_not_managed`` otherwise).
"""

from __future__ import annotations

from typing import TypeVar

from campaigns.errors import CampaignNotFound
from campaigns.models import CampaignRecord
from community.access import Principal, can_manage_organisation, managed_organisations
from community.errors import AccessRefused
from community.models import OrganisationRecord
from community.organisations import ancestor_ids

# The record checked is the record returned (a row, or a row with its budget).
CampaignT = TypeVar("CampaignT", bound=CampaignRecord)


def may_see_campaign(campaign_organisation_id: int, home_chain: list[int], managed: set[int]) -> bool:
    """The visibility rule above, as a pure decision."""
    return campaign_organisation_id in managed or campaign_organisation_id in home_chain


async def visible_campaign_organisations(principal: Principal) -> set[int]:
    """The organisations whose campaigns the principal may list."""
    return set(await ancestor_ids(principal.home_organisation_id)) | await managed_organisations(principal)


async def check_campaign_visible(principal: Principal, campaign_id: int, campaign: CampaignT | None) -> CampaignT:
    """The campaign (None: there is none) if the principal may see it;
    ``CampaignNotFound`` otherwise, worded alike either way."""
    if campaign is not None and may_see_campaign(
        campaign.organisation_id,
        await ancestor_ids(principal.home_organisation_id),
        await managed_organisations(principal),
    ):
        return campaign
    raise CampaignNotFound(f"no campaign {campaign_id} for you", field="campaign_id")


async def check_campaign_managed(principal: Principal, campaign_id: int, campaign: CampaignT | None) -> CampaignT:
    """The campaign if the principal manages its organisation;
    ``CampaignNotFound`` otherwise."""
    if campaign is not None and await can_manage_organisation(principal, campaign.organisation_id):
        return campaign
    raise CampaignNotFound(f"no campaign {campaign_id} for you", field="campaign_id")


async def check_campaign_create(principal: Principal, organisation_id: int) -> None:
    if not await can_manage_organisation(principal, organisation_id):
        raise AccessRefused("you do not manage this organisation", field="organisation_id")


async def check_issuer_managed(principal: Principal, issuer: OrganisationRecord) -> None:
    """Funding mints from ``issuer``'s issuance: only its managers may."""
    if not await can_manage_organisation(principal, issuer.id):
        raise AccessRefused(
            f"the points of this campaign come from the issuance of {issuer.name_zh}; "
            f"an organiser or admin of {issuer.name_zh} funds it",
            field="campaign_id",
            code="issuer_not_managed",
        )
