"""The tables the operator console (``admin/console.py``) shows, all read-only.

Every table is shown through a ``TableConfig`` whose ``Validators`` refuse
POST, PUT, PATCH and DELETE (``refuse_writes``), so piccolo_admin's CRUD
API answers 405 to any write, whatever the UI offers:

- **Ledger** (accounts, entries, postings, holds, chain blocks) and the
  **audit trail**: never written by hand. Balances change only through the
  ledger's posting path; a correction is a reversal.
- **Reference tables** (organisations, teams, shops, catalog items) are
  read-only here too, decided table by table: an organisation carries its
  materialised path and issuing flag (``community/organisations.py``);
  a team's members and leader, a shop's staff (which grant roles) and an
  item's price, stock and shops are all checked and audited by their
  services (``community/teams.py``, ``marketplace/shops.py``,
  ``marketplace/catalog.py``). A raw edit would skip the policy and the
  audit row, so every change an operator may make is a form calling the
  service (``admin/console_forms.py``).

Columns that hold secrets never leave: piccolo_admin's API returns every
column of a table whatever the UI lists, so members are shown through
``ConsoleMember``, a second Piccolo class over ``community_member`` without
the password hash (registered in no app, so migrations never see it).
Invitations (SHA-256 of an 8-character code, guessable offline) and signing
keys (sealed private keys) are not shown at all. Chain blocks are shown the
same way, without their binary columns (``ConsoleChainBlock``).
"""

from __future__ import annotations

from piccolo.columns import BigInt, BigSerial, Boolean, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table
from piccolo_admin.endpoints import TableConfig
from piccolo_api.crud.endpoints import PiccoloCRUD
from piccolo_api.crud.validators import Validators
from starlette.exceptions import HTTPException
from starlette.requests import Request

from activities.tables import Activity
from campaigns.tables import Campaign
from community.tables import AdjustmentRequest, AuditEvent, Organisation, RoleGrant, Team, TeamMember
from fraud.tables import FraudCase
from leaderboards.tables import Season, SeasonStanding
from ledger.tables import LedgerAccount, LedgerEntry, LedgerHold, LedgerPosting
from marketplace.tables import (
    CatalogItem,
    CatalogItemShop,
    PickupConflict,
    RedemptionOrder,
    SettlementStatement,
    Shop,
    ShopStaff,
)
from recognition.tables import BadgeAward, StarThreshold

READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def refuse_writes(piccolo_crud: PiccoloCRUD, request: Request) -> None:
    """Every table's validator: reading only. A write is a 405 naming the
    way to do it instead."""
    if request.method.upper() not in READING_METHODS:
        raise HTTPException(
            status_code=405,
            detail="只读：请使用操作表单 · Read-only: use the operator forms, which call the domain services",
        )


class ConsoleMember(Table, tablename="community_member"):
    """``community_member`` as the console shows it: no password hash.
    Read-only like every console table; never registered in a Piccolo app."""

    id = Serial(primary_key=True)
    name = Varchar(length=100)
    phone = Varchar(length=20)
    home_organisation = ForeignKey(Organisation, null=False)
    preferred_language = Varchar(length=8, default="zh")
    elder_mode = Boolean(default=False)
    active = Boolean(default=True)
    session_version = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    ranking_visibility = Varchar(length=12, default="masked")


class ConsoleChainBlock(Table, tablename="ledger_chain_block"):
    """``ledger_chain_block`` without its packed binary columns (entry ids
    and link prefixes), which JSON cannot carry; ``fengling ledger verify``
    checks them."""

    id = BigSerial(primary_key=True)
    head_seq = BigInt()
    head = Varchar(length=64)
    sealed_through = BigInt()
    sealed_at = Timestamptz(default=TimestamptzNow())


LEDGER_TABLES: tuple[type[Table], ...] = (LedgerAccount, LedgerEntry, LedgerPosting, LedgerHold, ConsoleChainBlock)

MENU: dict[str, tuple[type[Table], ...]] = {
    "账本 Ledger": LEDGER_TABLES,
    "审计 Audit": (AuditEvent, AdjustmentRequest),
    "社区 Community": (Organisation, ConsoleMember, RoleGrant, Team, TeamMember),
    "活动 Campaigns & activities": (Campaign, Activity, FraudCase),
    "积分超市 Marketplace": (
        Shop,
        ShopStaff,
        CatalogItem,
        CatalogItemShop,
        RedemptionOrder,
        SettlementStatement,
        PickupConflict,
    ),
    "荣誉 Recognition": (Season, SeasonStanding, StarThreshold, BadgeAward),
}


def console_tables() -> list[TableConfig]:
    """One read-only ``TableConfig`` per shown table, grouped in the menu."""
    return [
        TableConfig(table, validators=Validators(every=[refuse_writes]), menu_group=group)
        for group, tables in MENU.items()
        for table in tables
    ]
