"""Campaigns: an organisation's funded earning programme.

A campaign belongs to one organisation and covers activities at that node
and below, between ``starts_at`` and ``ends_at`` (open-ended for a standing
default campaign). Its points sit in ``campaign:<id>:budget``; funding and
closing are in ``campaigns.funding``.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError

from campaigns import policy
from campaigns.accounts import budget_code, campaign_ref, open_budget
from campaigns.errors import (
    CampaignClosed,
    CampaignNotApplicable,
    CampaignNotFound,
    DefaultCampaignExists,
    InvalidCampaignData,
    NoIssuer,
)
from campaigns.rules import EarningRules
from campaigns.tables import Campaign
from community import audit
from community.access import Principal
from community.organisations import ancestor_ids, get_organisation, issuing_organisation_for
from core.database import in_write_transaction, is_sqlite, is_unique_violation
from ledger.accounts import get_balance

OPEN = "open"
CLOSED = "closed"
MAX_PAGE_SIZE = 100


class CampaignOut(BaseModel):
    id: int
    organisation_id: int
    title_zh: str
    title_en: str
    description_zh: str
    starts_at: datetime
    ends_at: datetime | None
    is_default: bool
    status: str
    rules: EarningRules
    budget_account: str
    budget: Decimal
    created_by: int | None
    created_at: datetime
    closed_at: datetime | None
    closed_by: int | None


class CampaignPage(BaseModel):
    items: list[CampaignOut]
    next_cursor: str | None


def parse_rules(raw: Any) -> EarningRules:
    """Rules from the database (JSON text or dict) or from a caller."""
    data = json.loads(raw) if isinstance(raw, str) else raw
    try:
        return EarningRules.model_validate(data or {})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidCampaignData(f"rules.{where}: {first['msg']}", field="rules") from error


async def _out(row: dict[str, Any]) -> CampaignOut:
    budget = await get_balance(budget_code(row["id"]))
    return CampaignOut(
        id=row["id"],
        organisation_id=row["organisation"],
        title_zh=row["title_zh"],
        title_en=row["title_en"],
        description_zh=row["description_zh"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        is_default=bool(row["is_default"]),
        status=row["status"],
        rules=parse_rules(row["rules"]),
        budget_account=budget.code,
        budget=budget.balance,
        created_by=row["created_by"],
        created_at=row["created_at"],
        closed_at=row["closed_at"],
        closed_by=row["closed_by"],
    )


async def get_campaign(campaign_id: int) -> CampaignOut:
    rows = await Campaign.select().where(Campaign.id == campaign_id).run()
    if not rows:
        raise CampaignNotFound(f"campaign {campaign_id} does not exist", field="campaign_id")
    return await _out(rows[0])


async def lock_campaign(campaign_id: int) -> dict[str, Any]:
    """The campaign row, locked on PostgreSQL: closing and awarding take turns."""
    query = Campaign.select().where(Campaign.id == campaign_id)
    if not is_sqlite():
        query = query.lock_rows()
    rows = await query.run()
    if not rows:
        raise CampaignNotFound(f"campaign {campaign_id} does not exist", field="campaign_id")
    return dict(rows[0])


async def find_campaign(campaign_id: int) -> CampaignOut | None:
    try:
        return await get_campaign(campaign_id)
    except CampaignNotFound:
        return None


async def visible_campaign(principal: Principal, campaign_id: int) -> CampaignOut:
    """The campaign if the principal may see it (``campaigns/policy.py``);
    ``CampaignNotFound`` otherwise."""
    return await policy.check_campaign_visible(principal, campaign_id, await find_campaign(campaign_id))


async def managed_campaign(principal: Principal, campaign_id: int) -> CampaignOut:
    """The campaign if the principal manages its organisation; ``CampaignNotFound`` otherwise."""
    return await policy.check_campaign_managed(principal, campaign_id, await find_campaign(campaign_id))


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
) -> CampaignOut:
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
    checked_rules = rules if isinstance(rules, EarningRules) else parse_rules(rules)
    title_zh = title_zh.strip()
    if not 1 <= len(title_zh) <= 200:
        raise InvalidCampaignData("a campaign needs a Chinese title of 1-200 characters", field="title_zh")
    if starts_at.tzinfo is None or (ends_at is not None and ends_at.tzinfo is None):
        raise InvalidCampaignData("times need a time zone", field="starts_at")
    if ends_at is not None and ends_at <= starts_at:
        raise InvalidCampaignData("a campaign must end after it starts", field="ends_at")
    await get_organisation(organisation_id)
    if await issuing_organisation_for(organisation_id) is None:
        raise NoIssuer("no organisation at or above this one issues points", field="organisation_id")

    async def work() -> int:
        await policy.check_campaign_create(principal, organisation_id)
        if (
            is_default
            and await Campaign.exists()
            .where(
                (Campaign.organisation == organisation_id) & (Campaign.is_default == True) & (Campaign.status == OPEN)  # noqa: E712
            )
            .run()
        ):
            raise DefaultCampaignExists(
                "this organisation already has an open default campaign; close it first", field="is_default"
            )
        inserted = await Campaign.insert(
            Campaign(
                organisation=organisation_id,
                title_zh=title_zh,
                title_en=title_en.strip(),
                description_zh=description_zh.strip(),
                starts_at=starts_at,
                ends_at=ends_at,
                is_default=is_default,
                status=OPEN,
                rules=json.dumps(checked_rules.to_json(), sort_keys=True),
                created_by=principal.member_id,
            )
        ).run()
        campaign_id = int(inserted[0]["id"])
        await open_budget(campaign_id, organisation_id)
        await audit.record(principal.ref, "campaign.create", campaign_ref(campaign_id), title=title_zh)
        return campaign_id

    try:
        campaign_id = await in_write_transaction(work)
    except Exception as error:
        if is_unique_violation(error):  # a concurrent default won the race
            raise DefaultCampaignExists(
                "this organisation already has an open default campaign; close it first", field="is_default"
            ) from error
        raise
    return await get_campaign(campaign_id)


def _encode_cursor(campaign_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps(["c", campaign_id]).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        tag, last_id = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
        if tag != "c" or not isinstance(last_id, int) or not 0 < last_id < 2**31:
            raise ValueError(cursor)
        return last_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidCampaignData("cursor is not one this listing returned", field="cursor") from error


async def list_visible_campaigns(
    principal: Principal,
    *,
    organisation_id: int | None = None,
    status: str | None = None,
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
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> CampaignPage:
    """Campaigns of ``organisation_ids``, newest first, by keyset cursor."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    if not organisation_ids:
        return CampaignPage(items=[], next_cursor=None)
    query = Campaign.select().where(Campaign.organisation.is_in(sorted(organisation_ids)))
    if status is not None:
        query = query.where(Campaign.status == status)
    if cursor is not None:
        query = query.where(Campaign.id < _decode_cursor(cursor))
    rows = await query.order_by(Campaign.id, ascending=False).limit(limit + 1).run()
    items = [await _out(row) for row in rows[:limit]]
    next_cursor = _encode_cursor(rows[limit - 1]["id"]) if len(rows) > limit else None
    return CampaignPage(items=items, next_cursor=next_cursor)


def _covers(row: dict[str, Any], moment: datetime) -> bool:
    return bool(row["starts_at"] <= moment and (row["ends_at"] is None or moment < row["ends_at"]))


async def applicable_campaign(campaign_id: int | None, *, organisation_id: int, moment: datetime) -> int | None:
    """The campaign an activity at ``organisation_id`` and ``moment`` earns from.

    A named campaign must be open, belong to this organisation or one above
    it, and cover the moment. Without a name: the open default campaign of
    the nearest organisation at or above, if one covers the moment; None if
    there is none (the activity can still be verified, it earns nothing).
    """
    chain = await ancestor_ids(organisation_id)
    if campaign_id is not None:
        rows = await Campaign.select().where(Campaign.id == campaign_id).run()
        if not rows:
            raise CampaignNotFound(f"campaign {campaign_id} does not exist", field="campaign_id")
        row = rows[0]
        if row["status"] != OPEN:
            raise CampaignClosed(f"campaign {campaign_id} is closed", field="campaign_id")
        if row["organisation"] not in chain:
            raise CampaignNotApplicable(f"campaign {campaign_id} does not cover this organisation", field="campaign_id")
        if not _covers(row, moment):
            raise CampaignNotApplicable(
                f"campaign {campaign_id} does not run at {moment.isoformat()}", field="campaign_id"
            )
        return campaign_id
    defaults = (
        await Campaign.select()
        .where(Campaign.organisation.is_in(chain) & (Campaign.is_default == True) & (Campaign.status == OPEN))  # noqa: E712
        .run()
    )
    by_organisation = {row["organisation"]: row for row in defaults if _covers(row, moment)}
    for candidate in chain:
        if candidate in by_organisation:
            return int(by_organisation[candidate]["id"])
    return None
