"""The operator console's forms call the domain services as the operator:
the four-eyes adjustment (one admin asks, a second approves), rejection,
unlocking a phone, reissuing an invitation, closing a campaign, settling a
shop month. Each leaves its audit row with the operator as actor; a refusal
shows in the form and writes nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from campaigns.campaigns import create_campaign, get_campaign
from campaigns.funding import fund_campaign
from community.accounts import issuance_code, member_ref, wallet_code
from community.errors import AccessRefused, MemberNotFound
from community.lockouts import unlock_phone
from community.posts import revoke_post
from community.roles import Role
from community.tables import AdjustmentRequest, AuditEvent
from core.clock import utc_now
from ledger.tables import LedgerHold
from marketplace.catalog import ItemDraft, create_item, get_item
from marketplace.shops import create_shop
from marketplace.tables import SettlementStatement
from tests.support.community_helpers import PASSWORD, Tree, add_member, build_tree, principal
from tests.support.console_helpers import act_as, phone_of, submit_form
from tests.support.earning_helpers import default_rules
from tests.support.marketplace_helpers import balance

Client = AsyncTestClient[Litestar]


async def audit_rows(action: str) -> list[tuple[str, str]]:
    rows = await AuditEvent.select(AuditEvent.actor_ref, AuditEvent.target_ref).where(AuditEvent.action == action).run()
    return [(str(row["actor_ref"]), str(row["target_ref"])) for row in rows]


async def second_admin(tree: Tree) -> int:
    return await add_member("第二管理员", "13900000012", tree.city, Role.ADMIN)


def adjustment(tree: Tree, amount: str = "5.00") -> dict[str, str]:
    return {
        "debit_account": issuance_code(tree.community),
        "credit_account": wallet_code(tree.volunteer),
        "amount": amount,
        "reason_zh": "补发巡逻积分",
        "reason_en": "Patrol points made up",
    }


async def test_the_adjustment_form_waits_for_a_second_admin_who_approves_it(client: Client) -> None:
    tree = await build_tree()
    approver = await second_admin(tree)
    await act_as(client, tree.admin)
    asked = await submit_form(client, "manual-adjustment", adjustment(tree))
    assert asked.status_code == 200, asked.text
    request = await AdjustmentRequest.select().first().run()
    assert request is not None
    # Below the API's approval threshold, yet pending: the console always asks for four eyes.
    assert (request["status"], request["requested_by"]) == ("pending", tree.admin)
    assert await balance(wallet_code(tree.volunteer)) == Decimal("0.00")
    assert await LedgerHold.count().where(LedgerHold.status == "active").run() == 1

    own = await submit_form(client, "approve-adjustment", {"adjustment_id": request["id"]})
    assert own.status_code == 422
    assert "second organiser or admin" in own.json()["custom_form_error"]

    await act_as(client, approver)
    approved = await submit_form(client, "approve-adjustment", {"adjustment_id": request["id"]})
    assert approved.status_code == 200, approved.text
    assert await balance(wallet_code(tree.volunteer)) == Decimal("5.00")
    target = f"adjustment:{request['id']}"
    assert await audit_rows("ledger.adjustment.request") == [(member_ref(tree.admin), target)]
    assert await audit_rows("ledger.adjustment.approve") == [(member_ref(approver), target)]


async def test_the_reject_form_releases_the_held_points(client: Client) -> None:
    tree = await build_tree()
    approver = await second_admin(tree)
    await act_as(client, tree.admin)
    await submit_form(client, "manual-adjustment", adjustment(tree, "800.00"))
    request = await AdjustmentRequest.select(AdjustmentRequest.id).first().run()
    assert request is not None
    request_id = request["id"]
    await act_as(client, approver)
    rejected = await submit_form(client, "reject-adjustment", {"adjustment_id": request_id, "reason_zh": "金额有误"})
    assert rejected.status_code == 200, rejected.text
    assert await LedgerHold.count().where(LedgerHold.status == "active").run() == 0
    assert await balance(wallet_code(tree.volunteer)) == Decimal("0.00")
    assert await audit_rows("ledger.adjustment.reject") == [(member_ref(approver), f"adjustment:{request_id}")]


async def test_a_refused_or_malformed_adjustment_writes_nothing(client: Client) -> None:
    tree = await build_tree()
    await act_as(client, tree.admin)
    audit_before = await AuditEvent.count().run()
    float_like = await submit_form(client, "manual-adjustment", adjustment(tree, "1.234"))
    own_wallet = await submit_form(
        client, "manual-adjustment", {**adjustment(tree), "credit_account": wallet_code(tree.admin)}
    )
    assert (float_like.status_code, own_wallet.status_code) == (422, 422)
    assert float_like.json()["detail"][0]["loc"] == ["amount"]
    assert "账户不存在" in own_wallet.json()["custom_form_error"] or "自己" in own_wallet.json()["custom_form_error"]
    assert await AdjustmentRequest.count().run() == 0
    assert await AuditEvent.count().run() == audit_before


async def test_the_unlock_form_clears_a_locked_phone(client: Client) -> None:
    tree = await build_tree()
    phone = await phone_of(tree.volunteer)
    for _ in range(6):
        await client.post("/api/v1/auth/login", json={"phone": phone, "password": "wrong-password"})
    locked = await client.post("/api/v1/auth/login", json={"phone": phone, "password": PASSWORD})
    assert locked.status_code == 429
    await act_as(client, tree.admin)
    unlocked = await submit_form(client, "unlock-phone", {"phone": phone})
    assert unlocked.status_code == 200, unlocked.text
    assert (await client.post("/api/v1/auth/login", json={"phone": phone, "password": PASSWORD})).status_code == 200
    assert await audit_rows("member.unlock") == [(member_ref(tree.admin), member_ref(tree.volunteer))]


async def test_the_invitation_form_shows_a_new_code_once(client: Client) -> None:
    tree = await build_tree()
    await act_as(client, tree.admin)
    issued = await submit_form(client, "reissue-invitation", {"member_id": tree.volunteer})
    assert issued.status_code == 200, issued.text
    code = issued.json()["custom_form_success"].split(": ")[1].split("，")[0]
    accepted = await client.post(
        "/api/v1/auth/invitations/accept",
        json={"phone": await phone_of(tree.volunteer), "code": code, "password": "a-new-password-1"},
    )
    assert accepted.status_code in (200, 201), accepted.text
    assert await audit_rows("member.invite") == [(member_ref(tree.admin), member_ref(tree.volunteer))]


async def test_the_campaign_and_settlement_forms_act_as_the_operator(client: Client) -> None:
    tree = await build_tree()
    operator = await principal(tree.admin)
    campaign = await create_campaign(
        operator,
        organisation_id=tree.community,
        title_zh="平安巡逻月",
        starts_at=utc_now() - timedelta(days=60),
        rules=default_rules(),
    )
    await fund_campaign(operator, campaign.id, amount="100.00", idempotency_key="fund-console")
    shop = await create_shop(operator, organisation_id=tree.community, name_zh="便民超市")
    last_month = (utc_now().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    await act_as(client, tree.admin)

    closed = await submit_form(client, "close-campaign", {"campaign_id": campaign.id})
    settled = await submit_form(client, "settle-shop-month", {"shop_id": shop.id, "period": last_month})
    again = await submit_form(client, "settle-shop-month", {"shop_id": shop.id, "period": last_month})

    assert (closed.status_code, settled.status_code, again.status_code) == (200, 200, 422), again.text
    assert (await get_campaign(campaign.id)).status == "closed"
    assert await SettlementStatement.count().run() == 1
    assert await audit_rows("campaign.close") == [(member_ref(tree.admin), f"campaign:{campaign.id}")]
    assert await audit_rows("shop.settle") == [(member_ref(tree.admin), f"shop:{shop.id}")]


async def test_the_item_form_changes_price_and_stock_through_the_catalog_service(client: Client) -> None:
    tree = await build_tree()
    operator = await principal(tree.admin)
    shop = await create_shop(operator, organisation_id=tree.community, name_zh="便民超市")
    item = await create_item(
        operator,
        tree.community,
        ItemDraft(name_zh="洗衣液", price=Decimal("10.00"), stock=5, category="household", shop_ids=[shop.id]),
    )
    await act_as(client, tree.admin)
    changed = await submit_form(
        client, "item-price-and-stock", {"item_id": item.id, "price": "12.50", "stock": 20, "active": True}
    )
    negative = await submit_form(client, "item-price-and-stock", {"item_id": item.id, "price": "0.00", "stock": 1})
    assert (changed.status_code, negative.status_code) == (200, 422), negative.text
    after = await get_item(item.id)
    assert (after.price, after.stock, after.name_zh, [s.id for s in after.shops]) == (
        Decimal("12.50"),
        20,
        "洗衣液",
        [shop.id],
    )
    assert await audit_rows("catalog.update") == [(member_ref(tree.admin), f"item:{item.id}")]


async def test_removing_the_admin_role_closes_the_console_at_once(client: Client) -> None:
    tree = await build_tree()
    other = await second_admin(tree)
    await act_as(client, tree.admin)
    assert (await client.get("/admin/api/user/")).status_code == 200
    await revoke_post(await principal(other), tree.city, tree.admin, Role.ADMIN)
    assert (await client.get("/admin/api/user/")).status_code == 401
    assert (await client.get("/admin/", headers={"accept": "text/html"})).status_code == 303


async def test_an_unlock_is_refused_for_a_number_the_operator_does_not_manage_or_their_own(client: Client) -> None:
    tree = await build_tree()
    outsider_admin = await add_member("外区管理员", "13900000013", tree.other_community, Role.ORGANIZER)
    cleared: list[str] = []

    async def clear(phone: str) -> int:
        cleared.append(phone)
        return 1

    with pytest.raises(MemberNotFound):
        await unlock_phone(await principal(outsider_admin), await phone_of(tree.volunteer), clear=clear)
    with pytest.raises(MemberNotFound):
        await unlock_phone(await principal(tree.admin), "13912345678", clear=clear)
    with pytest.raises(AccessRefused):
        await unlock_phone(await principal(tree.admin), await phone_of(tree.admin), clear=clear)
    assert cleared == []
    assert await audit_rows("member.unlock") == []
