"""What a member is told about points pending review (待审核).

The wallet (``GET /api/v1/me/wallet``, the home and statement pages) lists
the member's open cases: the points, the plain-Chinese reason, who decides
and by when, and where to add an objection note. One indexed statement
(``fraud.sql.OPEN_CASES_OF_MEMBER``) on the wallet's hot read path.

An award under review is in no balance yet (it waits on the campaign's
budget); a redemption under review is already in the wallet's ``held``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from community.accounts import wallet_code, wallet_view_if_earner
from community.roles import Role
from core.fixed_sql import Dialect, Script, read
from fraud import sql
from fraud.models import Subject
from ledger.account_view import account_view_steps
from ledger.amounts import from_minor
from ledger.models import AccountView

DECIDERS_ZH = "本网格及上级的组织者（不含核实人和本人）"
DECIDERS_EN = "organisers of your grid or above (never the verifier nor you)"


@dataclass(frozen=True, slots=True)
class PendingReview:
    case_id: int
    subject: Subject
    subject_id: int
    points: Decimal
    reason_zh: str
    reason_en: str
    deciders_zh: str
    deciders_en: str
    due_at: datetime
    objection: str

    @property
    def objection_path(self) -> str:
        return f"/api/v1/fraud/cases/{self.case_id}/objection"


def plain_reason(subject: Subject, reason_zh: str, reason_en: str) -> tuple[str, str]:
    """The rules' reasons as the member reads them (pure)."""
    if subject is Subject.ORDER:
        return (
            f"系统提示：{reason_zh}。兑换暂缓，积分已冻结，待组织者审核后方可领取。",
            f"Flagged: {reason_en}. The order waits, its points held, for an organiser's review.",
        )
    return (
        f"系统提示：{reason_zh}。积分暂不入账，待组织者审核。",
        f"Flagged: {reason_en}. The points wait for an organiser's review.",
    )


def pending_from_row(row: Any) -> PendingReview:
    subject = Subject(row["subject"])
    reason_zh, reason_en = plain_reason(subject, row["reason_zh"], row["reason_en"])
    return PendingReview(
        case_id=int(row["id"]),
        subject=subject,
        subject_id=int(row["subject_id"]),
        points=from_minor(int(row["amount_minor"])),
        reason_zh=reason_zh,
        reason_en=reason_en,
        deciders_zh=DECIDERS_ZH,
        deciders_en=DECIDERS_EN,
        due_at=row["due_at"],
        objection=row["objection"],
    )


def pending_reviews_steps(member_id: int) -> Script[list[PendingReview]]:
    """``pending_reviews`` as a script step."""
    rows = yield sql.OPEN_CASES_OF_MEMBER(member_id)
    return [pending_from_row(row) for row in rows]


async def pending_reviews(member_id: int) -> list[PendingReview]:
    """The member's open cases, earliest deadline first (at most 50)."""
    return await read(lambda _: pending_reviews_steps(member_id))


async def wallet_with_pending_reviews(
    member_id: int, home_organisation_id: int, roles: Iterable[Role]
) -> tuple[AccountView | None, list[PendingReview]]:
    """The member's wallet view (``community.accounts.wallet_view_if_earner``:
    None if they cannot earn and never had one) and their open cases, read
    on one connection: one pool checkout (PostgreSQL) or one reader hop
    (SQLite) for both statements, where two reads took two (the wallet is
    the busiest read; a checkout costs ~40 µs of client CPU, bench/RESULTS.md).
    A wallet not opened yet is opened as ``wallet_view_if_earner`` does."""
    roles = tuple(roles)

    def both(_: Dialect) -> Script[tuple[AccountView | None, list[PendingReview]]]:
        view = yield from account_view_steps(wallet_code(member_id))
        pending = yield from pending_reviews_steps(member_id)
        return view, pending

    view, pending = await read(both)
    if view is None:
        view = await wallet_view_if_earner(member_id, home_organisation_id, roles)
    return view, pending


def awards_pending(reviews: list[PendingReview]) -> Decimal:
    """Points of awards under review: not yet in any balance (pure)."""
    return sum((review.points for review in reviews if review.subject is Subject.ACTIVITY), Decimal("0.00"))
