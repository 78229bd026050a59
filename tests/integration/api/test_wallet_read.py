"""``GET /api/v1/me/wallet`` in one statement answers exactly what the
account row and its holds listed separately answer (the read it replaced,
rebuilt here with the ledger's own records and the wire models), on either
engine: the active holds only, newest first, amounts as strings, times as
the models send them. The answer is built straight from the statement's
rows, by position (``api/schemas/ledger.py`` ``wallet_json_from_rows``):
each engine's rows must hold the columns where it reads them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.schemas.ledger import BalanceOut, HoldOut, WalletOut, wallet_json, wallet_json_from_rows
from community.accounts import wallet_code
from community.roles import Role
from community.tables import Member
from core.clock import utc_now
from core.fixed_sql import fetch
from fraud.pending import _WALLET_AND_OPEN_CASE_FLAG
from ledger import account_view
from ledger.account_view import MAX_VIEWED_HOLDS, account_view_from_rows
from ledger.accounts import find_balance
from ledger.holds import create_hold, list_holds, void_hold
from ledger.tables import LedgerAccount
from tests.integration.api.conftest import credentials, login_headers
from tests.support.community_helpers import PASSWORD, add_member

Client = AsyncTestClient[Litestar]


async def _as_listed_separately(code: str) -> dict[str, Any]:
    account = await find_balance(code)
    assert account is not None
    holds = await list_holds(code)
    expected = WalletOut(
        **dict(BalanceOut.model_validate(account)),
        has_wallet=True,
        active_holds=[HoldOut.model_validate(hold) for hold in holds],
    )
    return expected.model_dump(mode="json")


async def _volunteer_code() -> str:
    phone, _ = credentials("volunteer")
    member_id = await Member.select(Member.id).where(Member.phone == phone).output(as_list=True).run()
    return wallet_code(int(member_id[0]))


async def test_the_wallet_with_active_and_resolved_holds_answers_as_the_two_reads_did(
    client: Client, demo: None
) -> None:
    code = await _volunteer_code()
    expires_at = utc_now() + timedelta(days=3)
    for number, amount in enumerate(("1.25", "0.01", "3.00", "2.50")):
        hold = await create_hold(
            account_code=code,
            amount=amount,
            reason_zh=f"预留 {number}",
            reason_en=f"hold {number}",
            expires_at=expires_at,
        )
        if number == 1:
            await void_hold(hold.id)
    answer = (await client.get("/api/v1/me/wallet", headers=await login_headers(client, "volunteer"))).json()
    assert answer == await _as_listed_separately(code)
    assert [hold["amount"] for hold in answer["active_holds"]] == ["2.50", "3.00", "1.25"]
    assert (answer["balance"], answer["held"], answer["available"]) == ("47.50", "6.75", "40.75")


async def test_a_wallet_without_holds_answers_as_before(client: Client, demo: None) -> None:
    answer = (await client.get("/api/v1/me/wallet", headers=await login_headers(client, "volunteer"))).json()
    assert answer == await _as_listed_separately(await _volunteer_code())
    assert answer["active_holds"] == []


async def test_a_member_who_cannot_earn_gets_zeros_and_no_account(client: Client, demo: None) -> None:
    headers = await login_headers(client, "organizer")
    answer = (await client.get("/api/v1/me/wallet", headers=headers)).json()
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert answer["has_wallet"] is False and answer["balance"] == "0.00" and answer["active_holds"] == []
    assert answer["account_code"] == wallet_code(me["id"])
    assert await find_balance(wallet_code(me["id"])) is None


# Each position ``wallet_json_from_rows`` reads, and the column the statement names there.
POSITIONS = {
    account_view.CODE_COLUMN: "code",
    account_view.ACCOUNT_TYPE_COLUMN: "account_type",
    account_view.NAME_ZH_COLUMN: "name_zh",
    account_view.NAME_EN_COLUMN: "name_en",
    account_view.BALANCE_MINOR_COLUMN: "balance_minor",
    account_view.HELD_MINOR_COLUMN: "held_minor",
    account_view.HOLD_ID_COLUMN: "hold_id",
    account_view.HOLD_AMOUNT_MINOR_COLUMN: "amount_minor",
    account_view.HOLD_REASON_ZH_COLUMN: "hold_reason_zh",
    account_view.HOLD_REASON_EN_COLUMN: "hold_reason_en",
    account_view.HOLD_CREATED_AT_COLUMN: "created_at",
    account_view.HOLD_EXPIRES_AT_COLUMN: "expires_at",
}


async def test_the_json_from_this_engines_rows_is_the_json_of_their_view(client: Client, demo: None) -> None:
    code = await _volunteer_code()
    for number in range(2):
        await create_hold(
            account_code=code,
            amount="0.50",
            reason_zh=f"预留 {number}",
            reason_en=f"hold {number}",
            expires_at=utc_now() + timedelta(days=3),
        )
    member_id = int(code.split(":")[1])

    rows = await fetch(_WALLET_AND_OPEN_CASE_FLAG(code, MAX_VIEWED_HOLDS, member_id))

    assert len(rows) == 2
    for position, name in POSITIONS.items():
        assert all(row[position] == row[name] for row in rows), name  # type: ignore[index]
    assert list(rows[0].keys())[: len(POSITIONS)] == [POSITIONS[n] for n in range(len(POSITIONS))]  # type: ignore[attr-defined]
    view = account_view_from_rows(rows)
    assert view is not None
    assert wallet_json_from_rows(rows) == wallet_json(view)


async def test_a_volunteer_without_a_wallet_gets_one_opened_on_their_first_read(client: Client, demo: None) -> None:
    home = (await client.get("/api/v1/me", headers=await login_headers(client, "volunteer"))).json()
    member_id = await add_member("新志愿者", "13900000099", home["home_organisation_id"], Role.VOLUNTEER)
    response = await client.post("/api/v1/auth/login", json={"phone": "13900000099", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    code = wallet_code(member_id)
    # As for a member from before volunteers got their wallet when they joined.
    await LedgerAccount.delete().where(LedgerAccount.code == code).run()

    answer = (await client.get("/api/v1/me/wallet", headers=headers)).json()

    assert answer == await _as_listed_separately(code)
    assert answer["has_wallet"] is True and answer["balance"] == "0.00"
    assert (await client.get("/api/v1/me/wallet", headers=headers)).json() == answer  # now read from its rows
