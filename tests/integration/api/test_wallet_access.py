"""A member sees only their own wallet; organisers see their organisation's."""

from __future__ import annotations

from decimal import Decimal

from litestar import Litestar
from litestar.testing import AsyncTestClient

from community.accounts import wallet_code
from community.members import register_member
from community.organisations import create_organisation
from community.roles import Level, Role
from ledger.accounts import find_balance
from ledger.tables import LedgerAccount
from tests.integration.api.conftest import login_headers


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


async def test_members_who_cannot_earn_get_no_wallet_opened(client: AsyncTestClient[Litestar], demo: None) -> None:
    """Organisers, admins and shop staff reading their wallet, statement or
    the catalog get a well-formed empty answer and no account is opened for
    them. Before the fix each of these calls opened a wallet (the first step
    of crediting oneself)."""
    for role in ("organizer", "admin", "shop_staff"):
        headers = await login_headers(client, role)
        me = (await client.get("/api/v1/me", headers=headers)).json()
        accounts_before = await LedgerAccount.count().run()
        wallet = await client.get("/api/v1/me/wallet", headers=headers)
        assert wallet.status_code == 200, (role, wallet.text)
        body = wallet.json()
        assert body["has_wallet"] is False and body["active_holds"] == [], role
        assert (body["balance"], body["held"], body["available"]) == ("0.00", "0.00", "0.00")
        statement = (await client.get("/api/v1/me/wallet/statement", headers=headers)).json()
        assert statement["lines"] == [] and statement["next_cursor"] is None
        catalog = (await client.get("/api/v1/catalog/items", headers=headers)).json()
        assert catalog["available"] == "0.00"
        assert all(item["affordable"] is False for item in catalog["items"])
        assert await LedgerAccount.count().run() == accounts_before, role
        assert await find_balance(wallet_code(me["id"])) is None, role


async def test_volunteers_and_post_holders_have_wallets(client: AsyncTestClient[Litestar], demo: None) -> None:
    """A volunteer's wallet exists from registration; a grid worker (a post)
    can earn too, so theirs opens on first need."""
    volunteer = (await client.get("/api/v1/me/wallet", headers=await login_headers(client, "volunteer"))).json()
    assert volunteer["has_wallet"] is True and volunteer["balance"] == "47.50"
    headers = await login_headers(client, "grid_worker")
    me = (await client.get("/api/v1/me", headers=headers)).json()
    grid_worker = (await client.get("/api/v1/me/wallet", headers=headers)).json()
    assert grid_worker["has_wallet"] is True and grid_worker["balance"] == "0.00"
    assert grid_worker["account_code"] == wallet_code(me["id"])
    assert await find_balance(wallet_code(me["id"])) is not None
