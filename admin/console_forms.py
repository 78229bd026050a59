"""The operator console's forms (piccolo_admin ``FormConfig``): each one
calls a domain service with the operator's own principal, so the service's
policy decides and its audit record names the operator as actor, in the
service's transaction. No form writes a table itself.

- 积分调整 manual adjustment: ``community.manual_points.adjust`` with
  ``four_eyes=True``, always a pending request whatever the amount
  (``ledger.adjustment.request``);
- 批准调整 approve: ``approve_adjustment``, never by the requester
  (``ledger.adjustment.approve``);
- 驳回调整 reject: ``reject_adjustment`` (``ledger.adjustment.reject``);
- 解锁手机号 unlock a phone: ``community.lockouts.unlock_phone`` (``member.unlock``);
- 重发邀请码 reissue an invitation: ``community.invitations.issue_invitation``
  (``member.invite``);
- 结束活动 close a campaign: ``campaigns.funding.close_campaign`` (``campaign.close``);
- 商户月结 settle a shop month: ``marketplace.settlement.settle_period`` (``shop.settle``);
- 商品价格与库存 an item's price, stock and availability:
  ``marketplace.catalog.update_item`` with the item's other settings as they
  are (``catalog.update``); the service checks the bounds and who manages
  the catalog. Orders already placed keep the price and stock they took.

A refusal (a domain error) is shown in the form as its problem title,
Chinese first, and the service's detail; piccolo_admin answers it as 422
``custom_form_error`` and nothing is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from piccolo_admin.endpoints import FormConfig
from pydantic import BaseModel, Field
from redis.asyncio import Redis
from starlette.requests import Request

from admin.console_auth import principal_of_request, redis_of_request
from api.community.auth import lockout_clearer
from api.errors import DOMAIN_STATUS
from api.i18n import TITLES
from campaigns.funding import close_campaign
from community.access import Principal
from community.invitations import issue_invitation
from community.lockouts import unlock_phone
from community.manual_points import AdjustmentDraft, adjust, approve_adjustment, reject_adjustment
from core.ids import MAX_ID
from fengling_settings import get_settings
from ledger.amounts import parse_amount
from marketplace.catalog import MAX_STOCK, ItemDraft, managed_item, update_item
from marketplace.settlement import settle_period

AMOUNT_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"
PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
REASON_CHARS = 300
ACCOUNT_CODE_CHARS = 120
GROUP_POINTS = "积分 Points"
GROUP_MEMBERS = "成员 Members"
GROUP_OPERATIONS = "运营 Operations"


class AdjustmentForm(BaseModel):
    debit_account: str = Field(
        min_length=1, max_length=ACCOUNT_CODE_CHARS, title="转出账户 Debit account", examples=["issuance:org:4"]
    )
    credit_account: str = Field(
        min_length=1, max_length=ACCOUNT_CODE_CHARS, title="转入账户 Credit account", examples=["wallet:member:12"]
    )
    amount: str = Field(pattern=AMOUNT_PATTERN, title="积分 Points", description="如 12.50 · e.g. 12.50")
    reason_zh: str = Field(min_length=1, max_length=REASON_CHARS, title="原因（中文） Reason (Chinese)")
    reason_en: str = Field(default="", max_length=REASON_CHARS, title="Reason (English)")


class AdjustmentDecisionForm(BaseModel):
    adjustment_id: int = Field(ge=1, le=MAX_ID, title="调整申请编号 Adjustment request id")


class AdjustmentRejectionForm(BaseModel):
    adjustment_id: int = Field(ge=1, le=MAX_ID, title="调整申请编号 Adjustment request id")
    reason_zh: str = Field(min_length=1, max_length=REASON_CHARS, title="驳回原因 Reason")
    reason_en: str = Field(default="", max_length=REASON_CHARS, title="Reason (English)")


class UnlockForm(BaseModel):
    phone: str = Field(min_length=1, max_length=20, title="手机号 Phone number")


class InvitationForm(BaseModel):
    member_id: int = Field(ge=1, le=MAX_ID, title="成员编号 Member id")


class CampaignCloseForm(BaseModel):
    campaign_id: int = Field(ge=1, le=MAX_ID, title="活动编号 Campaign id")


class ItemForm(BaseModel):
    item_id: int = Field(ge=1, le=MAX_ID, title="商品编号 Item id")
    price: str = Field(pattern=AMOUNT_PATTERN, title="兑换积分 Price in points", description="如 10.00 · e.g. 10.00")
    stock: int | None = Field(
        default=None, ge=0, le=MAX_STOCK, title="库存 Stock", description="留空为不限 · empty: unlimited"
    )
    active: bool = Field(default=True, title="上架 On sale")


class SettlementForm(BaseModel):
    shop_id: int = Field(ge=1, le=MAX_ID, title="商户编号 Shop id")
    period: str = Field(pattern=PERIOD_PATTERN, title="月份 Month", description="如 2026-11 · e.g. 2026-11")


DOMAIN_ERRORS = tuple(DOMAIN_STATUS)


def refusal_text(error: Exception) -> str:
    """A domain refusal as the form shows it: the problem's title, Chinese
    then English, and the service's detail."""
    code = str(getattr(error, "code", "http_error"))
    zh, en = TITLES.get(code, TITLES["http_error"])
    return f"{zh} · {en}: {getattr(error, 'message', str(error))}"


Action = Callable[[Principal, Any], Awaitable[str]]
RedisAction = Callable[[Principal, Any, Redis], Awaitable[str]]


def operator_endpoint(
    action: Action | RedisAction, *, uses_redis: bool = False
) -> Callable[[Request, Any], Awaitable[str]]:
    """The form's endpoint: the operator's principal from the console's
    authentication (``admin/console_auth.py``), the action (with the app's
    Redis client, which the mount hands over, when it needs one), and any
    domain refusal turned into the form's error (piccolo_admin shows a
    ``ValueError``'s text)."""

    async def endpoint(request: Request, data: Any) -> str:
        principal = principal_of_request(request)
        try:
            if uses_redis:
                return await action(principal, data, redis_of_request(request))  # type: ignore[call-arg]
            return await action(principal, data)  # type: ignore[call-arg]
        except DOMAIN_ERRORS as error:
            raise ValueError(refusal_text(error)) from error

    endpoint.__name__ = action.__name__
    return endpoint


async def request_adjustment(principal: Principal, data: AdjustmentForm) -> str:
    draft = AdjustmentDraft(
        debit_account=data.debit_account.strip(),
        credit_account=data.credit_account.strip(),
        amount=parse_amount(data.amount),
        reason_zh=data.reason_zh,
        reason_en=data.reason_en,
    )
    # Each submission is a new request; a second click makes a second
    # pending request, which the approver sees and rejects.
    request = await adjust(principal, draft, idempotency_key=f"console:{uuid.uuid4()}", four_eyes=True)
    return f"已提交，等待另一位管理员批准 · Submitted; waiting for a second admin: adjustment request {request.id}"


async def approve(principal: Principal, data: AdjustmentDecisionForm) -> str:
    request = await approve_adjustment(principal, data.adjustment_id)
    return f"已批准并入账 · Approved and posted: entry {request.entry_id}"


async def reject(principal: Principal, data: AdjustmentRejectionForm) -> str:
    await reject_adjustment(principal, data.adjustment_id, reason_zh=data.reason_zh, reason_en=data.reason_en)
    return f"已驳回，冻结积分已释放 · Rejected; the held points are released ({data.adjustment_id})"


async def reissue_invitation(principal: Principal, data: InvitationForm) -> str:
    invitation = await issue_invitation(principal, data.member_id)
    expires = invitation.expires_at.date().isoformat()
    return (
        f"新邀请码（只显示这一次）· New invitation code (shown once): {invitation.code}"
        f"，有效至 valid until {expires}; 旧码和该成员的登录已失效 · older codes and the member's sessions have ended"
    )


async def close(principal: Principal, data: CampaignCloseForm) -> str:
    campaign = await close_campaign(principal, data.campaign_id)
    return f"活动已结束，余额已退回发行账户 · Campaign {campaign.id} closed; its unspent budget went back to issuance"


async def settle(principal: Principal, data: SettlementForm) -> str:
    statement = await settle_period(principal, shop_id=data.shop_id, period=data.period)
    return f"已结算 · Settled {statement.period}: {statement.order_count} orders, net {statement.net} points"


async def change_item(principal: Principal, data: ItemForm) -> str:
    # The item as the operator may change it (the policy decides), then the
    # service's full update with only these three settings changed.
    item = await managed_item(principal, data.item_id)
    draft = ItemDraft(
        name_zh=item.name_zh,
        name_en=item.name_en,
        description_zh=item.description_zh,
        description_en=item.description_en,
        category=item.category,
        price=parse_amount(data.price, field="price"),
        stock=data.stock,
        limit_count=item.limit_count,
        limit_period=item.limit_period,
        available_from=item.available_from,
        available_until=item.available_until,
        active=data.active,
        shop_ids=[shop.id for shop in item.shops],
    )
    updated = await update_item(principal, data.item_id, draft)
    stock = "不限 unlimited" if updated.stock is None else str(updated.stock)
    return f"已更新 · Updated item {updated.id}: price {updated.price}, stock {stock}"


async def unlock(principal: Principal, data: UnlockForm, redis: Redis) -> str:
    cleared = await unlock_phone(principal, data.phone, clear=lockout_clearer(redis, get_settings()))
    return f"已解锁 · Unlocked ({cleared} counter(s) cleared)"


def console_forms() -> list[FormConfig]:
    """The forms, in the order the console lists them."""

    def form(
        name: str, model: type[BaseModel], action: Action | RedisAction, group: str, description: str
    ) -> FormConfig:
        config = FormConfig(
            name=name,
            pydantic_model=model,
            endpoint=operator_endpoint(action, uses_redis=action is unlock),  # type: ignore[arg-type]
            description=description,
            form_group=group,
        )
        # piccolo derives the URL slug from the name; keep it ASCII (the
        # English half of the name).
        config.slug = "-".join(word for word in name.lower().split() if word.isascii())
        return config

    return [
        form(
            "积分调整 Manual adjustment",
            AdjustmentForm,
            request_adjustment,
            GROUP_POINTS,
            "在两个您管理的账户之间移动积分；总要另一位管理员批准才入账 · "
            "Move points between two accounts you manage; always waits for a second admin",
        ),
        form(
            "批准调整 Approve adjustment",
            AdjustmentDecisionForm,
            approve,
            GROUP_POINTS,
            "批准他人提交的调整（不能批准自己的）· Approve someone else's pending adjustment",
        ),
        form(
            "驳回调整 Reject adjustment",
            AdjustmentRejectionForm,
            reject,
            GROUP_POINTS,
            "驳回待批准的调整并释放冻结积分 · Reject a pending adjustment and release its points",
        ),
        form(
            "解锁手机号 Unlock phone",
            UnlockForm,
            unlock,
            GROUP_MEMBERS,
            "清除该号码的登录和邀请码失败计数 · Clear the phone's failed login and invitation counters",
        ),
        form(
            "重发邀请码 Reissue invitation",
            InvitationForm,
            reissue_invitation,
            GROUP_MEMBERS,
            "生成新邀请码（即重置密码），旧码和登录失效 · A new code (a password reset); older codes and sessions end",
        ),
        form(
            "结束活动 Close campaign",
            CampaignCloseForm,
            close,
            GROUP_OPERATIONS,
            "结束活动并把未用预算退回发行账户 · Close a campaign; its unspent budget returns to issuance",
        ),
        form(
            "商户月结 Settle shop month",
            SettlementForm,
            settle,
            GROUP_OPERATIONS,
            "结算已结束月份的兑换 · Settle a finished month's redemptions of a shop",
        ),
        form(
            "商品价格与库存 Item price and stock",
            ItemForm,
            change_item,
            GROUP_OPERATIONS,
            "修改商品的兑换积分、库存和上架状态 · Change an item's price, stock and whether it is on sale",
        ),
    ]
