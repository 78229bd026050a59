"""What a member is told about points pending review (待审核).

The wallet (``GET /api/v1/me/wallet``, the home and statement pages) lists
the member's open cases: the points, the plain-Chinese reason, who decides
and by when, and where to add an objection note.

The wallet is the busiest read, and almost every member has no open case.
So the wallet's own statement asks, in the same round trip, whether the
member has one (``fraud.sql.HAS_OPEN_CASE``: a probe of the partial index
``fraud_case_open_member``, which holds open cases only), and the cases
themselves are read (``fraud.sql.OPEN_CASES_OF_MEMBER``, the same index)
only when there is one. A second statement on every read cost ~50 µs of
the app's CPU and ~25 µs of the database's per request (``bench/RESULTS.md``).

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
from core.fixed_sql import Row, Script, read
from fraud import sql
from fraud.models import Subject
from ledger.account_view import MAX_VIEWED_HOLDS, account_view_from_rows, account_view_statement
from ledger.amounts import from_minor
from ledger.models import AccountView

# The wallet's statement (``ledger.account_view``) with the open-case flag
# on each row (``$3``: the member).
_WALLET_AND_OPEN_CASE_FLAG = account_view_statement(", " + sql.HAS_OPEN_CASE + " AS has_open_case")

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


def wallet_rows_with_pending_reviews_steps(member_id: int) -> Script[tuple[list[Row], list[PendingReview]]]:
    """The member's wallet as the statement's rows
    (``ledger.account_view.account_view_statement``; none: no wallet) and
    their open cases: one statement when the wallet exists and the member
    has no open case (nearly always), the cases' statement after it when
    they have one, or when there is no wallet to carry the flag."""
    rows = yield _WALLET_AND_OPEN_CASE_FLAG(wallet_code(member_id), MAX_VIEWED_HOLDS, member_id)
    if rows and not rows[0]["has_open_case"]:
        return rows, []
    pending = yield from pending_reviews_steps(member_id)
    return rows, pending


def wallet_with_pending_reviews_steps(member_id: int) -> Script[tuple[AccountView | None, list[PendingReview]]]:
    """``wallet_rows_with_pending_reviews_steps`` with the rows as the view."""
    rows, pending = yield from wallet_rows_with_pending_reviews_steps(member_id)
    return account_view_from_rows(rows), pending


async def wallet_rows_with_pending_reviews(member_id: int) -> tuple[list[Row], list[PendingReview]]:
    """The member's wallet as the statement's rows and their open cases
    (``wallet_rows_with_pending_reviews_steps``), for the wallet's JSON
    (``GET /api/v1/me/wallet``, ``api/schemas/ledger.py``
    ``wallet_json_from_rows``): building the ``AccountView`` and a
    ``HoldLine`` per hold only to read them back out cost ~14 % of that
    request's instructions (``bench/RESULTS.md``, session 11). No rows: no
    wallet yet, and nothing is opened here; ``wallet_with_pending_reviews``
    opens it for a member who can earn."""
    return await read(lambda _: wallet_rows_with_pending_reviews_steps(member_id))


async def wallet_with_pending_reviews(
    member_id: int, home_organisation_id: int, roles: Iterable[Role]
) -> tuple[AccountView | None, list[PendingReview]]:
    """The member's wallet view (``community.accounts.wallet_view_if_earner``:
    None if they cannot earn and never had one) and their open cases, read
    on one connection (one pool checkout on PostgreSQL, one reader hop on
    SQLite) in one statement unless there are cases to list
    (``wallet_with_pending_reviews_steps``). A wallet not opened yet is
    opened as ``wallet_view_if_earner`` does."""
    view, pending = await read(lambda _: wallet_with_pending_reviews_steps(member_id))
    if view is None:
        view = await wallet_view_if_earner(member_id, home_organisation_id, roles)
    return view, pending


def awards_pending(reviews: list[PendingReview]) -> Decimal:
    """Points of awards under review: not yet in any balance (pure)."""
    return sum((review.points for review in reviews if review.subject is Subject.ACTIVITY), Decimal("0.00"))
