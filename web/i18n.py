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
