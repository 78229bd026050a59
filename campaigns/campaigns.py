"""Campaigns: an organisation's funded earning programme.

A campaign belongs to one organisation and covers activities at that node
and below, between ``starts_at`` and ``ends_at`` (open-ended for a standing
default campaign). Its points sit in ``campaign:<id>:budget``; funding and
closing are in ``campaigns.funding``, paying awards out and taking them back
in ``campaigns.budget``. Which campaign an activity earns from is decided in
``campaigns.applicability``; who may see and run campaigns in
``campaigns.policy``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from campaigns import policy
from campaigns.accounts import budget_code, campaign_ref, open_budget
from campaigns.applicability import check_applicable, nearest_default
from campaigns.errors import CampaignNotFound, DefaultCampaignExists, InvalidCampaignData, NoIssuer
from campaigns.models import CampaignPage, CampaignRecord, CampaignStatus, CampaignWithBudget
from campaigns.rules import EarningRules, parse_rules
from campaigns.tables import Campaign
from community import audit
from community.access import Principal
from community.organisations import ancestor_ids, get_organisation, issuing_organisation_for
from core.cursors import decode_cursor, encode_cursor
from core.database import in_write_transaction, is_unique_violation, lock_row, lock_rows
from core.ids import MAX_ID
from ledger.accounts import get_balance

# A page of campaigns is at most this long: every item costs a budget read.
MAX_PAGE_SIZE = 100
_CURSOR_TAG = "campaigns"


async def _with_budget(campaign: CampaignRecord) -> CampaignWithBudget:
    return CampaignWithBudget.of(campaign, (await get_balance(budget_code(campaign.id))).balance)


async def _find_record(campaign_id: int) -> CampaignRecord | None:
    rows = await Campaign.select().where(Campaign.id == campaign_id).run()
    return CampaignRecord.from_row(rows[0]) if rows else None


async def find_campaign(campaign_id: int) -> CampaignWithBudget | None:
    campaign = await _find_record(campaign_id)
    return await _with_budget(campaign) if campaign is not None else None


async def get_campaign(campaign_id: int) -> CampaignWithBudget:
    campaign = await find_campaign(campaign_id)
    if campaign is None:
        raise CampaignNotFound(f"campaign {campaign_id} does not exist", field="campaign_id")
    return campaign


async def find_locked_campaign(campaign_id: int) -> CampaignRecord | None:
    """The campaign row, locked until the transaction ends (None: there is
    none). Closing, funding, awarding and taking back lock it first, so they
    take turns over one campaign. Call inside ``in_write_transaction``."""
    row = await lock_row(Campaign, campaign_id)
    return CampaignRecord.from_row(row) if row is not None else None


async def locked_campaign(campaign_id: int) -> CampaignRecord:
    """``find_locked_campaign``, or ``CampaignNotFound``."""
    campaign = await find_locked_campaign(campaign_id)
    if campaign is None:
        raise CampaignNotFound(f"campaign {campaign_id} does not exist", field="campaign_id")
    return campaign


async def visible_campaign(principal: Principal, campaign_id: int) -> CampaignWithBudget:
    """The campaign if the principal may see it (``campaigns/policy.py``);
    ``CampaignNotFound`` otherwise."""
    return await policy.check_campaign_visible(principal, campaign_id, await find_campaign(campaign_id))


async def managed_campaign(principal: Principal, campaign_id: int) -> CampaignWithBudget:
    """The campaign if the principal manages its organisation; ``CampaignNotFound`` otherwise."""
    return await policy.check_campaign_managed(principal, campaign_id, await find_campaign(campaign_id))


@dataclass(frozen=True, slots=True)
class _Draft:
    organisation_id: int
    title_zh: str
    title_en: str
    description_zh: str
    starts_at: datetime
    ends_at: datetime | None
    is_default: bool
    rules: EarningRules


def _check_draft(draft: _Draft) -> None:
    if not 1 <= len(draft.title_zh) <= 200:
        raise InvalidCampaignData("a campaign needs a Chinese title of 1-200 characters", field="title_zh")
    if draft.starts_at.tzinfo is None or (draft.ends_at is not None and draft.ends_at.tzinfo is None):
        raise InvalidCampaignData("times need a time zone", field="starts_at")
    if draft.ends_at is not None and draft.ends_at <= draft.starts_at:
        raise InvalidCampaignData("a campaign must end after it starts", field="ends_at")


def _default_exists() -> DefaultCampaignExists:
    return DefaultCampaignExists(
        "this organisation already has an open default campaign; close it first", field="is_default"
    )


async def _insert_campaign(principal: Principal, draft: _Draft) -> int:
    await policy.check_campaign_create(principal, draft.organisation_id)
    if (
        draft.is_default
        and await Campaign.exists()
        .where(
            (Campaign.organisation == draft.organisation_id)
            & (Campaign.is_default == True)  # noqa: E712
            & (Campaign.status == CampaignStatus.OPEN.value)
        )
        .run()
    ):
        raise _default_exists()
    inserted = await Campaign.insert(
        Campaign(
            organisation=draft.organisation_id,
            title_zh=draft.title_zh,
            title_en=draft.title_en,
            description_zh=draft.description_zh,
            starts_at=draft.starts_at,
            ends_at=draft.ends_at,
            is_default=draft.is_default,
            status=CampaignStatus.OPEN.value,
            rules=json.dumps(draft.rules.to_json(), sort_keys=True),
            created_by=principal.member_id,
        )
    ).run()
    campaign_id = int(inserted[0]["id"])
    await open_budget(campaign_id, draft.organisation_id)
    await audit.record(principal.ref, "campaign.create", campaign_ref(campaign_id), title=draft.title_zh)
    return campaign_id


async def create_campaign(
    principal: Principal,
    *,
    organisation_id: int,
    title_zh: str,
    starts_at: datetime,
    rules: EarningRules | dict[str, Any],
    title_en: str = "",
    description_zh: str = "",
    ends_at: datetime | None = None,
    is_default: bool = False,
) -> CampaignWithBudget:
    """Create an open campaign with an empty budget (fund it next), with its
    audit record in the same transaction.

    Preconditions: the principal manages ``organisation_id`` (``AccessRefused``
    before anything else is looked at); a Chinese title; ``ends_at`` after
    ``starts_at``; an issuing organisation at or above ``organisation_id``
    (its issuance funds the budget); at most one open default campaign per
    organisation. ``rules`` as a caller sent them are checked after the
    principal is.
    """
    await policy.check_campaign_create(principal, organisation_id)
    draft = _Draft(
        organisation_id=organisation_id,
        title_zh=title_zh.strip(),
        title_en=title_en.strip(),
        description_zh=description_zh.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        is_default=is_default,
        rules=rules if isinstance(rules, EarningRules) else parse_rules(rules),
    )
    _check_draft(draft)
    await get_organisation(organisation_id)
    if await issuing_organisation_for(organisation_id) is None:
        raise NoIssuer("no organisation at or above this one issues points", field="organisation_id")
    try:
        campaign_id = await in_write_transaction(functools.partial(_insert_campaign, principal, draft))
    except Exception as error:
        if is_unique_violation(error):  # a concurrent default won the race
            raise _default_exists() from error
        raise
    return await get_campaign(campaign_id)


async def list_visible_campaigns(
    principal: Principal,
    *,
    organisation_id: int | None = None,
    status: CampaignStatus | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> CampaignPage:
    """The campaigns the principal may see, optionally of one organisation."""
    visible = await policy.visible_campaign_organisations(principal)
    if organisation_id is not None:
        visible &= {organisation_id}
    return await list_campaigns(organisation_ids=visible, status=status, cursor=cursor, limit=limit)


async def list_campaigns(
    *,
    organisation_ids: set[int],
    status: CampaignStatus | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> CampaignPage:
    """Campaigns of ``organisation_ids``, newest first, by keyset cursor
    (``core.cursors``; ``InvalidCursor`` for one this list did not hand out)."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    after_id = decode_cursor(_CURSOR_TAG, cursor, key_min=1, key_max=MAX_ID)[0] if cursor is not None else None
    if not organisation_ids:
        return CampaignPage(items=[], next_cursor=None)
    query = Campaign.select().where(Campaign.organisation.is_in(sorted(organisation_ids)))
    if status is not None:
        query = query.where(Campaign.status == status.value)
    if after_id is not None:
        query = query.where(Campaign.id < after_id)
    rows = await query.order_by(Campaign.id, ascending=False).limit(limit + 1).run()
    items = [await _with_budget(CampaignRecord.from_row(row)) for row in rows[:limit]]
    next_cursor = encode_cursor(_CURSOR_TAG, items[-1].id) if len(rows) > limit else None
    return CampaignPage(items=items, next_cursor=next_cursor)


async def applicable_campaign(
    campaign_id: int | None, *, organisation_id: int, moment: datetime, lock: bool = False
) -> CampaignRecord | None:
    """The campaign an activity at ``organisation_id`` and ``moment`` earns
    from (the rules are ``campaigns.applicability``): the named one if it
    applies, else the nearest open default one, else None.

    ``lock``: inside a writing transaction, the campaign rows are read locked
    (the named one, or the open defaults up the tree), so the caller can pay
    from the returned campaign without reading it again.
    """
    chain = await ancestor_ids(organisation_id)
    if campaign_id is not None:
        campaign = await find_locked_campaign(campaign_id) if lock else await _find_record(campaign_id)
        if campaign is None:
            raise CampaignNotFound(f"campaign {campaign_id} does not exist", field="campaign_id")
        check_applicable(campaign, chain, moment)
        return campaign
    query = (
        Campaign.select()
        .where(
            Campaign.organisation.is_in(chain)
            & (Campaign.is_default == True)  # noqa: E712
            & (Campaign.status == CampaignStatus.OPEN.value)
        )
        .order_by(Campaign.id)
    )
    rows = await lock_rows(query) if lock else await query.run()
    return nearest_default((CampaignRecord.from_row(row) for row in rows), chain, moment)
