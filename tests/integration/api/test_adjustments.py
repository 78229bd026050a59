"""Organisers move points by hand only with a reason, an Idempotency-Key,
amounts as strings, and an audit record."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.points import AMOUNT_PATTERN
from community.accounts import issuance_code, wallet_code
from community.members import register_member
from community.roles import Role
from community.tables import AuditEvent
from ledger.accounts import get_balance
from ledger.tables import LedgerEntry
from tests.integration.api.conftest import login_headers
from tests.support.marketplace_helpers import assert_same, snapshot_everything


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


async def _organiser_who_volunteers(client: AsyncTestClient[Litestar]) -> tuple[dict[str, str], str, str]:
    """An organiser of the demo community who also volunteers there, so has
    a wallet of their own; their login headers, their wallet, the issuance."""
    headers, issuance, _ = await _ids(client)
    community = (await client.get("/api/v1/me", headers=headers)).json()["home_organisation_id"]
    member = await register_member(
        name="兼职书记",
        phone="13800000021",
        password="organiser-volunteer-1",
        home_organisation_id=community,
        roles=(Role.ORGANIZER, Role.VOLUNTEER),
    )
    login = await client.post("/api/v1/auth/login", json={"phone": "13800000021", "password": "organiser-volunteer-1"})
    return {"Authorization": f"Bearer {login.json()['access_token']}"}, wallet_code(member.id), issuance


async def test_an_organiser_cannot_credit_their_own_wallet(client: AsyncTestClient[Litestar], demo: None) -> None:
    """Self-credit is refused at any amount (403 self_credit) and writes
    nothing; another organiser may credit that wallet. Before the fix,
    issuance → own wallet posted at once."""
    own_headers, own_wallet, issuance = await _organiser_who_volunteers(client)
    for amount in ("1.00", "600.00"):
        before = await snapshot_everything()
        response = await client.post(
            "/api/v1/ledger/adjustments",
            json=_body(issuance, own_wallet, amount),
            headers={**own_headers, "Idempotency-Key": f"self-credit-{amount}"},
        )
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "self_credit" and response.json()["field"] == "credit_account"
        assert_same(before, await snapshot_everything())
    other_headers, _, _ = await _ids(client)
    allowed = await client.post(
        "/api/v1/ledger/adjustments",
        json=_body(issuance, own_wallet, "1.00"),
        headers={**other_headers, "Idempotency-Key": "credit-colleague-01"},
    )
    assert allowed.status_code == 201


async def test_a_reversal_cannot_credit_the_actors_own_wallet(client: AsyncTestClient[Litestar], demo: None) -> None:
    """Another organiser moves 1.00 out of the volunteering organiser's
    wallet; reversing that would credit their own wallet: refused."""
    own_headers, own_wallet, issuance = await _organiser_who_volunteers(client)
    other_headers, _, _ = await _ids(client)
    await client.post(
        "/api/v1/ledger/adjustments",
        json=_body(issuance, own_wallet, "3.00"),
        headers={**other_headers, "Idempotency-Key": "fund-colleague-01"},
    )
    taken = await client.post(
        "/api/v1/ledger/adjustments",
        json=_body(own_wallet, issuance, "1.00"),
        headers={**other_headers, "Idempotency-Key": "take-colleague-01"},
    )
    assert taken.status_code == 201
    before = await snapshot_everything()
    response = await client.post(
        f"/api/v1/ledger/entries/{taken.json()['id']}/reversal",
        json={"reason_zh": "撤回"},
        headers={**own_headers, "Idempotency-Key": "self-reversal-01"},
    )
    assert response.status_code == 403 and response.json()["code"] == "self_credit"
    assert_same(before, await snapshot_everything())


async def test_amount_text_must_be_plain_ascii_digits(client: AsyncTestClient[Litestar], demo: None) -> None:
    """Full-width or other Unicode digits and surrounding whitespace answer
    422 naming the field, as JSON numbers do; nothing is written. Before the
    fix they were stripped and read as 5.00 (Python's \\d is Unicode)."""
    headers, issuance, wallet = await _ids(client)
    before = await snapshot_everything()
    for bad in ("５.００", " 5.00 ", "5.00\n", "\t5.00", "٥.00", "5.0０", "+5.00", "5.", ".50"):
        response = await client.post(
            "/api/v1/ledger/adjustments",
            json=_body(issuance, wallet, bad),
            headers={**headers, "Idempotency-Key": "adj-ascii-00001"},
        )
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["field"] == "amount", bad
    assert_same(before, await snapshot_everything())


async def test_openapi_amount_pattern_is_the_one_the_server_checks(client: AsyncTestClient[Litestar]) -> None:
    """The served pattern is ASCII-only and anchored; every amount it admits
    the server admits, and the refused spellings above fail it."""
    schema = (await client.get("/schema/openapi.json")).json()
    amount = schema["components"]["schemas"]["AdjustmentIn"]["properties"]["amount"]
    assert amount["pattern"] == AMOUNT_PATTERN == r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$"
    # ECMA-262 (JSON Schema) reads ``$`` as the very end; Python's \Z does.
    ecma = re.compile(AMOUNT_PATTERN.removesuffix("$") + r"\Z", re.ASCII)
    for good in ("0.01", "5", "5.5", "500.00", "999999999999.99"):
        assert ecma.match(good), good
    for bad in ("５.００", " 5.00 ", "5.00\n", "٥.00", "+5.00"):
        assert not ecma.match(bad), bad
