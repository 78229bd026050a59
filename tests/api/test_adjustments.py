"""Organisers move points by hand only with a reason, an Idempotency-Key,
amounts as strings, and an audit record."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from community.accounts import issuance_code, wallet_code
from community.tables import AuditEvent
from ledger.accounts import get_balance
from ledger.tables import LedgerEntry
from tests.api.conftest import login_headers


async def _ids(client: AsyncTestClient[Litestar]) -> tuple[dict[str, str], str, str]:
    headers = await login_headers(client, "organizer")
    volunteer = (await client.get("/api/v1/me", headers=await login_headers(client, "volunteer"))).json()
    organizer = (await client.get("/api/v1/me", headers=headers)).json()
    return headers, issuance_code(organizer["home_organisation_id"]), wallet_code(volunteer["id"])


def _body(debit: str, credit: str, amount: object = "5.00") -> dict[str, object]:
    return {"debit_account": debit, "credit_account": credit, "amount": amount, "reason_zh": "补录巡逻积分"}


async def test_float_amount_is_a_422_problem_naming_the_field(client: AsyncTestClient[Litestar], demo: None) -> None:
    headers, issuance, wallet = await _ids(client)
    entries_before = await LedgerEntry.count().run()
    for bad in (5.5, 5, "5.001", "five", None, "NaN", "1e3"):
        response = await client.post(
            "/api/v1/ledger/adjustments",
            json=_body(issuance, wallet, bad),
            headers={**headers, "Idempotency-Key": "adj-float-0001"},
        )
        assert response.status_code == 422, (bad, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["field"] == "amount", problem
        assert any(error["field"] == "amount" for error in problem["errors"])
    assert await LedgerEntry.count().run() == entries_before


async def test_missing_idempotency_key_is_refused(client: AsyncTestClient[Litestar], demo: None) -> None:
    headers, issuance, wallet = await _ids(client)
    response = await client.post("/api/v1/ledger/adjustments", json=_body(issuance, wallet), headers=headers)
    assert response.status_code == 422
    assert response.json()["field"].lower() == "idempotency-key"


async def test_replayed_idempotency_key_returns_the_original(client: AsyncTestClient[Litestar], demo: None) -> None:
    headers, issuance, wallet = await _ids(client)
    keyed = {**headers, "Idempotency-Key": "adj-replay-0001"}
    first = await client.post("/api/v1/ledger/adjustments", json=_body(issuance, wallet), headers=keyed)
    again = await client.post("/api/v1/ledger/adjustments", json=_body(issuance, wallet), headers=keyed)
    assert first.status_code == 201
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert str((await get_balance(wallet)).balance) == "52.50"  # 47.50 demo + 5.00 once
    assert await AuditEvent.count().where(AuditEvent.action == "ledger.adjustment").run() == 1

    other = await client.post("/api/v1/ledger/adjustments", json=_body(issuance, wallet, "6.00"), headers=keyed)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_conflict"


async def test_overdraft_is_refused_and_nothing_written(client: AsyncTestClient[Litestar], demo: None) -> None:
    headers, issuance, wallet = await _ids(client)
    entries_before = await LedgerEntry.count().run()
    response = await client.post(
        "/api/v1/ledger/adjustments",
        json=_body(wallet, issuance, "1000.00"),
        headers={**headers, "Idempotency-Key": "adj-overdraft-01"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_funds"
    assert await LedgerEntry.count().run() == entries_before
    assert str((await get_balance(wallet)).balance) == "47.50"


async def test_reversal_once_then_refused(client: AsyncTestClient[Litestar], demo: None) -> None:
    headers, issuance, wallet = await _ids(client)
    made = await client.post(
        "/api/v1/ledger/adjustments",
        json=_body(issuance, wallet, "3.00"),
        headers={**headers, "Idempotency-Key": "adj-to-reverse1"},
    )
    entry_id = made.json()["id"]
    reversal = await client.post(
        f"/api/v1/ledger/entries/{entry_id}/reversal",
        json={"reason_zh": "重复发放"},
        headers={**headers, "Idempotency-Key": "rev-0000000001"},
    )
    assert reversal.status_code == 201
    assert reversal.json()["reverses_id"] == entry_id
    assert str((await get_balance(wallet)).balance) == "47.50"
    twice = await client.post(
        f"/api/v1/ledger/entries/{entry_id}/reversal",
        json={"reason_zh": "再次冲正"},
        headers={**headers, "Idempotency-Key": "rev-0000000002"},
    )
    assert twice.status_code == 409 and twice.json()["code"] == "reversal_refused"


async def test_volunteers_and_shop_staff_cannot_adjust(client: AsyncTestClient[Litestar], demo: None) -> None:
    _, issuance, wallet = await _ids(client)
    for role in ("volunteer", "shop_staff"):
        headers = await login_headers(client, role)
        response = await client.post(
            "/api/v1/ledger/adjustments",
            json=_body(issuance, wallet),
            headers={**headers, "Idempotency-Key": f"adj-{role}-0001"},
        )
        assert response.status_code == 403, role


async def test_shop_settlement_accounts_cannot_be_debited_by_hand(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    """A shop's settlement balance is owed to its unsettled months: only
    pickups, same-month returns and settlement may move it."""
    headers, issuance, _ = await _ids(client)
    response = await client.post(
        "/api/v1/ledger/adjustments",
        json=_body("shop:1:settlement", issuance, "1.00"),
        headers={**headers, "Idempotency-Key": "adj-shop-00001"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "settlement_account_protected"
    assert response.json()["field"] == "debit_account"
