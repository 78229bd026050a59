"""Request and response models, one per direction, never derived from tables."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.points import Points
from community.models import AdjustmentPage, AdjustmentRequestRecord, AdjustmentStatus, MemberRecord
from ledger.models import AccountBalance, EntryRecord, HoldRecord, StatementPage


class GrantOut(BaseModel):
    organisation_id: int
    role: str


class MeOut(BaseModel):
    id: int
    name: str
    phone: str
    home_organisation_id: int
    preferred_language: str
    roles: list[GrantOut]


def me_out(member: MemberRecord) -> MeOut:
    return MeOut(
        id=member.id,
        name=member.name,
        phone=member.phone,
        home_organisation_id=member.home_organisation_id,
        preferred_language=member.preferred_language,
        roles=[GrantOut(organisation_id=g.organisation_id, role=g.role.value) for g in member.grants],
    )


class HoldOut(BaseModel):
    id: int
    amount: Points
    status: str
    reason_zh: str
    reason_en: str
    created_at: datetime
    expires_at: datetime


def hold_out(hold: HoldRecord) -> HoldOut:
    return HoldOut(
        id=hold.id,
        amount=hold.amount,
        status=hold.status,
        reason_zh=hold.reason_zh,
        reason_en=hold.reason_en,
        created_at=hold.created_at,
        expires_at=hold.expires_at,
    )


class BalanceOut(BaseModel):
    account_code: str
    name_zh: str
    name_en: str
    account_type: str
    balance: Points
    held: Points
    available: Points
    as_of: datetime | None = None
    balance_as_of: Points | None = None


def balance_out(account: AccountBalance) -> BalanceOut:
    return BalanceOut(
        account_code=account.code,
        name_zh=account.name_zh,
        name_en=account.name_en,
        account_type=account.account_type,
        balance=account.balance,
        held=account.held,
        available=account.available,
    )


class WalletOut(BalanceOut):
    """The caller's wallet. Only members who can earn (volunteers and the
    grid's posts) have one; anyone else gets zeros and ``has_wallet: false``,
    and no account is opened for them."""

    has_wallet: bool = Field(description="false: the caller cannot earn points and has no wallet")
    active_holds: list[HoldOut]


class StatementLineOut(BaseModel):
    entry_id: int
    created_at: datetime
    kind: str
    reason_zh: str
    reason_en: str
    amount: Points
    balance_after: Points


class StatementOut(BaseModel):
    account_code: str
    lines: list[StatementLineOut]
    next_cursor: str | None


def statement_out(page: StatementPage) -> StatementOut:
    return StatementOut(
        account_code=page.account_code,
        lines=[
            StatementLineOut(
                entry_id=line.entry_id,
                created_at=line.created_at,
                kind=line.kind,
                reason_zh=line.reason_zh,
                reason_en=line.reason_en,
                amount=line.amount,
                balance_after=line.balance_after,
            )
            for line in page.lines
        ],
        next_cursor=page.next_cursor,
    )


class PostingOut(BaseModel):
    account_code: str
    amount: Points
    balance_after: Points


class EntryOut(BaseModel):
    id: int
    kind: str
    reason_zh: str
    reason_en: str
    memo: str
    actor_ref: str
    cause_ref: str
    reverses_id: int | None
    created_at: datetime
    postings: list[PostingOut]


def entry_out(entry: EntryRecord) -> EntryOut:
    return EntryOut(
        id=entry.id,
        kind=entry.kind,
        reason_zh=entry.reason_zh,
        reason_en=entry.reason_en,
        memo=entry.memo,
        actor_ref=entry.actor_ref,
        cause_ref=entry.cause_ref,
        reverses_id=entry.reverses_id,
        created_at=entry.created_at,
        postings=[
            PostingOut(account_code=p.account_code, amount=p.amount, balance_after=p.balance_after)
            for p in entry.postings
        ],
    )


class AdjustmentIn(BaseModel):
    """A manual transfer between two accounts the organiser manages."""

    debit_account: str = Field(min_length=1, max_length=120, examples=["org:1:issuance"])
    credit_account: str = Field(min_length=1, max_length=120, examples=["volunteer:2:wallet"])
    amount: Points
    reason_zh: str = Field(min_length=1, max_length=300, examples=["补录三月巡逻积分"])
    reason_en: str = Field(default="", max_length=300)
    memo: str = Field(default="", max_length=1000)


class AdjustmentRequestOut(BaseModel):
    """An adjustment above the four-eyes threshold. While ``pending`` its
    points are held on the debit account (``hold_id``); ``approved`` names the
    posted entry (``entry_id``); ``rejected`` and ``expired`` released them."""

    id: int
    status: AdjustmentStatus
    requested_by: int
    debit_account: str
    credit_account: str
    amount: Points
    reason_zh: str
    reason_en: str
    memo: str
    hold_id: int | None
    entry_id: int | None
    created_at: datetime
    expires_at: datetime
    decided_by: int | None
    decided_at: datetime | None
    decision_reason: str


def adjustment_request_out(request: AdjustmentRequestRecord) -> AdjustmentRequestOut:
    return AdjustmentRequestOut.model_validate(request, from_attributes=True)


class AdjustmentPageOut(BaseModel):
    requests: list[AdjustmentRequestOut]
    next_cursor: int | None = Field(description="pass as cursor for the next page; null on the last")


def adjustment_page_out(page: AdjustmentPage) -> AdjustmentPageOut:
    return AdjustmentPageOut(
        requests=[adjustment_request_out(request) for request in page.requests], next_cursor=page.next_cursor
    )


class AdjustmentRejectIn(BaseModel):
    reason_zh: str = Field(min_length=1, max_length=300, examples=["依据不足，请补充材料"])
    reason_en: str = Field(default="", max_length=300)


class ReversalIn(BaseModel):
    reason_zh: str = Field(min_length=1, max_length=300, examples=["重复发放，予以冲正"])
    reason_en: str = Field(default="", max_length=300)


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]
    redis: Literal["ok", "unavailable"]
