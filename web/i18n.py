"""Every string the pages show, Chinese first, English available.

One catalog (``CATALOG``: key -> (zh, en)); templates call ``t("key")``.
The language is the member's own setting once logged in, otherwise the
browser's ``Accept-Language`` (English only when English comes before any
Chinese), otherwise Chinese. Times are shown in China time, labelled.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

CATALOG: dict[str, tuple[str, str]] = {
    "app_name": ("风铃", "Fengling"),
    "app_tagline": ("志愿服务积分", "Volunteer points"),
    "nav_home": ("首页", "Home"),
    "nav_statement": ("积分明细", "Statement"),
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
    "pending": ("冻结中（未完成的订单）", "Pending (open orders)"),
    "points_unit": ("分", "pts"),
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
    "printed_at": ("打印时间", "Printed"),
    "print_truncated": ("只列出最近 {count} 条", "Only the latest {count} lines are listed"),
    "col_time": ("时间", "Time"),
    "col_reason": ("事由", "Reason"),
    "col_amount": ("积分", "Points"),
    "col_balance": ("余额", "Balance"),
    "cause_activity": ("服务记录 #{id}", "Activity #{id}"),
    "cause_order": ("兑换订单 #{id}", "Order #{id}"),
    "me_title": ("我的", "Me"),
    "me_name": ("姓名", "Name"),
    "me_phone": ("手机号", "Phone"),
    "me_grid": ("所在网格", "Grid"),
    "me_teams": ("所在队伍", "Teams"),
    "me_no_teams": ("未加入队伍", "No team"),
    "me_display": ("显示设置", "Display"),
    "me_language": ("语言", "Language"),
    "me_elder_mode": ("长辈模式（大字、大按钮）", "Elder mode (large text and buttons)"),
    "me_elder_on": ("已开启", "On"),
    "me_elder_off": ("已关闭", "Off"),
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
    "error_forbidden": ("请求无法验证，请刷新页面后重试", "The request could not be verified; reload and try again"),
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
    "kind_report": ("上报", "Report"),
    "status_checked_in": ("巡逻中", "On patrol"),
    "status_submitted": ("已提交，待审核", "Submitted, awaiting review"),
    "status_held": ("审核中", "Under review"),
    "status_verified": ("已审核通过", "Verified"),
    "status_rejected": ("未通过", "Rejected"),
    "status_assigned": ("已交办处理", "Being handled"),
    "status_handled": ("已办结", "Handled"),
    "status_closed": ("已办结，已评价", "Handled and rated"),
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
}


def translate(language: str, key: str, **values: object) -> str:
    zh, en = CATALOG[key]
    text = en if language == "en" else zh
    return text.format(**values) if values else text


def translator(language: str) -> Callable[..., str]:
    def t(key: str, **values: object) -> str:
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


def china_time(moment: datetime, language: str, *, now: datetime | None = None) -> str:
    """``11月30日 18:05 北京时间`` / ``30 Nov 18:05 China time``; the year
    is shown when it is not the current China-time year (``now``)."""
    local = moment.astimezone(CHINA)
    this_year = (now or datetime.now(CHINA)).astimezone(CHINA).year
    if language == "en":
        year = f" {local.year}" if local.year != this_year else ""
        return f"{local.day} {MONTHS_EN[local.month - 1]}{year} {local:%H:%M} China time"
    prefix = f"{local.year}年" if local.year != this_year else ""
    return f"{prefix}{local.month}月{local.day}日 {local:%H:%M} 北京时间"


def points(amount: Decimal) -> str:
    """Points as shown: thousands grouped, two places, a sign on debits."""
    return f"{amount:,.2f}"


def signed_points(amount: Decimal) -> str:
    return f"+{amount:,.2f}" if amount > 0 else f"{amount:,.2f}"
