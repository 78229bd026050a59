"""A member sees only their own wallet; organisers see their organisation's."""

from __future__ import annotations

from decimal import Decimal

from litestar import Litestar
from litestar.testing import AsyncTestClient

from community.accounts import wallet_code
from community.members import register_member
from community.organisations import create_organisation
from community.roles import Level, Role
from tests.api.conftest import login_headers


async def test_volunteer_sees_own_wallet_with_statement(client: AsyncTestClient[Litestar], demo: None) -> None:
    headers = await login_headers(client, "volunteer")
    wallet = (await client.get("/api/v1/me/wallet", headers=headers)).json()
    assert wallet["balance"] == "47.50" and wallet["available"] == "47.50" and wallet["held"] == "0.00"
    statement = (await client.get("/api/v1/me/wallet/statement?limit=2", headers=headers)).json()
    assert [line["amount"] for line in statement["lines"]] == ["12.50", "5.00"]
    assert statement["lines"][0]["reason_zh"] == "志愿服务积分：协助调解邻里纠纷"
    rest = (await client.get(f"/api/v1/me/wallet/statement?cursor={statement['next_cursor']}", headers=headers)).json()
    assert [line["amount"] for line in rest["lines"]] == ["10.00", "20.00"]
    assert rest["next_cursor"] is None
    total = sum(Decimal(line["amount"]) for line in statement["lines"] + rest["lines"])
    assert total == Decimal(wallet["balance"])


async def test_volunteer_cannot_read_another_members_wallet(client: AsyncTestClient[Litestar], demo: None) -> None:
    headers = await login_headers(client, "volunteer")
    me = (await client.get("/api/v1/me", headers=headers)).json()
    other = await register_member(
        name="李大爷", phone="13800000009", password="another-pass", home_organisation_id=me["home_organisation_id"]
    )
    for path in (
        f"/api/v1/accounts/{wallet_code(other.id)}",
        f"/api/v1/accounts/{wallet_code(other.id)}/statement",
        f"/api/v1/accounts/{wallet_code(other.id)}/holds",
    ):
        response = await client.get(path, headers=headers)
        assert response.status_code == 404, path
        assert response.json()["code"] == "account_not_found"
    own = await client.get(f"/api/v1/accounts/{wallet_code(me['id'])}", headers=headers)
    assert own.status_code == 200


async def test_organiser_reads_wallets_in_their_subtree_only(client: AsyncTestClient[Litestar], demo: None) -> None:
    headers = await login_headers(client, "organizer")
    volunteer = (await client.get("/api/v1/me", headers=await login_headers(client, "volunteer"))).json()
    inside = await client.get(f"/api/v1/accounts/{wallet_code(volunteer['id'])}", headers=headers)
    assert inside.status_code == 200 and inside.json()["balance"] == "47.50"

    elsewhere = await create_organisation(name_zh="别的社区", level=Level.COMMUNITY)
    stranger = await register_member(
        name="外人",
        phone="13800000010",
        password="stranger-pass",
        home_organisation_id=elsewhere.id,
        roles=(Role.VOLUNTEER,),
    )
    outside = await client.get(f"/api/v1/accounts/{wallet_code(stranger.id)}", headers=headers)
    assert outside.status_code == 404


async def test_balance_as_of_a_past_moment(client: AsyncTestClient[Litestar], demo: None) -> None:
    headers = await login_headers(client, "volunteer")
    statement = (await client.get("/api/v1/me/wallet/statement", headers=headers)).json()
    me = (await client.get("/api/v1/me", headers=headers)).json()
    oldest = statement["lines"][-1]
    response = await client.get(
        f"/api/v1/accounts/{wallet_code(me['id'])}", params={"as_of": oldest["created_at"]}, headers=headers
    )
    assert response.status_code == 200
    assert response.json()["balance_as_of"] == oldest["balance_after"] == "20.00"
