"""Request and response models, one per direction, never derived from tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from api.points import Points
from community.models import AdjustmentStatus, MemberRecord
from fraud.pending import PendingReview, awards_pending
from ledger.account_view import (
    ACCOUNT_TYPE_COLUMN,
    BALANCE_MINOR_COLUMN,
    CODE_COLUMN,
    HELD_MINOR_COLUMN,
    HOLD_AMOUNT_MINOR_COLUMN,
    HOLD_CREATED_AT_COLUMN,
    HOLD_EXPIRES_AT_COLUMN,
    HOLD_ID_COLUMN,
    HOLD_REASON_EN_COLUMN,
    HOLD_REASON_ZH_COLUMN,
    NAME_EN_COLUMN,
    NAME_ZH_COLUMN,
)
from ledger.amounts import minor_text
from ledger.models import AccountView, HoldStatus


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


class FromRecord(BaseModel):
    """A reply built straight from a domain record's attributes
    (``Model.model_validate(record)``): one builder, no field-by-field
    mapper. Amounts still leave as ``Points`` strings."""

    model_config = ConfigDict(from_attributes=True)


class HoldOut(FromRecord):
    id: int
    amount: Points
    status: HoldStatus
    reason_zh: str
    reason_en: str
    created_at: datetime
    expires_at: datetime


class BalanceOut(FromRecord):
    # The ledger calls it ``code``; on the wire it has always been ``account_code``.
    account_code: str = Field(validation_alias=AliasChoices("account_code", "code"))
    name_zh: str
    name_en: str
    account_type: str
    balance: Points
    held: Points
    available: Points
    as_of: datetime | None = None
    balance_as_of: Points | None = None


class PendingReviewOut(FromRecord):
    """Points held for review (待审核): an award not yet paid, or a
    redemption waiting (its points already in ``held``)."""

    case_id: int
    subject: str = Field(description="activity: an award not yet in the balance; order: a redemption on hold")
    subject_id: int
    points: Points
    reason_zh: str
    reason_en: str
    deciders_zh: str
    deciders_en: str
    due_at: datetime
    objection: str
    objection_path: str = Field(description="POST a note here to object (objectToFraudCase)")


class WalletOut(BalanceOut):
    """The caller's wallet. Only members who can earn (volunteers and the
    grid's posts) have one; anyone else gets zeros and ``has_wallet: false``,
    and no account is opened for them. ``pending_review_points``: awards
    under review, in no balance yet; ``pending_review``: every open review
    of the caller's awards and orders, with why, who decides and by when."""

    has_wallet: bool = Field(description="false: the caller cannot earn points and has no wallet")
    active_holds: list[HoldOut]
    pending_review_points: Points = Decimal("0.00")
    pending_review: list[PendingReviewOut] = []


def _pending_json(review: PendingReview) -> dict[str, Any]:
    return {
        "case_id": review.case_id,
        "subject": review.subject.value,
        "subject_id": review.subject_id,
        "points": str(review.points),
        "reason_zh": review.reason_zh,
        "reason_en": review.reason_en,
        "deciders_zh": review.deciders_zh,
        "deciders_en": review.deciders_en,
        "due_at": review.due_at,
        "objection": review.objection,
        "objection_path": review.objection_path,
    }


# ``pending_review_points`` of a member with no open case (nearly every one).
NOTHING_PENDING = "0.00"


def wallet_json(view: AccountView, pending: Sequence[PendingReview] = ()) -> dict[str, Any]:
    """The caller's wallet as ``WalletOut`` sends it, built without pydantic.

    ``GET /api/v1/me/wallet`` is the busiest read (``bench/RESULTS.md``):
    validating and dumping ``WalletOut`` and a ``HoldOut`` per hold cost
    ~50 µs of its CPU, for values that are already checked records (amounts
    are the minor units as read, sent through ``ledger.amounts.minor_text``,
    the same text as a 2-place ``Decimal``'s ``str``). ``WalletOut`` stays the route's declared schema;
    ``tests/unit/test_wallet_json.py`` proves this dict dumps to the same
    JSON as the model for the same view."""
    return {
        "account_code": view.code,
        "name_zh": view.name_zh,
        "name_en": view.name_en,
        "account_type": view.account_type.value,
        "balance": minor_text(view.balance_minor),
        "held": minor_text(view.held_minor),
        "available": minor_text(view.available_minor),
        "as_of": None,
        "balance_as_of": None,
        "has_wallet": True,
        "active_holds": [
            {
                "id": hold.id,
                "amount": minor_text(hold.amount_minor),
                "status": hold.status.value,
                "reason_zh": hold.reason_zh,
                "reason_en": hold.reason_en,
                "created_at": hold.created_at,
                "expires_at": hold.expires_at,
            }
            for hold in view.holds
        ],
        "pending_review_points": str(awards_pending(list(pending))) if pending else NOTHING_PENDING,
        "pending_review": [_pending_json(review) for review in pending],
    }


# Every hold the wallet's statement lists is active (it reads the partial
# index of active holds only).
_ACTIVE = HoldStatus.ACTIVE.value


def wallet_json_from_rows(rows: Sequence[Any], pending: Sequence[PendingReview] = ()) -> dict[str, Any]:
    """``wallet_json`` of the wallet statement's rows (non-empty:
    ``ledger.account_view.account_view_statement``), taken by position
    without building the ``AccountView`` and its ``HoldLine``s first: on
    the busiest read those objects cost ~14 % of the request's
    instructions, only to be read back out here (``bench/RESULTS.md``,
    session 11). The same dict as ``wallet_json(account_view_from_rows(rows))``:
    ``tests/unit/test_wallet_json.py`` and, on each engine's own rows,
    ``tests/integration/ledger/test_account_view.py``."""
    first = rows[0]
    balance_minor = first[BALANCE_MINOR_COLUMN]
    held_minor = first[HELD_MINOR_COLUMN]
    return {
        "account_code": first[CODE_COLUMN],
        "name_zh": first[NAME_ZH_COLUMN],
        "name_en": first[NAME_EN_COLUMN],
        "account_type": first[ACCOUNT_TYPE_COLUMN],
        "balance": minor_text(balance_minor),
        "held": minor_text(held_minor),
        "available": minor_text(balance_minor - held_minor),
        "as_of": None,
        "balance_as_of": None,
        "has_wallet": True,
        "active_holds": [
            {
                "id": row[HOLD_ID_COLUMN],
                "amount": minor_text(row[HOLD_AMOUNT_MINOR_COLUMN]),
                "status": _ACTIVE,
                "reason_zh": row[HOLD_REASON_ZH_COLUMN],
                "reason_en": row[HOLD_REASON_EN_COLUMN],
                "created_at": row[HOLD_CREATED_AT_COLUMN],
                "expires_at": row[HOLD_EXPIRES_AT_COLUMN],
            }
            for row in rows
        ]
        if first[HOLD_ID_COLUMN] is not None
        else [],
        "pending_review_points": str(awards_pending(list(pending))) if pending else NOTHING_PENDING,
        "pending_review": [_pending_json(review) for review in pending],
    }


def wallet_out(view: AccountView, pending: Sequence[PendingReview] = ()) -> WalletOut:
    """``WalletOut`` of a view: what ``wallet_json`` must dump the same as."""
    return WalletOut(
        account_code=view.code,
        name_zh=view.name_zh,
        name_en=view.name_en,
        account_type=view.account_type.value,
        balance=view.balance,
        held=view.held,
        available=view.available,
        has_wallet=True,
        active_holds=[HoldOut.model_validate(hold) for hold in view.holds],
        pending_review_points=awards_pending(list(pending)),
        pending_review=[PendingReviewOut.model_validate(review) for review in pending],
    )


class StatementLineOut(FromRecord):
    entry_id: int
    created_at: datetime
    kind: str
    reason_zh: str
    reason_en: str
    amount: Points
    balance_after: Points


class StatementOut(FromRecord):
    account_code: str
    lines: list[StatementLineOut]
    next_cursor: str | None = Field(description="pass as cursor for the next page; null on the last")


class PostingOut(FromRecord):
    account_code: str
    amount: Points
    balance_after: Points


class EntryOut(FromRecord):
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


class AdjustmentIn(BaseModel):
    """A manual transfer between two accounts the organiser manages."""

    debit_account: str = Field(min_length=1, max_length=120, examples=["org:1:issuance"])
    credit_account: str = Field(min_length=1, max_length=120, examples=["volunteer:2:wallet"])
    amount: Points
    reason_zh: str = Field(min_length=1, max_length=300, examples=["补录三月巡逻积分"])
    reason_en: str = Field(default="", max_length=300)
    memo: str = Field(default="", max_length=1000)


class AdjustmentRequestOut(FromRecord):
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


class AdjustmentPageOut(BaseModel):
    requests: list[AdjustmentRequestOut]
    next_cursor: str | None = Field(description="pass as cursor for the next page; null on the last")


class AdjustmentRejectIn(BaseModel):
    reason_zh: str = Field(min_length=1, max_length=300, examples=["依据不足，请补充材料"])
    reason_en: str = Field(default="", max_length=300)


class ReversalIn(BaseModel):
    reason_zh: str = Field(min_length=1, max_length=300, examples=["重复发放，予以冲正"])
    reason_en: str = Field(default="", max_length=300)
