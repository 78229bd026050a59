"""The pages over HTTP (no browser): cookie sessions, CSRF, the redirect
to login, language, and what home, statement and me show. The browser
journeys are in ``tests/browser/``."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.community.auth import SESSION_COOKIE
from tests.integration.api.conftest import credentials, login_headers
from web.mount import CSRF_COOKIE
from web.session_cookie import DEVICE_COOKIE

Client = AsyncTestClient[Litestar]


def csrf_from(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


async def log_in_page(client: Client, role: str = "volunteer") -> None:
    form = await client.get("/login")
    phone, password = credentials(role)
    response = await client.post(
        "/login", data={"phone": phone, "password": password, "_csrf_token": csrf_from(form.text)}
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"


@pytest.mark.usefixtures("demo")
async def test_an_anonymous_page_request_is_sent_to_the_login_page(client: Client) -> None:
    for path in ("/", "/statement", "/statement/print", "/me"):
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == "/login"


@pytest.mark.usefixtures("demo")
async def test_the_api_still_answers_401_problems_without_a_token(client: Client) -> None:
    response = await client.get("/api/v1/me/wallet")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.usefixtures("demo")
async def test_logging_in_sets_an_httponly_lax_session_cookie_and_shows_home(client: Client) -> None:
    await log_in_page(client)
    home = await client.get("/")
    assert home.status_code == 200
    assert "我的积分" in home.text
    # Every amount says it is points: the balance and what is on hold, not bare numbers.
    assert re.search(r'<span id="balance">[\d,]+\.\d\d</span> 分', home.text)
    assert re.search(r'<span id="pending">[\d,]+\.\d\d</span> 分', home.text)


@pytest.mark.usefixtures("demo")
async def test_the_session_cookie_is_httponly_samesite_lax_and_not_secure_by_default(client: Client) -> None:
    form = await client.get("/login")
    phone, password = credentials("volunteer")
    response = await client.post(
        "/login", data={"phone": phone, "password": password, "_csrf_token": csrf_from(form.text)}
    )
    header = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and SESSION_COOKIE in v)
    assert "HttpOnly" in header
    assert "SameSite=lax" in header or "SameSite=Lax" in header
    assert "Secure" not in header


async def test_with_cookie_secure_set_the_session_cookie_is_secure(monkeypatch: pytest.MonkeyPatch, demo: None) -> None:
    from api.app import create_app
    from fengling_settings import get_settings

    monkeypatch.setenv("FENGLING_COOKIE_SECURE", "1")
    get_settings.cache_clear()
    try:
        app = create_app(run_background_jobs=False)
        async with AsyncTestClient(app=app, base_url="https://testserver.local") as client:
            client.follow_redirects = False
            form = await client.get("/login")
            phone, password = credentials("volunteer")
            response = await client.post(
                "/login", data={"phone": phone, "password": password, "_csrf_token": csrf_from(form.text)}
            )
            cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
            assert any(SESSION_COOKIE in c and "Secure" in c for c in cookies)
    finally:
        get_settings.cache_clear()


@pytest.mark.usefixtures("demo")
async def test_a_session_cookie_never_authorises_the_json_api(client: Client) -> None:
    await log_in_page(client)
    assert client.cookies.get(SESSION_COOKIE)
    response = await client.get("/api/v1/me/wallet")
    assert response.status_code == 401


@pytest.mark.usefixtures("demo")
async def test_a_wrong_password_shows_the_login_page_again_with_a_chinese_message(client: Client) -> None:
    form = await client.get("/login")
    phone, _ = credentials("volunteer")
    response = await client.post(
        "/login", data={"phone": phone, "password": "nope", "_csrf_token": csrf_from(form.text)}
    )
    assert response.status_code == 401
    assert "手机号或密码不对" in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


@pytest.mark.usefixtures("demo")
async def test_the_page_login_counts_against_the_same_phone_lockout_as_the_api(client: Client) -> None:
    from fengling_settings import get_settings

    phone, password = credentials("volunteer")
    for _ in range(get_settings().login_max_failures):
        api = await client.post("/api/v1/auth/login", json={"phone": phone, "password": "wrong"})
        assert api.status_code == 401
    form = await client.get("/login")
    response = await client.post(
        "/login", data={"phone": phone, "password": password, "_csrf_token": csrf_from(form.text)}
    )
    assert response.status_code == 429
    assert "错误次数过多" in response.text


async def _page_login(client: Client, phone: str, password: str) -> int:
    form = await client.get("/login")
    response = await client.post(
        "/login", data={"phone": phone, "password": password, "_csrf_token": csrf_from(form.text)}
    )
    return response.status_code


async def _strangers_wrong_passwords(client: Client, phone: str) -> None:
    """Enough wrong passwords through the API (no device token) to lock the number's shared counter."""
    from fengling_settings import get_settings

    for _ in range(get_settings().login_max_failures):
        assert (await client.post("/api/v1/auth/login", json={"phone": phone, "password": "x"})).status_code == 401
    assert (await client.post("/api/v1/auth/login", json={"phone": phone, "password": "x"})).status_code == 429


async def _on_a_new_phone(client: Client, phone: str, password: str) -> int:
    """A page login without this phone's device token (put back after)."""
    token = client.cookies.get(DEVICE_COOKIE)
    client.cookies.delete(DEVICE_COOKIE)
    try:
        return await _page_login(client, phone, password)
    finally:
        if token is not None:
            client.cookies.set(DEVICE_COOKIE, token)


@pytest.mark.usefixtures("demo")
async def test_a_stranger_cannot_lock_a_volunteer_out_of_the_phone_they_used_before(client: Client) -> None:
    """Knowing a number is enough to lock it (the shared counter); the
    owner's phone, which logged in before, carries a device token and is
    counted on its own: it still logs in. A phone without one does not."""
    phone, password = credentials("volunteer")
    assert await _page_login(client, phone, password) == 303
    assert DEVICE_COOKIE in client.cookies
    client.cookies.delete(SESSION_COOKIE)
    await _strangers_wrong_passwords(client, phone)

    assert await _page_login(client, phone, password) == 303
    client.cookies.delete(SESSION_COOKIE)
    assert await _on_a_new_phone(client, phone, password) == 429


@pytest.mark.usefixtures("demo")
async def test_a_known_device_guessing_is_locked_on_its_own_and_a_token_counts_for_its_number_only(
    client: Client,
) -> None:
    from fengling_settings import get_settings

    phone, password = credentials("volunteer")
    other_phone, other_password = credentials("grid_worker")
    assert await _page_login(client, phone, password) == 303
    client.cookies.delete(SESSION_COOKIE)
    for _ in range(get_settings().login_max_failures):
        assert await _page_login(client, phone, "wrong") == 401
    assert await _page_login(client, phone, password) == 429  # this device is locked for this number
    assert await _on_a_new_phone(client, phone, password) == 303  # the shared counter was never touched
    client.cookies.delete(SESSION_COOKIE)
    # The volunteer's token says nothing about another number: its shared counter applies.
    await _strangers_wrong_passwords(client, other_phone)
    assert await _page_login(client, other_phone, other_password) == 429


@pytest.mark.usefixtures("demo")
async def test_a_form_post_without_its_csrf_token_is_refused_with_403(client: Client) -> None:
    await log_in_page(client)
    response = await client.post("/me/preferences", data={"elder_mode": "1"})
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]
    # A stale form, not a missing permission: reloading the page fixes it.
    assert "请求无法验证，请刷新页面后重试" in response.text and "没有权限" not in response.text
    me = await client.get("/me")
    assert 'value="0" checked' in me.text  # elder mode unchanged
    # The choices, not states: 开启 / 关闭.
    assert 'value="1"> 开启</label>' in me.text and 'value="0" checked> 关闭</label>' in me.text


@pytest.mark.usefixtures("demo")
async def test_a_login_post_without_its_csrf_token_is_refused_with_403(client: Client) -> None:
    await client.get("/login")
    phone, password = credentials("volunteer")
    response = await client.post("/login", data={"phone": phone, "password": password})
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]
    assert not client.cookies.get(SESSION_COOKIE)


@pytest.mark.usefixtures("demo")
async def test_htmx_requests_carry_the_token_as_a_header(client: Client) -> None:
    await log_in_page(client)
    token = client.cookies.get(CSRF_COOKIE)
    assert token
    response = await client.post("/me/preferences", data={"elder_mode": "1"}, headers={"X-CSRFToken": token})
    assert response.status_code == 303


@pytest.mark.usefixtures("demo")
async def test_logout_ends_the_session_and_the_old_cookie_is_refused(client: Client) -> None:
    await log_in_page(client)
    old = client.cookies.get(SESSION_COOKIE)
    me = await client.get("/me")
    response = await client.post("/logout", data={"_csrf_token": csrf_from(me.text)})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    client.cookies.set(SESSION_COOKIE, old or "")
    again = await client.get("/")
    assert again.status_code == 303
    assert again.headers["location"] == "/login"


@pytest.mark.usefixtures("demo")
async def test_an_api_logout_ends_the_page_session_too(client: Client) -> None:
    await log_in_page(client)
    headers = await login_headers(client, "volunteer")
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    response = await client.get("/")
    assert response.status_code == 303


@pytest.mark.usefixtures("demo")
async def test_home_shows_the_same_balance_and_available_as_the_api(client: Client) -> None:
    headers = await login_headers(client, "volunteer")
    wallet = (await client.get("/api/v1/me/wallet", headers=headers)).json()
    api_lines = (await client.get("/api/v1/me/wallet/statement", headers=headers)).json()["lines"]
    await log_in_page(client)
    home = await client.get("/")
    available = re.search(r'id="available">([^<]+)<', home.text)
    balance = re.search(r'id="balance">([^<]+)<', home.text)
    assert available and balance
    assert available.group(1).replace(",", "") == wallet["available"]
    assert balance.group(1).replace(",", "") == wallet["balance"]
    assert home.text.count('class="line"') == min(5, len(api_lines))
    assert api_lines[0]["reason_zh"] in home.text
    assert "北京时间" in home.text


@pytest.mark.usefixtures("demo")
async def test_pages_follow_the_members_language_and_accept_language_before_login(client: Client) -> None:
    login = await client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    assert "Log in" in login.text
    assert '<html lang="en">' in login.text
    assert "手机号" in (await client.get("/login", headers={"Accept-Language": "zh-CN,en;q=0.5"})).text
    await log_in_page(client)
    me = await client.get("/me")
    saved = await client.post("/me/preferences", data={"preferred_language": "en", "_csrf_token": csrf_from(me.text)})
    assert saved.status_code == 303
    home = await client.get("/", headers={"Accept-Language": "zh-CN"})
    assert "My points" in home.text
    assert "China time" in home.text


@pytest.mark.usefixtures("demo")
async def test_the_login_page_turns_elder_mode_on_and_off_before_anyone_logs_in(client: Client) -> None:
    """No member yet: the switch keeps the choice in the phone's elder-mode
    cookie, behind the CSRF token, and the login still returns to ``next``."""
    login = await client.get("/login", params={"next": "/shop"})
    assert '<body class="elder' not in login.text and 'action="/elder-mode"' in login.text
    assert "长辈模式：已关闭" in login.text and ">开启长辈模式</button>" in login.text
    assert "忘记密码？请联系社区工作人员重置" in login.text
    assert "<title>登录 · 风铃</title>" in login.text  # the title is words, not the forms' markup
    refused = await client.post("/elder-mode", data={"elder_mode": "1"})
    assert refused.status_code == 403
    on = await client.post(
        "/elder-mode", data={"elder_mode": "1", "next": "/shop", "_csrf_token": csrf_from(login.text)}
    )
    assert on.status_code == 303 and on.headers["location"] == "/login?next=%2Fshop"
    bigger = await client.get("/login", params={"next": "/shop"})
    assert '<body class="elder' in bigger.text
    # The state in words, and one button that changes it.
    assert "长辈模式：已开启" in bigger.text and ">关闭长辈模式</button>" in bigger.text
    assert 'name="elder_mode" value="0"' in bigger.text and 'name="elder_mode" value="1"' not in bigger.text
    odd = await client.post(
        "/elder-mode", data={"elder_mode": "2", "next": "//elsewhere.example", "_csrf_token": csrf_from(bigger.text)}
    )
    assert odd.headers["location"] == "/login" and '<body class="elder' in (await client.get("/login")).text
    off = await client.post("/elder-mode", data={"elder_mode": "0", "_csrf_token": csrf_from(bigger.text)})
    assert off.status_code == 303 and '<body class="elder' not in (await client.get("/login")).text


@pytest.mark.usefixtures("demo")
async def test_elder_mode_is_kept_per_member_and_audited(client: Client) -> None:
    from community.tables import AuditEvent

    await log_in_page(client)
    me = await client.get("/me")
    assert '<body class=" ' in me.text or 'class="elder' not in me.text
    saved = await client.post("/me/preferences", data={"elder_mode": "1", "_csrf_token": csrf_from(me.text)})
    assert saved.status_code == 303
    assert '<body class="elder' in (await client.get("/")).text
    rows = await AuditEvent.select().where(AuditEvent.action == "member.preferences").run()
    assert len(rows) == 1
    assert '"elder_mode": true' in rows[0]["detail"]


@pytest.mark.usefixtures("demo")
async def test_an_elder_members_error_pages_and_next_login_page_are_in_elder_mode(client: Client) -> None:
    """A 404 (and the login page after logging out) is rendered without the
    member at hand: the elder-mode cookie set by Me and by each login keeps
    it as large as the member's other pages, and turning it off follows."""
    await log_in_page(client)
    assert '<body class="elder' not in (await client.get("/orders/999999")).text
    me = await client.get("/me")
    await client.post("/me/preferences", data={"elder_mode": "1", "_csrf_token": csrf_from(me.text)})
    missing = await client.get("/orders/999999")
    assert missing.status_code == 404
    assert '<body class="elder' in missing.text
    logged_out = await client.post("/logout", data={"_csrf_token": csrf_from((await client.get("/me")).text)})
    assert logged_out.status_code == 303
    assert '<body class="elder' in (await client.get("/login")).text
    await log_in_page(client)
    me = await client.get("/me")
    await client.post("/me/preferences", data={"elder_mode": "0", "_csrf_token": csrf_from(me.text)})
    assert '<body class="elder' not in (await client.get("/orders/999999")).text


@pytest.mark.usefixtures("demo")
async def test_the_statement_pages_with_a_keyset_more_link_and_an_htmx_fragment(client: Client) -> None:
    await log_in_page(client)
    page = await client.get("/statement")
    assert page.status_code == 200
    lines = page.text.count('class="line"')
    assert lines >= 1
    printable = await client.get("/statement/print")
    assert printable.status_code == 200
    assert printable.text.count("<tr>") == lines + 1  # the header row and every line
    # On paper every time carries its year, in China time, labelled.
    dated = r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d <span class='tz'>北京时间</span>"
    assert re.search(f"打印时间：{dated}", printable.text)
    assert len(re.findall(f"<td>{dated}</td>", printable.text)) == lines


@pytest.mark.usefixtures("demo")
async def test_pages_send_the_strict_csp_and_are_never_cached(client: Client) -> None:
    await log_in_page(client)
    home = await client.get("/")
    csp = home.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert home.headers["cache-control"] == "no-store"
    static = await client.get("/static/vendor/htmx.min.js")
    assert static.status_code == 200
    assert "no-store" not in static.headers.get("cache-control", "")


async def add_lines(count: int) -> None:
    """``count`` more awards on the demo volunteer's wallet."""
    from community.members import get_member
    from community.organisations import issuing_organisation_for
    from core.database import pooled_connections
    from seeds.demo import DEMO_LOGINS
    from tests.support.marketplace_helpers import fund_member

    async with pooled_connections(max_size=2):
        from community.tables import Member

        phone = next(login.phone for login in DEMO_LOGINS if login.role == "volunteer")
        row = await Member.select(Member.id).where(Member.phone == phone).first().run()
        assert row is not None
        member_id = int(row["id"])
        member = await get_member(member_id)
        issuer = await issuing_organisation_for(member.home_organisation_id)
        assert issuer is not None
        for _ in range(count):
            await fund_member(issuer.id, member_id, "1.00")


@pytest.mark.usefixtures("demo")
async def test_the_statements_more_loads_the_next_page_as_an_htmx_fragment(client: Client) -> None:
    await add_lines(25)
    await log_in_page(client)
    first = await client.get("/statement")
    assert first.text.count('class="line"') == 20
    cursor = re.search(r'hx-get="/statement\?cursor=([^"]+)"', first.text)
    assert cursor
    more = await client.get(f"/statement?cursor={cursor.group(1)}", headers={"HX-Request": "true"})
    assert more.status_code == 200
    assert "<html" not in more.text  # a fragment, appended to the list
    assert more.text.count('class="line"') >= 9
    assert 'id="more" class="more" hx-swap-oob="true"' in more.text
    first_reasons = re.findall(r'<time datetime="([^"]+)"', first.text)
    more_reasons = re.findall(r'<time datetime="([^"]+)"', more.text)
    assert min(first_reasons) >= max(more_reasons)  # older lines, no overlap by time order


@pytest.mark.usefixtures("demo")
async def test_an_anonymous_logout_is_sent_to_the_login_page(client: Client) -> None:
    form = await client.get("/login")
    response = await client.post("/logout", data={"_csrf_token": csrf_from(form.text)})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


@pytest.mark.usefixtures("demo")
async def test_an_htmx_request_without_a_session_is_told_to_load_the_login_page(client: Client) -> None:
    response = await client.get("/statement", headers={"HX-Request": "true"})
    assert response.headers["hx-redirect"] == "/login"


@pytest.mark.usefixtures("demo")
async def test_a_password_change_on_the_page_keeps_this_browser_and_ends_other_sessions(client: Client) -> None:
    headers = await login_headers(client, "volunteer")
    await log_in_page(client)
    me = await client.get("/me")
    _, password = credentials("volunteer")
    changed = await client.post(
        "/me/password",
        data={
            "current_password": password,
            "new_password": "a-new-long-password-42",
            "_csrf_token": csrf_from(me.text),
        },
    )
    assert changed.status_code == 303
    assert changed.headers["location"] == "/me?n=password_changed"
    assert (await client.get("/")).status_code == 200  # this browser's fresh cookie
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401  # the other session ended


@pytest.mark.usefixtures("demo")
async def test_a_wrong_current_password_on_the_page_is_refused_with_a_message(client: Client) -> None:
    await log_in_page(client)
    me = await client.get("/me")
    response = await client.post(
        "/me/password",
        data={"current_password": "wrong", "new_password": "a-new-long-password-42", "_csrf_token": csrf_from(me.text)},
    )
    assert response.status_code == 422
    assert "当前密码不正确" in response.text


@pytest.mark.usefixtures("demo")
async def test_an_unknown_language_is_refused_on_the_page_and_nothing_changes(client: Client) -> None:
    await log_in_page(client)
    me = await client.get("/me")
    response = await client.post(
        "/me/preferences", data={"preferred_language": "fr", "elder_mode": "1", "_csrf_token": csrf_from(me.text)}
    )
    assert response.status_code == 422
    assert "请选择中文或 English" in response.text
    assert '<body class="elder' not in (await client.get("/")).text
