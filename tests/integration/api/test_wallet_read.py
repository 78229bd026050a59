"""``GET /api/v1/me/wallet`` in one statement answers exactly what the
account row and its holds listed separately answer (the read it replaced,
rebuilt here with the ledger's own records and the wire models), on either
engine: the active holds only, newest first, amounts as strings, times as
the models send them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.schemas.ledger import BalanceOut, HoldOut, WalletOut
from community.accounts import wallet_code
from community.tables import Member
from core.clock import utc_now
from ledger.accounts import find_balance
from ledger.holds import create_hold, list_holds, void_hold
from tests.integration.api.conftest import credentials, login_headers

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
