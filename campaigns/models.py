"""Campaign records and statuses: what the campaign services take and return.

A campaign row becomes a ``CampaignRecord`` in one place,
``CampaignRecord.from_row``; nothing else reads a campaign row's columns.
The services that answer a caller add the budget's balance, read from the
ledger (``CampaignWithBudget``); the verify path, which only needs the row,
never pays for that read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from campaigns.accounts import budget_code
from campaigns.rules import EarningRules, parse_rules


class CampaignStatus(StrEnum):
    """open → closed, once (``campaigns.funding.close_campaign``); a closed
    campaign takes no more fundings or awards."""

    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class CampaignRecord:
    """One row of ``campaigns_campaign``."""

    id: int
    organisation_id: int
    title_zh: str
    title_en: str
    description_zh: str
    starts_at: datetime
    # None: open-ended (a standing default campaign).
    ends_at: datetime | None
    is_default: bool
    status: CampaignStatus
    rules: EarningRules
    created_by: int | None
    created_at: datetime
    closed_at: datetime | None
    closed_by: int | None

    @staticmethod
    def from_row(row: Mapping[str, Any]) -> CampaignRecord:
        return CampaignRecord(
            id=int(row["id"]),
            organisation_id=int(row["organisation"]),
            title_zh=row["title_zh"],
            title_en=row["title_en"],
            description_zh=row["description_zh"],
            starts_at=row["starts_at"],
            ends_at=row["ends_at"],
            is_default=bool(row["is_default"]),
            status=CampaignStatus(row["status"]),
            rules=parse_rules(row["rules"]),
            created_by=row["created_by"],
            created_at=row["created_at"],
            closed_at=row["closed_at"],
            closed_by=row["closed_by"],
        )

    @property
    def budget_account(self) -> str:
        """The ledger account that holds the campaign's points."""
        return budget_code(self.id)

    @property
    def is_open(self) -> bool:
        return self.status is CampaignStatus.OPEN

    def covers(self, moment: datetime) -> bool:
        """Does the campaign run at ``moment`` (``[starts_at, ends_at)``)?"""
        return self.starts_at <= moment and (self.ends_at is None or moment < self.ends_at)


@dataclass(frozen=True, slots=True)
class CampaignWithBudget(CampaignRecord):
    """A campaign as its readers see it: the row and its budget's balance
    at the time of reading."""

    budget: Decimal

    @staticmethod
    def of(campaign: CampaignRecord, budget: Decimal) -> CampaignWithBudget:
        values = {field.name: getattr(campaign, field.name) for field in fields(CampaignRecord)}
        return CampaignWithBudget(**values, budget=budget)


@dataclass(frozen=True, slots=True)
class CampaignPage:
    items: list[CampaignWithBudget]
    next_cursor: str | None
