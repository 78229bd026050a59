"""Chinese first, English on request (``Accept-Language: en``)."""

from __future__ import annotations

from litestar.connection import ASGIConnection

TITLES: dict[str, tuple[str, str]] = {
    "validation_error": ("请求参数有误", "Invalid request"),
    "invalid_campaign_data": ("活动信息有误", "Invalid campaign data"),
    "campaign_not_found": ("活动不存在", "Campaign not found"),
    "campaign_closed": ("活动已结束", "The campaign is closed"),
    "default_campaign_exists": ("该组织已有常设活动", "This organisation already has a default campaign"),
    "campaign_not_applicable": ("该活动不适用于此地点或时间", "The campaign does not cover this place or time"),
    "budget_exhausted": ("活动积分预算不足", "The campaign budget is exhausted"),
    "no_issuing_organisation": ("上级没有积分发行组织", "No organisation above issues points"),
    "invalid_activity": ("提交的信息有误", "Invalid activity"),
    "activity_not_found": ("记录不存在", "Activity not found"),
    "activity_overlap": ("时间与已有记录重叠", "Overlaps another activity"),
    "activity_wrong_status": ("当前状态不允许此操作", "Not possible in the current status"),
    "self_verification": ("不能审核自己提交的内容", "You cannot verify your own submission"),
    "not_responsible": ("您不负责该网格", "You hold no post over this grid"),
    "photo_not_found": ("照片不存在，请先上传", "Photo not found; upload it first"),
    "invalid_amount": ("积分数额无效", "Invalid amount"),
    "unbalanced_entry": ("记账分录不平衡", "Unbalanced entry"),
    "invalid_entry": ("记账请求无效", "Invalid ledger request"),
    "account_not_found": ("账户不存在", "Account not found"),
    "account_conflict": ("账户已存在且设置不同", "Account exists with other settings"),
    "insufficient_funds": ("可用积分不足", "Not enough points available"),
    "idempotency_conflict": ("幂等键已用于其他请求", "Idempotency key reused for another request"),
    "entry_not_found": ("记账记录不存在", "Entry not found"),
    "reversal_refused": ("不能冲正该记录", "This entry cannot be reversed"),
    "hold_not_found": ("冻结记录不存在", "Hold not found"),
    "hold_not_active": ("冻结已失效", "Hold is no longer active"),
    "ledger_busy": ("系统繁忙，请稍后再试", "The ledger is busy, try again"),
    "invalid_member_data": ("成员信息有误", "Invalid member data"),
    "phone_taken": ("手机号已注册", "Phone number already registered"),
    "organisation_not_found": ("组织不存在", "Organisation not found"),
    "member_not_found": ("成员不存在", "Member not found"),
    "invalid_role": ("角色无效", "Invalid role"),
    "invalid_organisation_data": ("组织信息有误", "Invalid organisation data"),
    "grant_not_found": ("该成员未担任此岗位", "The member holds no such post here"),
    "invitation_invalid": ("邀请码无效、已使用或已过期", "The invitation code is not valid, used or expired"),
    "invitation_locked": ("邀请码错误次数过多，请稍后再试", "Too many wrong invitation codes, try again later"),
    "wrong_password": ("当前密码不正确", "The current password is not right"),
    "own_account": ("不能对自己的账号执行此操作", "Not on your own account"),
    "outranks_you": ("该成员担任您无权授予的角色", "The member holds a role you could not grant"),
    "team_not_found": ("队伍不存在", "Team not found"),
    "invalid_team_data": ("队伍信息有误", "Invalid team data"),
    "team_membership_refused": ("不能加入或退出该队伍", "Team membership refused"),
    "import_file_invalid": ("导入文件无法读取", "The import file cannot be read"),
    "import_file_too_large": ("导入文件过大", "The import file is too large"),
    "import_rows_invalid": ("导入文件有错误行，未写入任何数据", "The file has bad rows; nothing was written"),
    "import_conflict": ("导入期间数据已变化，未写入，请重试", "Data changed during the import; nothing written, retry"),
    "invalid_catalog_data": ("商品或订单信息有误", "Invalid catalog or order data"),
    "shop_not_found": ("商店不存在", "Shop not found"),
    "item_not_found": ("商品不存在", "Item not found"),
    "item_unavailable": ("该商品暂不可兑换", "This item cannot be redeemed now"),
    "out_of_stock": ("库存不足", "Out of stock"),
    "member_limit_reached": ("已达兑换上限", "Redemption limit reached"),
    "order_not_found": ("订单不存在", "Order not found"),
    "order_not_open": ("订单已关闭", "Order is no longer open"),
    "pickup_code_not_found": ("取货码无效", "Pickup code not valid here"),
    "pickup_throttled": ("取货码错误次数过多，请稍后再试", "Too many wrong pickup codes, try again later"),
    "period_not_closed": ("该结算周期尚未结束", "This period is not over yet"),
    "period_already_settled": ("该周期已结算", "This period is already settled"),
    "return_window_closed": ("已过退货期限（限取货当月）", "Returns are taken only in the month of pickup"),
    "settlement_account_protected": ("商店结算账户不能手工调账", "Shop settlement accounts cannot be adjusted by hand"),
    "self_credit": ("不能给自己的积分账户调账", "You cannot credit your own wallet"),
    "own_adjustment": ("须由另一位组织者或管理员审批", "Another organiser or admin must approve this"),
    "adjustment_not_found": ("调账申请不存在", "Adjustment request not found"),
    "adjustment_not_pending": ("调账申请已处理或已过期", "The adjustment request was already decided or expired"),
    "reversal_owned_by_order": ("该记录属于兑换订单，请通过订单取消或退货处理", "This entry belongs to an order"),
    "reversal_owned_by_activity": ("该记录属于活动积分，请通过驳回处理", "This entry belongs to an activity"),
    "reversal_owned_by_campaign": ("该记录属于活动预算，请通过活动处理", "This entry belongs to a campaign"),
    "reversal_owned_by_settlement": ("该记录属于商店结算，不能冲正", "This entry belongs to a shop settlement"),
    "unauthorized": ("请先登录", "Please log in"),
    "bad_credentials": ("手机号或密码错误", "Wrong phone number or password"),
    "forbidden": ("无权访问", "Not allowed"),
    "not_found": ("未找到", "Not found"),
    "too_many_requests": ("请求过于频繁，请稍后再试", "Too many requests, try again later"),
    "login_locked": ("登录失败次数过多，请稍后再试", "Too many failed logins, try again later"),
    "method_not_allowed": ("不支持该请求方法", "Method not allowed"),
    "idempotency_key_required": ("缺少幂等键", "Idempotency-Key header required"),
    "server_error": ("服务器内部错误", "Internal server error"),
    "http_error": ("请求无法处理", "Request could not be processed"),
}


def wants_english(connection: ASGIConnection) -> bool:  # type: ignore[type-arg]
    header = connection.headers.get("accept-language", "")
    first = header.split(",")[0].strip().lower()
    return first.startswith("en")


def title(code: str, connection: ASGIConnection) -> str:  # type: ignore[type-arg]
    zh, en = TITLES.get(code, TITLES["http_error"])
    return en if wants_english(connection) else zh
