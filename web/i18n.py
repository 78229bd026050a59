"""Every string the pages show, Chinese first, English available.

One catalog (``CATALOG``: key -> (zh, en)); templates call ``t("key")``.
The language is the member's own setting once logged in, otherwise the one
chosen on the login page (``LANGUAGE_COOKIE``), otherwise the browser's
``Accept-Language`` (English only when English comes before any
Chinese), otherwise Chinese. Times are shown in China time, labelled.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

CHINA = ZoneInfo("Asia/Shanghai")
LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
# The language chosen on the login page, for pages shown before logging in.
LANGUAGE_COOKIE = "fengling_lang"
# Elder mode for pages rendered without the member at hand (login, 403, 404): "1" or "0".
ELDER_COOKIE = "fengling_elder"

MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

CATALOG: dict[str, tuple[str, str]] = {
    "app_name": ("风铃", "Fengling"),
    "app_tagline": ("志愿服务积分", "Volunteer points"),
    "nav_home": ("首页", "Home"),
    "nav_statement": ("积分明细", "Statement"),
    # The bottom tab: five tabs share 360 px, in elder mode too.
    "nav_tab_statement": ("明细", "Points"),
    "nav_me": ("我的", "Me"),
    "skip_to_content": ("跳到正文", "Skip to content"),
    "offline_banner": ("网络已断开，显示的是上次的内容", "You are offline; showing what was last loaded"),
    "login_title": ("登录", "Log in"),
    "login_phone": ("手机号", "Phone number"),
    "login_password": ("密码", "Password"),
    "login_submit": ("登录", "Log in"),
    "login_bad_credentials": ("手机号或密码不对", "Wrong phone number or password"),
    "login_locked": ("错误次数过多，请 {minutes} 分钟后再试", "Too many wrong attempts; try again in {minutes} min"),
    "login_rate_limited": ("尝试太频繁，请稍后再试", "Too many attempts; try again shortly"),
    "logout": ("退出登录", "Log out"),
    "logged_out": ("已退出登录（所有设备）", "Logged out (on every device)"),
    "home_title": ("我的积分", "My points"),
    "balance": ("积分余额", "Balance"),
    "available": ("可用积分", "Available"),
    "pending": ("冻结中", "On hold"),
    "pending_hint": ("未完成的订单占用", "for open orders"),
    "pending_review_title": ("待审核", "Pending review"),
    "pending_review_points": ("审核中（暂未入账）", "Under review (not paid yet)"),
    "pending_review_award": ("奖励待审核，暂未入账", "an award, not yet paid"),
    "pending_review_order": ("兑换待审核，积分已冻结", "a redemption, its points held"),
    "pending_review_decides": ("由谁审核", "Who decides"),
    "pending_review_due": ("审核期限", "Decided by"),
    "pending_review_your_objection": ("我的异议", "My objection"),
    "pending_review_object": ("提出异议", "Object"),
    "pending_review_objection_label": ("写给审核人的说明", "A note for the reviewer"),
    "pending_review_send": ("提交异议", "Send"),
    "pending_review_bad_note": ("异议需 1–2000 字", "An objection needs 1-2000 characters"),
    "points_unit": ("分", "pts"),
    "people_unit": ("人", "people"),
    # After a label, before its value: full width in Chinese.
    "colon": ("：", ": "),
    "recent_lines": ("最近 5 条", "Last 5 lines"),
    "see_all": ("查看全部明细", "See the whole statement"),
    "no_wallet": ("您的角色没有积分账户", "Your role has no points wallet"),
    "no_lines": ("还没有积分记录", "No points yet"),
    "read_aloud": ("读给我听", "Read aloud"),
    "statement_title": ("积分明细", "Points statement"),
    "statement_more": ("加载更多", "Load more"),
    "statement_end": ("已经到底了", "That is everything"),
    "print_version": ("打印版（A4 大字）", "Printable (A4, large type)"),
    "print_title": ("积分明细（打印版）", "Points statement (printable)"),
    "print_now": ("打印", "Print"),
    "printed_at": ("打印时间：", "Printed: "),
    "print_truncated": ("只列出最近 {count} 条", "Only the latest {count} lines are listed"),
    "col_time": ("时间", "Time"),
    "col_reason": ("事由", "Reason"),
    "col_amount": ("积分", "Points"),
    "col_balance": ("余额", "Balance"),
    "cause_activity": ("活动记录 #{id}", "Activity #{id}"),
    "cause_service": ("服务记录 #{id}", "Service record #{id}"),
    "cause_patrol": ("巡逻 #{id}", "Patrol #{id}"),
    "cause_report": ("随手报 #{id}", "Report #{id}"),
    "cause_order": ("兑换订单 #{id}", "Order #{id}"),
    "cause_adjustment": ("积分调整 #{id}", "Adjustment #{id}"),
    # The supermarket and orders (web/shop_pages.py).
    "nav_shop": ("超市", "Shop"),
    "shop_title": ("积分超市", "Points supermarket"),
    "shop_available": ("我的可用积分", "My available points"),
    "shop_all": ("全部", "All"),
    "category_daily": ("日用品", "Daily goods"),
    "category_food": ("食品", "Food"),
    "category_household": ("家居", "Household"),
    "category_stationery": ("文具", "Stationery"),
    "category_voucher": ("代金券", "Vouchers"),
    "category_service": ("服务", "Services"),
    "category_other": ("其他", "Other"),
    "shop_categories": ("商品分类", "Categories"),
    "shop_affordable": ("积分够，可以兑换", "You can redeem these"),
    "shop_not_affordable": ("积分还不够", "Not enough points yet"),
    "shop_short_by": ("还差 {points} 分", "{points} pts short"),
    "shop_empty": ("这里还没有商品", "Nothing here yet"),
    "shop_more": ("更多商品", "More items"),
    "shop_my_orders": ("我的订单", "My orders"),
    "item_price": ("所需积分", "Price"),
    "item_stock": ("库存", "In stock"),
    "item_stock_unlimited": ("充足", "Plenty"),
    "item_limit_day": ("每人每天限 {count} 件", "At most {count} per person a day"),
    "item_limit_week": ("每人每周限 {count} 件", "At most {count} per person a week"),
    "item_limit_month": ("每人每月限 {count} 件", "At most {count} per person a month"),
    "item_limit_year": ("每人每年限 {count} 件", "At most {count} per person a year"),
    "item_shop": ("领取地点", "Pick up at"),
    "item_quantity": ("数量", "Quantity"),
    "item_redeem": ("兑换", "Redeem"),
    "item_redeem_note": (
        "兑换后积分先冻结，到店出示取货码领取；{days} 天内未领取自动退回",
        "Points are held until you show the pickup code at the shop; unclaimed after {days} days they come back",
    ),
    "item_back": ("回到积分超市", "Back to the shop"),
    "redeem_insufficient": ("可用积分不够", "Not enough available points"),
    "redeem_unavailable": ("这件商品现在不能兑换", "This item cannot be redeemed now"),
    "redeem_out_of_stock": ("库存不足", "Not enough in stock"),
    "redeem_limit": ("已达到每人限兑数量", "You have reached the limit for this item"),
    "redeem_bad_request": ("请选择领取地点和数量（1–{max} 件）", "Choose a pickup place and a quantity (1–{max})"),
    "redeem_retry": ("请求已过期，请重新点击兑换", "That request expired; tap redeem again"),
    "orders_title": ("我的订单", "My orders"),
    "orders_empty": ("还没有兑换订单", "No orders yet"),
    "orders_more": ("更多订单", "More orders"),
    "order_title": ("兑换订单 #{id}", "Order #{id}"),
    "order_placed": ("兑换成功！到店出示取货码", "Redeemed! Show the pickup code at the shop"),
    "order_cancelled_notice": ("订单已取消，积分已退回", "Order cancelled; the points are back"),
    "order_code": ("取货码", "Pickup code"),
    "order_qr": ("取货码二维码", "Pickup code QR"),
    "order_qr_hint": ("请店员扫码或输入取货码", "Let the shop scan this or type the code"),
    "order_item": ("商品", "Item"),
    "order_quantity": ("数量", "Quantity"),
    "order_total": ("积分", "Points"),
    "order_shop": ("领取地点", "Pick up at"),
    "order_placed_at": ("下单时间", "Ordered"),
    "order_expires_at": ("请在此时间前领取", "Pick up before"),
    "order_pick_up_by": ("请在 {when} 前领取", "Pick up before {when}"),
    "order_fulfilled_at": ("领取时间", "Picked up"),
    "order_closed_at": ("关闭时间", "Closed"),
    "order_returned_at": ("退货时间", "Returned"),
    "order_status": ("状态", "Status"),
    "status_placed": ("待领取", "Waiting for pickup"),
    "status_fulfilled": ("已领取", "Picked up"),
    "status_cancelled": ("已取消", "Cancelled"),
    "status_expired": ("已过期", "Expired"),
    "status_returned": ("已退货", "Returned"),
    "order_cancel": ("取消订单", "Cancel order"),
    "order_cancel_note": ("取消后积分马上退回", "Cancelling returns the points at once"),
    "order_not_open": ("订单已不能取消", "This order can no longer be cancelled"),
    "order_all": ("全部订单", "All orders"),
    # An activity a statement line links to (web/activity_pages.py).
    "activity_title_service": ("服务记录 #{id}", "Service record #{id}"),
    "activity_title_patrol": ("巡逻 #{id}", "Patrol #{id}"),
    "activity_title_report": ("随手报 #{id}", "Report #{id}"),
    "activity_what": ("内容", "What"),
    "activity_started": ("开始", "Started"),
    "activity_ended": ("结束", "Ended"),
    "activity_minutes": ("时长（分钟）", "Minutes"),
    "activity_points": ("获得积分", "Points awarded"),
    "activity_status": ("状态", "Status"),
    "activity_rejection": ("未通过原因", "Reason for rejection"),
    "activity_feedback": ("处理反馈", "Feedback"),
    # 我的星级与徽章 (web/recognition_pages.py).
    "recog_title": ("我的星级与徽章", "My stars and badges"),
    "recog_level": ("我的星级", "My star level"),
    "recog_stars": ("{stars} 星（共 {out_of} 星）", "{stars} of {out_of} stars"),
    "recog_earned": ("累计获得积分", "Points earned in all"),
    "recog_hours": ("审核通过的服务时长", "Verified service hours"),
    "recog_hours_value": ("{hours} 小时", "{hours} h"),
    "recog_next": (
        "再得 {points} 积分、再服务 {hours} 小时，升到 {stars} 星",
        "{points} more points and {hours} more hours to {stars} stars",
    ),
    "recog_next_points": ("再得 {points} 积分，升到 {stars} 星", "{points} more points to {stars} stars"),
    "recog_next_hours": ("再服务 {hours} 小时，升到 {stars} 星", "{hours} more hours of service to {stars} stars"),
    "recog_top": ("已是最高星级，谢谢您！", "The highest level. Thank you!"),
    "recog_spending_note": ("兑换商品花掉积分，星级不会降低", "Spending points in the shop never lowers your level"),
    "recog_badges": ("我的徽章", "My badges"),
    "recog_no_badges": ("还没有徽章，完成下面的任何一项就能得到", "No badges yet: any of those below earns one"),
    "recog_earned_on": ("{when} 获得", "Earned {when}"),
    "recog_by_activity": ("查看获得它的记录", "See what earned it"),
    "recog_by_season": ("{name} 第 {rank} 名", "{name}: No. {rank}"),
    "recog_not_yet": ("还没得到的徽章", "Badges still to earn"),
    "recog_not_yet_tag": ("未获得", "not yet"),
    "recog_how": ("怎样获得：{how}", "How: {how}"),
    "nav_recognition": ("星级与徽章", "Stars and badges"),
    # The ranking page (web/ranking_pages.py).
    "nav_ranking": ("排行榜", "Ranking"),
    "ranking_title": ("排行榜", "Ranking"),
    "ranking_scope": ("范围", "Where"),
    "ranking_scope_label": ("范围：", "Where: "),
    "ranking_grid": ("我的网格", "My grid"),
    "ranking_community": ("我的社区", "My community"),
    "ranking_team": ("队伍：{name}", "Team: {name}"),
    "ranking_period": ("时间", "When"),
    "ranking_period_label": ("时间：", "When: "),
    "ranking_week": ("本周", "This week"),
    "ranking_month": ("本月", "This month"),
    "ranking_season": ("本赛季", "This season"),
    "ranking_season_name": ("{name}（{first} 至 {last}）", "{name} ({first} to {last})"),
    "ranking_my_rank": ("我的名次", "My rank"),
    "ranking_size": ("共 {size} 人上榜", "{size} on the board"),
    "ranking_unranked": ("还没有上榜", "Not on the board yet"),
    "ranking_hidden": ("您已选择不上榜，积分照常累计", "You chose not to be ranked; your points still count"),
    # The member's points on this board for the chosen period: what they earned
    # there, not their wallet balance (spending never lowers a board).
    "ranking_my_points_week": ("本周排行积分", "My ranking points this week"),
    "ranking_my_points_month": ("本月排行积分", "My ranking points this month"),
    "ranking_my_points_season": ("本赛季排行积分", "My ranking points this season"),
    "ranking_points_hint": ("只算挣到的，不是余额", "Points earned; not your balance"),
    "ranking_points_column": ("排行积分", "Ranking points"),
    "ranking_neighbours": ("我和前后的人", "Me and my neighbours"),
    "ranking_top": ("前几名", "Top"),
    "ranking_empty": ("这里还没有人上榜", "Nobody is on this board yet"),
    "ranking_me": ("（我）", "(me)"),
    "ranking_week_vs_last": ("本周比上周", "This week vs last"),
    "ranking_this_week": ("本周", "This week"),
    "ranking_last_week": ("上周", "Last week"),
    "ranking_no_rank": ("未上榜", "not ranked"),
    "ranking_rank_short": ("第 {rank} 名", "No. {rank}"),
    "ranking_as_of": ("更新于", "As of"),
    "ranking_privacy": ("名字只显示一部分，保护隐私", "Names are partly hidden for privacy"),
    "me_ranking": ("排行榜显示", "On the rankings"),
    "visibility_masked": ("显示部分名字（如 张*英）", "Partly hidden name (e.g. Z*** Y***)"),
    "visibility_full_name": ("显示全名", "Full name"),
    "visibility_hidden": ("不上榜（积分照常累计）", "Not ranked (points still count)"),
    "me_bad_visibility": ("请选择一种排行榜显示方式", "Choose how you appear on the rankings"),
    "ranking_saved": ("排行榜显示已保存", "Ranking choice saved"),
    "lang_choose": ("语言 Language", "Language 语言"),
    "error_bad_request": ("填写的内容有误，请检查后重试", "Something in the form is not right; check and try again"),
    "me_title": ("我的", "Me"),
    "me_name": ("姓名", "Name"),
    "me_phone": ("手机号", "Phone"),
    "me_grid": ("所在网格", "Grid"),
    "me_teams": ("所在队伍", "Teams"),
    "me_no_teams": ("未加入队伍", "No team"),
    "me_display": ("显示设置", "Display"),
    "me_language": ("语言", "Language"),
    "me_elder_mode": ("长辈模式（大字、大按钮）", "Elder mode (large text and buttons)"),
    "me_elder_on": ("开启", "On"),
    "me_elder_off": ("关闭", "Off"),
    # Elder mode on the login page, for this phone before anyone logs in:
    # the state in words, and one button for the change.
    "elder_state_on": ("长辈模式：已开启", "Elder mode: on"),
    "elder_state_off": ("长辈模式：已关闭", "Elder mode: off"),
    "elder_turn_on": ("开启长辈模式", "Turn elder mode on"),
    "elder_turn_off": ("关闭长辈模式", "Turn elder mode off"),
    "login_forgot": ("忘记密码？请联系社区工作人员重置", "Forgot your password? Ask your community staff to reset it"),
    "me_save": ("保存", "Save"),
    "me_bad_language": ("请选择中文或 English", "Choose 中文 or English"),
    "me_saved": ("已保存", "Saved"),
    "lang_zh": ("中文", "中文 Chinese"),
    "lang_en": ("English 英文", "English"),
    "password_title": ("修改密码", "Change password"),
    "password_current": ("当前密码", "Current password"),
    "password_new": ("新密码（至少 {min} 位）", "New password (at least {min} characters)"),
    "password_submit": ("修改密码", "Change password"),
    "password_changed": ("密码已修改，其他设备已退出登录", "Password changed; other devices are logged out"),
    "password_wrong": ("当前密码不正确", "The current password is not right"),
    "password_too_short": ("新密码太短或太常见", "The new password is too short or too common"),
    "error_title": ("出错了", "Something went wrong"),
    # A form sent without its CSRF token (an old page, a lost cookie).
    "error_csrf": ("请求无法验证，请刷新页面后重试", "The request could not be verified; reload and try again"),
    # A page or action the reader's roles do not allow.
    "error_forbidden": (
        "您没有权限打开这个页面，如有疑问请联系社区工作人员",
        "You do not have permission to open this page; if in doubt, ask your community staff",
    ),
    "error_forbidden_action": (
        "您没有权限做这项操作，如有疑问请联系社区工作人员",
        "You do not have permission to do this; if in doubt, ask your community staff",
    ),
    "error_not_found": ("页面不存在", "Page not found"),
    "back_home": ("回到首页", "Back to home"),
    "china_time": ("北京时间", "China time"),
    "nav_earn": ("挣积分", "Earn"),
    "balance_as_of": ("离线中：这是 {when} 时的余额", "Offline: the balance as of {when}"),
    "earn_title": ("挣积分", "Earn points"),
    "earn_report": ("随手报", "Report"),
    "earn_patrol": ("巡逻", "Patrol"),
    "earn_service": ("志愿服务", "Service log"),
    "earn_mine": ("我的提交", "My submissions"),
    "earn_submit": ("提交", "Submit"),
    "earn_sent": ("已提交，等待审核", "Sent; waiting for review"),
    "earn_rated": ("谢谢您的评价", "Thank you for your rating"),
    "earn_refused": ("没有提交成功：{reason}", "Not sent: {reason}"),
    "earn_none": ("还没有提交过", "Nothing submitted yet"),
    "service_what": ("做了什么", "What you did"),
    "service_team": ("队伍", "Team"),
    "service_no_team": ("不属于队伍活动", "Not with a team"),
    "service_start": ("开始时间", "Started"),
    "service_end": ("结束时间", "Ended"),
    "patrol_needs_script": (
        "巡逻需要手机定位，请允许本页使用位置。",
        "Patrols need the phone's position; allow this page to use it.",
    ),
    "patrol_idle": ("现在没有在巡逻", "Not on patrol"),
    "patrol_walking": ("正在巡逻，开始于", "On patrol since"),
    "patrol_check_in": ("巡逻签到", "Check in"),
    "patrol_check_out": ("巡逻签退", "Check out"),
    "patrol_point": ("巡逻位置", "Patrol position"),
    "patrol_point_now": ("记录当前位置", "Record my position now"),
    "patrol_points_auto": (
        "本页开着时，每分钟自动记录一次位置。",
        "While this page is open, your position is recorded every minute.",
    ),
    "patrol_task_linked": ("本次巡逻计入任务：", "This patrol counts for the task: "),
    "patrol_task_pick": ("本次巡逻计入哪个任务？", "Which task does this patrol count for?"),
    "patrol_task_none": ("不计入任务（自由巡逻）", "No task (a free patrol)"),
    "patrol_tasks_link": ("巡逻任务 · 抢单", "Patrol tasks · grab a slot"),
    "tasks_title": ("巡逻任务 · 抢单", "Patrol tasks"),
    "tasks_intro": (
        "抢到名额后，在任务时间内到“巡逻”页签到，这次巡逻就计入任务。",
        "Grab a slot, then check in on the Patrol page during the task's time: that patrol counts for the task.",
    ),
    "tasks_mine": ("我抢到的任务", "My tasks"),
    "tasks_mine_none": ("还没有抢到任务。", "You have not grabbed a task yet."),
    "tasks_open": ("可以抢的任务", "Tasks you can grab"),
    "tasks_open_none": (
        "附近暂时没有可以抢的巡逻任务。过几天再来看看。",
        "No patrol tasks near you to grab right now. Look again in a few days.",
    ),
    "task_time": ("时间", "When"),
    "task_area": ("地点 / 路线", "Where"),
    "task_slots": ("名额", "Slots"),
    "task_slots_left": ("还剩 {left} 个（共 {total} 个）", "{left} left of {total}"),
    "task_points": ("积分", "Points"),
    "task_multiplier": ("× {multiplier} 倍", "× {multiplier}"),
    "task_my_status": ("我的状态", "Me"),
    "task_status_none": ("还没抢", "Not grabbed"),
    "task_status_claimed": ("已抢到，等签到", "Grabbed; check in on time"),
    "task_status_checked_in": ("已签到巡逻", "Checked in"),
    "task_claim": ("抢单", "Grab a slot"),
    "task_release": ("取消抢单", "Give the slot back"),
    "task_release_hint": (
        "任务开始前可以取消，名额会留给别人。",
        "Until it starts you can give the slot back for someone else.",
    ),
    "task_go_check_in": ("去巡逻签到", "Go and check in"),
    "task_claimed": (
        "抢到了！请在任务时间内到“巡逻”页签到。",
        "Got it! Check in on the Patrol page during the task's time.",
    ),
    "task_released": ("已取消，名额留给别人了。", "Given back; the slot is free for someone else."),
    "task_full": ("名额已满：这个任务已经被抢完了。", "Full: every slot of this task is taken."),
    "task_closed": ("这个任务的时间已经过了（任务已结束）。", "This task's time has passed; it is over."),
    "task_already_claimed": ("您已经抢到这个任务了，不用再抢。", "You already hold a slot of this task."),
    "task_not_grab_order": (
        "这个任务不用抢单，直接去“巡逻”页签到就行。",
        "This task has no slots; just check in on the Patrol page.",
    ),
    "claim_not_releasable": (
        "任务已经开始，不能取消了。",
        "The task has started; the slot can no longer be given back.",
    ),
    "task_not_claimed": (
        "您没有抢到这个任务，这次巡逻不能计入它。",
        "You hold no slot of this task; this patrol cannot count for it.",
    ),
    "task_not_started": (
        "任务还没开始：开始前半小时内才能签到。",
        "The task has not started: check in from half an hour before.",
    ),
    "task_not_yours": ("这个任务只给本片区的志愿者。", "This task is for volunteers of its own area."),
    "task_refused": ("没有成功，请稍后再试。", "That did not work; try again shortly."),
    "report_kind": ("上报什么", "What to report"),
    "report_photo": ("拍照（可选）", "Photo (optional)"),
    "report_text": ("简单说说", "A few words"),
    "position_locating": ("正在定位…", "Finding your position…"),
    "position_found": ("已定位", "Position found"),
    "position_none": ("定位不到，请打开手机定位后再试", "No position; turn on location and try again"),
    "photo_preview": ("要上传的照片", "The photo to upload"),
    "photo_ready": ("照片已压缩：{kb} KB", "Photo shrunk to {kb} KB"),
    "kind_service": ("志愿服务", "Service"),
    "kind_patrol": ("巡逻", "Patrol"),
    "kind_report": ("随手报", "Report"),
    # An activity's status, the one set of words for it: 我的提交, the activity
    # page and the dashboard (reporting.figures.STATUS_WORDS says the same).
    "status_checked_in": ("巡逻中", "On patrol"),
    "status_submitted": ("已提交，待审核", "Submitted, awaiting review"),
    "status_held": ("复核中", "Under a second review"),
    "status_verified": ("审核通过", "Approved"),
    "status_rejected": ("未通过", "Not approved"),
    "status_assigned": ("处理中", "Being handled"),
    "status_handled": ("已处理", "Handled"),
    "status_closed": ("已处理，已评价", "Handled and rated"),
    # What a 随手报 is about (the picture buttons, 我的提交).
    "report_kind_hazard": ("隐患", "Hazard"),
    "report_kind_tip": ("线索", "Tip"),
    "report_kind_dispute": ("纠纷", "Dispute"),
    "report_kind_snap": ("其他情况", "Something else"),
    "minutes": ("{n} 分钟", "{n} min"),
    "rejected_because": ("原因：", "Reason: "),
    "feedback": ("处理结果：", "Outcome: "),
    "your_rating": ("您的评价：{n} 星", "Your rating: {n} stars"),
    "rate_legend": ("给处理结果打分", "Rate how it was handled"),
    "stars": ("{n} 星", "{n} stars"),
    "rate_submit": ("提交评价", "Send rating"),
    "outbox_pending": ("{n} 条记录保存在手机里，还没传上去", "{n} records saved on the phone, not yet uploaded"),
    "outbox_last": ("上次上传成功：{when}", "Last successful upload: {when}"),
    "outbox_never": ("这台手机还没有上传成功过", "Nothing uploaded from this phone yet"),
    "outbox_sending": ("正在上传…", "Uploading…"),
    "outbox_login": (
        "登录已过期，请重新登录后再上传；记录仍保存在手机里",
        "Your login has expired; log in again to upload. The records stay on the phone",
    ),
    "outbox_warning": (
        "上传完成前，请不要清理浏览器数据或缓存，否则这些记录会丢失。",
        "Until they are uploaded, do not clear the browser's data or cache, or these records are lost.",
    ),
    "outbox_sync": ("现在上传", "Upload now"),
    "outbox_attention": ("需要您处理", "Needs attention"),
    "outbox_discard": ("删掉这条", "Discard"),
    "outbox_queued": ("已保存在手机里，有网络时自动上传", "Saved on the phone; it uploads when there is a connection"),
    "outbox_point_queued": ("位置已记录", "Position recorded"),
    "form_required": ("请填写这一项", "Please fill this in"),
    "form_too_long": ("内容太长了", "That is too long"),
    "form_bad_time": ("时间格式不对", "That time cannot be read"),
    "form_no_position": (
        "没有拿到手机的位置，请打开定位后再试",
        "No position from the phone; turn on location and try again",
    ),
    "form_bad_choice": ("请从列表里选择", "Choose from the list"),
    "form_no_patrol": ("找不到这次巡逻", "That patrol cannot be found"),
    "form_pick_kind": ("请选择上报的类别", "Choose what you are reporting"),
    "form_pick_rating": ("请选择 1 到 5 星", "Choose 1 to 5 stars"),
    "form_bad_photo": ("照片无法读取，请换一张（JPG、PNG）", "The photo cannot be read; try another (JPG, PNG)"),
    # --- the shop counter (/counter) ---
    "counter_title": ("柜台核销", "Counter"),
    "counter_choose": ("选择您所在的店", "Choose your shop"),
    "counter_code_label": ("取货码（8 位）", "Pickup code (8 characters)"),
    "counter_code_hint": (
        "大小写、空格、短横线都可以。取货码里没有 0、O、1、I、L",
        "Any case; spaces and dashes are fine. Codes never contain 0, O, 1, I or L",
    ),
    "counter_look_up": ("查找订单", "Look up"),
    "counter_code_empty": ("请输入取货码", "Type the pickup code"),
    "counter_code_ambiguous": (
        "取货码里没有 0、O、1、I、L：请看清楚，可能是 2–9 的数字或其他字母",
        "Codes never contain 0, O, 1, I or L: look again (a digit 2-9 or another letter)",
    ),
    "counter_code_invalid": ("取货码只有数字 2–9 和字母", "A code has only the digits 2-9 and letters"),
    "counter_code_length": ("取货码是 8 位", "A code has 8 characters"),
    "counter_code_not_found": (
        "没有找到这个取货码的待取订单。还可以再试 {tries} 次",
        "No open order with this code here. {tries} tries left",
    ),
    "counter_code_not_found_slowed": (
        "没有找到这个取货码的待取订单。错误太多，柜台已放慢：每 5 秒可查一次",
        "No open order with this code here. Too many wrong codes: one lookup every 5 seconds",
    ),
    "counter_slowed": ("错误太多，柜台已放慢：请 {wait} 秒后再查", "Too many wrong codes: look up again in {wait} s"),
    "counter_not_open": (
        "这个订单已经不能交付（已领取、已取消或已过期）",
        "This order can no longer be handed over (picked up, cancelled or expired)",
    ),
    "counter_check": ("请核对后交付", "Check, then hand over"),
    "counter_member": ("会员", "Member"),
    "counter_issued_at": ("二维码生成时间", "QR made"),
    "counter_confirm": ("确认交付", "Confirm hand-over"),
    "counter_done": ("已交付：{item} ×{quantity}", "Handed over: {item} x{quantity}"),
    "counter_today": ("今天（北京时间）", "Today (China time)"),
    "counter_today_pickups": ("今天已交付", "Handed over today"),
    "counter_today_returns": ("今天的退货", "Returns today"),
    "counter_none": ("还没有", "None yet"),
    "counter_return": ("退货", "Take back"),
    "counter_return_reason_label": ("退货原因", "Reason"),
    "counter_return_restock": ("商品已退回，放回库存", "The item came back: restock it"),
    "counter_return_reason": ("请写退货原因（1–300 字）", "Give a reason (1-300 characters)"),
    "counter_return_refused": ("这个订单不能退货", "This order cannot be taken back"),
    "counter_return_closed": (
        "只能在领取当月、结算之前退货；之后请联系组织者调整",
        "Returns only in the month of pickup, before settlement; after that ask an organiser",
    ),
    "counter_returned": ("已退货，积分已退回会员", "Taken back; the points went back to the member"),
    "counter_statement": ("本月对账单", "This month's statement"),
    "counter_statement_title": ("{period} 对账单", "Statement {period}"),
    "counter_statement_csv": ("下载本表（CSV，可用 Excel 打开）", "Download this table (CSV, opens in Excel)"),
    "counter_statement_redeemed": ("兑出积分", "Redeemed"),
    "counter_statement_returned": ("退回积分", "Returned"),
    "counter_statement_net": ("应结算积分", "Points to settle"),
    "counter_statement_previous": ("‹ 上个月", "‹ Previous month"),
    "counter_statement_next": ("下个月 ›", "Next month ›"),
    "counter_statement_settled": ("已结算", "Settled"),
    "counter_statement_open": ("未结算", "Not settled"),
    "counter_back": ("回到柜台", "Back to the counter"),
    "counter_scan": ("扫码", "Scan"),
    "counter_scan_camera": ("打开相机扫码", "Scan with the camera"),
    "counter_scan_stop": ("关闭相机", "Stop the camera"),
    "counter_scan_photo": ("拍照识别二维码", "Take a photo of the QR"),
    "counter_scan_offline_note": (
        "扫码在断网时也能核对：确认后先存在本机，联网后自动上传",
        "Scanning works offline: a hand-over is kept on this device and uploaded when online",
    ),
    "counter_scan_none": ("没有识别到二维码，请再拍一次", "No QR code found; try again"),
    "counter_scan_camera_none": ("无法打开相机，请用拍照识别", "The camera cannot be opened; take a photo instead"),
    "counter_verified": ("二维码有效", "Valid QR"),
    "counter_queued": ("已记录，正在上传", "Recorded; uploading"),
    "counter_token_malformed": ("这不是风铃的取货二维码", "This is not a Fengling pickup QR"),
    "counter_token_unknown_key": (
        "无法核对此二维码，请连上网络刷新本页再扫",
        "This QR cannot be checked: connect to the internet, reload this page and scan again",
    ),
    "counter_token_bad_signature": (
        "二维码被改动过，签名不符：不要交付",
        "The QR was altered and its signature does not match: do not hand over",
    ),
    "counter_token_expired": ("二维码已过期：订单已过领取期限", "The QR has expired: the pickup deadline passed"),
    "counter_token_other_shop": ("这是别家店的订单：不要交付", "This order is for another shop: do not hand over"),
    "counter_conflict_picked_up_elsewhere": (
        "冲突：订单 {order} 已在其他设备交付，本次未记账（冲突 #{id}）",
        "Conflict: order {order} was already handed over on another device; nothing posted (conflict #{id})",
    ),
    "counter_conflict_cancelled": (
        "冲突：订单 {order} 已被会员取消，本次未记账（冲突 #{id}）",
        "Conflict: order {order} was cancelled by the member; nothing posted (conflict #{id})",
    ),
    "counter_conflict_expired": (
        "冲突：订单 {order} 已过期，本次未记账（冲突 #{id}）",
        "Conflict: order {order} expired; nothing posted (conflict #{id})",
    ),
    "counter_conflict_held_for_review": (
        "冲突：订单 {order} 正在审核中，暂不能交付，本次未记账（冲突 #{id}）",
        "Conflict: order {order} is held for review and cannot be handed over; nothing posted (conflict #{id})",
    ),
    "counter_conflict_rejected": (
        "冲突：订单 {order} 审核未通过，本次未记账（冲突 #{id}）",
        "Conflict: order {order} was rejected on review; nothing posted (conflict #{id})",
    ),
    "outbox_kind_pickup": ("扫码交付", "Scanned hand-over"),
    # The organiser dashboard and its printable monthly report (web/dashboard_pages.py).
    "dashboard_title": ("数据看板", "Dashboard"),
    "dashboard_node": ("查看范围", "Area"),
    "dashboard_from": ("开始日期", "From"),
    "dashboard_to": ("结束日期", "To"),
    "dashboard_show": ("查看", "Show"),
    "dashboard_preset_week": ("本周", "This week"),
    "dashboard_preset_month": ("本月", "This month"),
    "dashboard_preset_quarter": ("本季度", "This quarter"),
    "dashboard_china_time": ("日期按北京时间", "Days in China time"),
    "dashboard_date_format": ("日期格式：年-月-日，如 2026-11-01", "Dates as year-month-day, e.g. 2026-11-01"),
    "dashboard_pick_date": ("选日期", "Pick a date"),
    "dashboard_bad_date": (
        "日期看不懂，请按 年-月-日 填写（如 2026-11-01）；已显示本月",
        "A date could not be read; write it as year-month-day (e.g. 2026-11-01). Showing this month",
    ),
    "dashboard_xlsx": ("下载 Excel（全部图表）", "Download Excel (every figure)"),
    "dashboard_csv": ("下载全部图表（CSV，可用 Excel 打开）", "Download every figure (CSV, opens in Excel)"),
    "dashboard_figure_csv": ("下载本表（CSV，可用 Excel 打开）", "Download this table (CSV, opens in Excel)"),
    "dashboard_report_link": ("{month}工作月报（打印）", "Monthly report, {month} (print)"),
    "dashboard_table": ("数据表", "Data table"),
    "dashboard_no_data": ("本时段暂无数据", "No data for this period"),
    # A figure of the state now (marked 当前), not of the period, with nothing in it.
    "dashboard_none_overdue": ("目前没有超期事项", "Nothing is overdue right now"),
    "dashboard_none_budgets": ("目前没有活动项目预算", "No campaign budgets right now"),
    # Figures of the state now, apart from the period's: they do not follow the dates.
    "dashboard_now_title": ("当前状态（{when}）", "Right now ({when})"),
    "dashboard_now_note": (
        "这几项是现在的实时数字，不随上面选的日期变化",
        "These are live figures of now; the dates above do not change them",
    ),
    "dashboard_bad_period": (
        "日期有误（开始不能晚于结束，最长一年），已显示本月",
        "Invalid dates (from after to, or over a year); showing this month",
    ),
    "report_title": ("{month}工作月报", "Monthly report, {month}"),
    "report_month_figures": ("{month}的统计", "Figures for {month}"),
    "report_now_title": ("打印时的状态（{when}）", "State when printed ({when})"),
    "report_now_note": (
        "以下是打印时的实时数字，不是{month}的统计",
        "Live figures at the time of printing, not figures for {month}",
    ),
    "report_period": ("统计时段：", "Period: "),
    "report_prepared_by": ("填报人：", "Prepared by: "),
    "report_signature": ("社区书记签字：", "Community secretary: "),
    "report_date": ("日期：", "Date: "),
}


def translate(language: str, key: str, **values: object) -> str:
    zh, en = CATALOG[key]
    text = en if language == "en" else zh
    return text.format(**values) if values else text


def translator(language: str) -> Callable[..., str]:
    """The templates' ``t()``: a value already marked up (a time from
    ``when``) stays markup, and the catalog's words around it are escaped."""

    def t(key: str, **values: object) -> str:
        if any(isinstance(value, Markup) for value in values.values()):
            zh, en = CATALOG[key]
            return escape(en if language == "en" else zh).format(**values)
        return translate(language, key, **values)

    return t


def language_from_accept(header: str | None) -> str:
    """``zh`` unless the browser ranks English above every Chinese tag."""
    if not header:
        return DEFAULT_LANGUAGE
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


def china_time(moment: datetime, language: str, *, now: datetime | None = None, with_year: bool = False) -> str:
    """``11月30日 18:05 北京时间`` / ``30 Nov 18:05 China time``; the year
    is shown when it is not the current China-time year (``now``), or
    always ``with_year`` (paper outlives the year it was printed in)."""
    local = moment.astimezone(CHINA)
    this_year = (now or datetime.now(CHINA)).astimezone(CHINA).year
    show_year = with_year or local.year != this_year
    if language == "en":
        year = f" {local.year}" if show_year else ""
        return f"{local.day} {MONTHS_EN[local.month - 1]}{year} {local:%H:%M} China time"
    prefix = f"{local.year}年" if show_year else ""
    return f"{prefix}{local.month}月{local.day}日 {local:%H:%M} 北京时间"


def unbroken_time(text: str, language: str) -> Markup:
    """A China time for a page, its label kept on one line (``北京时间`` never
    breaks into 北 / 京时间 in a narrow column: ``span.tz`` is ``nowrap``)."""
    label = "China time" if language == "en" else "北京时间"
    if not text.endswith(label):
        return escape(text)
    return Markup("{}<span class='tz'>{}</span>").format(text.removesuffix(label), label)


def china_window(starts: datetime, ends: datetime, language: str, *, now: datetime | None = None) -> str:
    """A task's time window in China time, labelled once:
    ``12月2日 19:00–21:00 北京时间``; across midnight both dates are shown."""
    start, end = starts.astimezone(CHINA), ends.astimezone(CHINA)
    label = "China time" if language == "en" else "北京时间"
    first = china_time(starts, language, now=now).removesuffix(f" {label}")
    if start.date() == end.date():
        return f"{first}–{end:%H:%M} {label}"
    return f"{first} – {china_time(ends, language, now=now)}"


def month_words(month: str, language: str) -> str:
    """A ``YYYY-MM`` month as read: ``2026年12月`` / ``Dec 2026``; anything
    else is shown as it is."""
    year, _, number = month.partition("-")
    if not (year.isdigit() and number.isdigit() and 1 <= int(number) <= 12):
        return month
    if language == "en":
        return f"{MONTHS_EN[int(number) - 1]} {year}"
    return f"{year}年{int(number)}月"


def points(amount: Decimal) -> str:
    """Points as shown: thousands grouped, two places, a sign on debits."""
    return f"{amount:,.2f}"


def signed_points(amount: Decimal) -> str:
    return f"+{amount:,.2f}" if amount > 0 else f"{amount:,.2f}"
