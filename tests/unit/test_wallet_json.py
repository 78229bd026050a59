"""The wallet's JSON is built without pydantic on its hot path
(api/schemas/ledger.py wallet_json); it must be byte for byte what
WalletOut, the route's declared schema, would send. The API builds it
straight from the statement's rows (wallet_json_from_rows), which must give
the same dict as the view built from those rows. Pure: no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from litestar.serialization import encode_json

from api.schemas.ledger import wallet_json, wallet_json_from_rows, wallet_out
from core.fixed_sql import Row
from fraud.models import Subject
from fraud.pending import PendingReview
from ledger.account_view import account_view_from_rows
from ledger.models import AccountType, AccountView, HoldLine, HoldStatus

CHINA = timezone(timedelta(hours=8))


def _hold(hold_id: int, minor: int, created_at: datetime) -> HoldLine:
    return HoldLine(
        id=hold_id,
        amount_minor=minor,
        status=HoldStatus.ACTIVE,
        reason_zh="兑换 大米 5kg",
        reason_en='Order "rice" \\ 5 kg',
        created_at=created_at,
        expires_at=created_at + timedelta(days=7),
    )


def _view(balance_minor: int, holds: tuple[HoldLine, ...]) -> AccountView:
    return AccountView(
        code="volunteer:42:wallet",
        account_type=AccountType.LIABILITY,
        name_zh="志愿者积分账户",
        name_en="Volunteer wallet",
        balance_minor=balance_minor,
        held_minor=sum(hold.amount_minor for hold in holds),
        holds=holds,
    )


VIEWS = {
    "no holds, zero": _view(0, ()),
    "holds at whole seconds and microseconds": _view(
        4750,
        (
            _hold(9, 50, datetime(2026, 11, 30, 15, 47, 16, 862250, tzinfo=UTC)),
            _hold(8, 1, datetime(2026, 11, 30, 15, 47, 16, tzinfo=UTC)),
            _hold(7, 123456789012, datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC)),
        ),
    ),
    "a time zone other than UTC": _view(100, (_hold(1, 100, datetime(2026, 5, 1, 8, 0, 0, 500000, tzinfo=CHINA)),)),
}


@pytest.mark.parametrize("view", VIEWS.values(), ids=VIEWS.keys())
def test_the_wallet_json_is_what_walletout_sends(view: AccountView) -> None:
    # What Litestar sends for a pydantic model: its JSON-mode dump, encoded.
    assert encode_json(wallet_json(view)) == encode_json(wallet_out(view).model_dump(mode="json"))


def test_amounts_leave_as_two_place_strings() -> None:
    sent = wallet_json(VIEWS["holds at whole seconds and microseconds"])
    assert (sent["balance"], sent["held"], sent["available"]) == ("47.50", "1234567890.63", "-1234567843.13")
    assert [hold["amount"] for hold in sent["active_holds"]] == ["0.50", "0.01", "1234567890.12"]
    assert Decimal(sent["available"]) == Decimal(sent["balance"]) - Decimal(sent["held"])


def test_pending_reviews_are_sent_as_walletout_sends_them() -> None:
    at = datetime(2026, 12, 3, 9, 30, 0, 250000, tzinfo=UTC)
    pending = [
        PendingReview(7, Subject.ACTIVITY, 70, Decimal("60.00"), "理由", "why", "组织者", "organisers", at, ""),
        PendingReview(8, Subject.ORDER, 80, Decimal("10.50"), "理由", "why", "组织者", "organisers", at, "异议"),
    ]
    view = VIEWS["no holds, zero"]
    sent = wallet_json(view, pending)
    assert encode_json(sent) == encode_json(wallet_out(view, pending).model_dump(mode="json"))
    # Only the award is outside every balance; the order's points are in ``held``.
    assert sent["pending_review_points"] == "60.00"
    assert sent["pending_review"][1]["objection_path"] == "/api/v1/fraud/cases/8/objection"


# The wallet statement's columns, in its order (ledger/account_view.py), then the flag fraud.pending adds.
COLUMNS = (
    "code",
    "account_type",
    "name_zh",
    "name_en",
    "balance_minor",
    "held_minor",
    "hold_id",
    "amount_minor",
    "hold_reason_zh",
    "hold_reason_en",
    "created_at",
    "expires_at",
    "has_open_case",
)


class StatementRow:
    """A row as both drivers give it: by position and by column name."""

    def __init__(self, values: tuple[Any, ...]) -> None:
        self.values = values

    def __getitem__(self, key: int | str) -> Any:
        return self.values[key if isinstance(key, int) else COLUMNS.index(key)]


def _rows(view: AccountView) -> list[Row]:
    """The statement's rows for ``view``: one per hold, or one with NULL hold columns."""
    account = (view.code, view.account_type.value, view.name_zh, view.name_en, view.balance_minor, view.held_minor)
    if not view.holds:
        return [StatementRow((*account, None, None, None, None, None, None, False))]
    return [
        StatementRow((*account, h.id, h.amount_minor, h.reason_zh, h.reason_en, h.created_at, h.expires_at, False))
        for h in view.holds
    ]


@pytest.mark.parametrize("view", VIEWS.values(), ids=VIEWS.keys())
def test_the_json_from_the_rows_is_the_json_of_the_view_of_those_rows(view: AccountView) -> None:
    rows = _rows(view)
    assert account_view_from_rows(rows) == view  # the rows stand for this view
    assert wallet_json_from_rows(rows) == wallet_json(view)
    assert encode_json(wallet_json_from_rows(rows)) == encode_json(wallet_out(view).model_dump(mode="json"))


def test_the_json_from_the_rows_sends_pending_reviews_as_walletout_does() -> None:
    at = datetime(2026, 12, 3, 9, 30, 0, 250000, tzinfo=UTC)
    pending = [PendingReview(7, Subject.ACTIVITY, 70, Decimal("60.00"), "理由", "why", "组织者", "organisers", at, "")]
    view = VIEWS["holds at whole seconds and microseconds"]
    sent = wallet_json_from_rows(_rows(view), pending)
    assert encode_json(sent) == encode_json(wallet_out(view, pending).model_dump(mode="json"))
    assert sent["pending_review_points"] == "60.00"
