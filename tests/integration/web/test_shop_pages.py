"""The supermarket, order, activity and ranking pages over HTTP (no
browser), on SQLite and on PostgreSQL: what they show, that a redemption
form sent twice is one order, that another member's order or activity is a
404 page, the cause links of the statement, the language chosen on the
login page, and compressed answers. Browser journeys: ``tests/browser/``."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.api.conftest import credentials, login_headers
from tests.integration.web.test_pages import csrf_from, log_in_page

Client = AsyncTestClient[Litestar]

DEMO_AVAILABLE = Decimal("47.50")


async def item_id_named(client: Client, name_zh: str) -> int:
    catalog = await client.get("/shop")
    assert catalog.status_code == 200
    match = re.search(r'href="/shop/items/(\d+)">\s*<span class="item-name">' + re.escape(name_zh), catalog.text)
    assert match, f"{name_zh} is not in the catalog"
    return int(match.group(1))


def redeem_form(item_page: str) -> dict[str, str]:
    shop = re.search(r'name="shop_id" value="(\d+)"', item_page)
    key = re.search(r'name="order_key" value="([^"]+)"', item_page)
    assert shop and key
    return {"shop_id": shop.group(1), "quantity": "1", "order_key": key.group(1), "_csrf_token": csrf_from(item_page)}


async def redeem(client: Client, name_zh: str) -> int:
    """Redeems one unit through the pages; the new order's id."""
    item_id = await item_id_named(client, name_zh)
    page = await client.get(f"/shop/items/{item_id}")
    response = await client.post(f"/shop/items/{item_id}/redeem", data=redeem_form(page.text))
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/orders/(\d+)\?n=order_placed", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


async def confirm_at_the_counter(client: Client, code: str) -> None:
    """The shop's clerk confirms the pickup through the API."""
    staff = await login_headers(client, "shop_staff")
    shop = (await client.get("/api/v1/shops", headers=staff)).json()[0]["id"]
    confirmed = await client.post(f"/api/v1/shops/{shop}/pickups", json={"code": code}, headers=staff)
    assert confirmed.status_code in (200, 201), confirmed.text


async def api_wallet(client: Client) -> dict[str, str]:
    headers = await login_headers(client, "volunteer")
    wallet: dict[str, str] = (await client.get("/api/v1/me/wallet", headers=headers)).json()
    return wallet


@pytest.mark.usefixtures("demo")
async def test_the_catalog_lists_affordable_items_first_cheapest_first_then_the_rest(client: Client) -> None:
    await log_in_page(client)
    await redeem(client, "大米 5kg")  # 47.50 - 30.00 leaves 17.50 available
    catalog = (await client.get("/shop")).text
    affordable, _, short = catalog.partition("积分还不够")
    names = re.findall(r'<span class="item-name">([^<]+)</span>', affordable)
    assert names == ["笔记本", "毛巾", "理发券", "洗衣液"]
    assert re.findall(r'<span class="item-name">([^<]+)</span>', short) == ["食用油 1.8L", "大米 5kg"]
    assert "还差 7.50 分" in short  # the oil: 25.00 - 17.50
    assert "17.50" in catalog


@pytest.mark.usefixtures("demo")
async def test_the_catalog_filters_by_category(client: Client) -> None:
    await log_in_page(client)
    food = (await client.get("/shop?category=food")).text
    assert re.findall(r'<span class="item-name">([^<]+)</span>', food) == ["食用油 1.8L", "大米 5kg"]
    assert 'aria-current="page">食品' in food
    everything = (await client.get("/shop?category=nonsense")).text
    assert len(re.findall(r'class="item-name"', everything)) == 6


@pytest.mark.usefixtures("demo")
async def test_redeeming_shows_the_order_with_its_code_and_qr_and_holds_the_points(client: Client) -> None:
    await log_in_page(client)
    order_id = await redeem(client, "毛巾")
    page = await client.get(f"/orders/{order_id}?n=order_placed")
    assert page.status_code == 200
    assert "兑换成功" in page.text
    code = re.search(r'id="pickup-code" data-code="([^"]+)"', page.text)
    assert code
    assert '<svg viewBox="' in page.text and 'class="qr-code"' in page.text
    # Read aloud in two groups of four (the gap is CSS: a copy is the code itself),
    # the deadline right under the QR, the total in points.
    whole = code.group(1)
    groups = f'<span class="code-group">{whole[:4]}</span><span class="code-group">{whole[4:]}</span>'
    assert groups in page.text
    under_qr = page.text.split("</figure>")[1].split("</p>")[0]
    assert 'id="pick-up-by"' in under_qr and re.search(r"请在 .+北京时间</span> 前领取", under_qr)
    assert "状态：" in page.text and re.search(r"<dd>8\.00 分</dd>", page.text)
    wallet = await api_wallet(client)
    assert Decimal(wallet["held"]) == Decimal("8.00")
    assert Decimal(wallet["available"]) == DEMO_AVAILABLE - Decimal("8.00")
    orders = (await client.get("/orders")).text
    assert code.group(1) in orders
    assert "待领取" in orders


@pytest.mark.usefixtures("demo")
async def test_the_same_redeem_form_sent_twice_places_one_order(client: Client) -> None:
    await log_in_page(client)
    item_id = await item_id_named(client, "笔记本")
    form = redeem_form((await client.get(f"/shop/items/{item_id}")).text)
    first = await client.post(f"/shop/items/{item_id}/redeem", data=form)
    again = await client.post(f"/shop/items/{item_id}/redeem", data=form)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    api_orders = (await client.get("/api/v1/orders", headers=await login_headers(client, "volunteer"))).json()
    assert len(api_orders["orders"]) == 1
    assert Decimal((await api_wallet(client))["held"]) == Decimal("3.00")


@pytest.mark.usefixtures("demo")
async def test_each_item_page_draws_a_new_key_so_two_visits_are_two_orders(client: Client) -> None:
    await log_in_page(client)
    first = await redeem(client, "笔记本")
    second = await redeem(client, "笔记本")
    assert first != second


@pytest.mark.usefixtures("demo")
async def test_a_redemption_beyond_the_available_points_shows_why_and_writes_nothing(client: Client) -> None:
    await log_in_page(client)
    await redeem(client, "大米 5kg")
    item_id = await item_id_named(client, "食用油 1.8L")
    page = await client.get(f"/shop/items/{item_id}")
    assert "disabled" in page.text  # the page already says so
    response = await client.post(f"/shop/items/{item_id}/redeem", data=redeem_form(page.text))
    assert response.status_code == 422
    assert "可用积分不够" in response.text
    assert Decimal((await api_wallet(client))["held"]) == Decimal("30.00")


@pytest.mark.usefixtures("demo")
async def test_a_bad_quantity_or_key_is_a_422_page_naming_it_and_nothing_is_ordered(client: Client) -> None:
    await log_in_page(client)
    item_id = await item_id_named(client, "毛巾")
    page = (await client.get(f"/shop/items/{item_id}")).text
    for field, value in (
        ("quantity", "0"),
        ("quantity", "21"),
        ("quantity", "x"),
        ("shop_id", ""),
        ("order_key", "short"),
    ):
        form = {**redeem_form(page), field: value}
        response = await client.post(f"/shop/items/{item_id}/redeem", data=form)
        assert response.status_code == 422, (field, value)
        assert "text/html" in response.headers["content-type"]
    assert Decimal((await api_wallet(client))["held"]) == Decimal("0.00")


@pytest.mark.usefixtures("demo")
async def test_a_missing_item_is_a_404_page(client: Client) -> None:
    await log_in_page(client)
    response = await client.get("/shop/items/2147483647")
    assert response.status_code == 404
    assert "页面不存在" in response.text


@pytest.mark.usefixtures("demo")
async def test_cancelling_returns_the_points_and_the_order_shows_cancelled_without_its_code(client: Client) -> None:
    await log_in_page(client)
    order_id = await redeem(client, "毛巾")
    page = (await client.get(f"/orders/{order_id}")).text
    response = await client.post(f"/orders/{order_id}/cancel", data={"_csrf_token": csrf_from(page)})
    assert response.status_code == 303
    after = (await client.get(response.headers["location"])).text
    assert "订单已取消" in after and "已取消" in after
    assert 'id="pickup-code"' not in after and "qr-code" not in after
    assert Decimal((await api_wallet(client))["available"]) == DEMO_AVAILABLE


@pytest.mark.usefixtures("demo")
async def test_a_picked_up_order_shows_picked_up_and_can_no_longer_be_cancelled(client: Client) -> None:
    await log_in_page(client)
    order_id = await redeem(client, "毛巾")
    page = (await client.get(f"/orders/{order_id}")).text
    code = re.search(r'id="pickup-code" data-code="([^"]+)"', page)
    assert code
    await confirm_at_the_counter(client, code.group(1))
    after = (await client.get(f"/orders/{order_id}")).text
    assert 'id="order-status" class="badge status-fulfilled">已领取' in after
    assert "qr-code" not in after and "取消订单" not in after
    refused = await client.post(f"/orders/{order_id}/cancel", data={"_csrf_token": csrf_from(page)})
    assert refused.status_code == 409
    assert "订单已不能取消" in refused.text


@pytest.mark.usefixtures("demo")
async def test_another_members_order_is_a_404_page_like_a_missing_one(client: Client) -> None:
    await log_in_page(client)
    order_id = await redeem(client, "毛巾")
    page = (await client.get(f"/orders/{order_id}")).text
    client.cookies.clear()
    await log_in_page(client, "grid_worker")
    theirs = await client.get(f"/orders/{order_id}")
    missing = await client.get("/orders/2147483647")
    assert theirs.status_code == missing.status_code == 404
    assert "页面不存在" in theirs.text
    code = re.search(r'id="pickup-code" data-code="([^"]+)"', page)
    assert code and code.group(1) not in theirs.text
    me = (await client.get("/me")).text
    cancel = await client.post(f"/orders/{order_id}/cancel", data={"_csrf_token": csrf_from(me)})
    assert cancel.status_code == 404
    client.cookies.clear()
    await log_in_page(client)
    assert "待领取" in (await client.get(f"/orders/{order_id}")).text


@pytest.mark.usefixtures("demo")
async def test_order_pages_need_a_session_and_their_forms_a_csrf_token(client: Client) -> None:
    for path in ("/shop", "/shop/items/1", "/orders", "/orders/1", "/ranking", "/activities/1"):
        response = await client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/login"
    await log_in_page(client)
    order_id = await redeem(client, "毛巾")
    assert (await client.post(f"/orders/{order_id}/cancel")).status_code == 403
    assert "待领取" in (await client.get(f"/orders/{order_id}")).text


@pytest.mark.usefixtures("demo")
async def test_statement_lines_name_their_cause_by_kind_and_link_to_it(client: Client) -> None:
    await log_in_page(client)
    order_id = await redeem(client, "毛巾")
    code = re.search(r'id="pickup-code" data-code="([^"]+)"', (await client.get(f"/orders/{order_id}")).text)
    assert code
    await confirm_at_the_counter(client, code.group(1))
    statement = (await client.get("/statement")).text
    links = dict(re.findall(r'<a class="cause" href="(/[a-z]+/\d+)">([^<]+)</a>', statement))
    assert links[f"/orders/{order_id}"] == f"兑换订单 #{order_id}"
    activity_labels = {label.split(" #")[0] for href, label in links.items() if href.startswith("/activities/")}
    # The demo volunteer earned by a service log, a patrol and a report: each named for what it was.
    assert activity_labels == {"服务记录", "巡逻", "随手报"}
    for href, label in links.items():
        page = await client.get(href)
        assert page.status_code == 200, href
        assert label in page.text


@pytest.mark.usefixtures("demo")
async def test_another_members_activity_is_a_404_page(client: Client) -> None:
    await log_in_page(client)
    statement = (await client.get("/statement")).text
    href = re.search(r'href="(/activities/\d+)"', statement)
    assert href
    client.cookies.clear()
    await log_in_page(client, "grid_worker")  # may review it through the API, but it is not theirs
    assert (await client.get(href.group(1))).status_code == 404
    assert (await client.get("/activities/2147483647")).status_code == 404


@pytest.mark.usefixtures("demo")
async def test_the_login_page_offers_chinese_and_english_and_the_member_setting_wins_after_login(
    client: Client,
) -> None:
    login = await client.get("/login", headers={"Accept-Language": "zh-CN"})
    assert 'value="en"' in login.text and "English" in login.text
    chosen = await client.post("/language", data={"lang": "en", "_csrf_token": csrf_from(login.text)})
    assert chosen.status_code == 303 and chosen.headers["location"] == "/login"
    english = await client.get("/login", headers={"Accept-Language": "zh-CN"})
    assert "Phone number" in english.text
    await log_in_page(client)  # the member's own setting is Chinese
    assert "我的积分" in (await client.get("/")).text
    unknown = await client.post("/language", data={"lang": "fr", "_csrf_token": csrf_from(english.text)})
    assert unknown.status_code == 303
    assert (await client.post("/language", data={"lang": "en"})).status_code == 403


async def every_member_page(client: Client) -> tuple[str, ...]:
    """Every page a logged-in volunteer can open, with an open order (its
    code and QR) and an activity a statement line links to."""
    order_id = await redeem(client, "毛巾")
    activity = re.search(r'href="(/activities/\d+)"', (await client.get("/statement")).text)
    assert activity
    return (
        "/",
        "/statement",
        "/statement/print",
        "/me",
        "/earn",
        "/earn/service",
        "/earn/patrol",
        "/earn/report",
        "/earn/mine",
        "/shop",
        "/shop/items/1",
        "/orders",
        f"/orders/{order_id}",
        "/ranking",
        "/recognition",
        activity.group(1),
    )


# Words people gave, which stay as written in either language: the shop's,
# the team's and the member's names, and the language choice "中文" itself.
PEOPLES_NAMES = frozenset({"平安风铃积分超市", "平安社区治安巡逻队", "张秀英", "中文"})


def chinese_shown(html: str) -> set[str]:
    """The runs of Chinese a reader sees, decorative glyphs included (an
    English member's medals carry an English mark): everything but markup."""
    return set(re.findall(r"[\u4e00-\u9fff]+", re.sub(r"<[^>]+>", " ", html)))


@pytest.mark.usefixtures("demo")
async def test_every_page_and_error_is_in_english_for_an_english_member(client: Client) -> None:
    from activities.tables import Activity

    await log_in_page(client)
    pages = await every_member_page(client)
    me = await client.get("/me")
    await client.post("/me/preferences", data={"preferred_language": "en", "_csrf_token": csrf_from(me.text)})
    # Titles the volunteers typed stay as they typed them.
    typed = {str(row["title"]) for row in await Activity.select(Activity.title).run()}
    allowed = PEOPLES_NAMES | {word for title in typed for word in re.findall(r"[\u4e00-\u9fff]+", title)}
    for path in pages:
        page = await client.get(path)
        assert page.status_code == 200, path
        assert not chinese_shown(page.text) - allowed, (path, chinese_shown(page.text) - allowed)
    # Refusals too: a missing order (404) and a post without its token (403).
    missing = await client.get("/orders/999999")
    assert missing.status_code == 404 and "Page not found" in missing.text
    assert not chinese_shown(missing.text) - allowed
    forbidden = await client.post("/me/preferences", data={"elder_mode": "1"})
    assert forbidden.status_code == 403
    assert not chinese_shown(forbidden.text) - allowed


# Latin words a Chinese page may show: the other language's name on the
# language switch, and abbreviations Chinese readers use as they are.
LATIN_IN_CHINESE = frozenset({"English", "A4", "CSV", "QR"})


def latin_shown(html: str) -> set[str]:
    """Words of Latin letters a reader sees (not markup, not the scripts)."""
    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    words = re.findall(r"[A-Za-z0-9]+", re.sub(r"<[^>]+>", " ", text))
    return {word for word in words if re.search("[A-Za-z]", word) and len(word) > 1}


@pytest.mark.usefixtures("demo")
async def test_every_page_and_error_is_in_chinese_for_a_chinese_member(client: Client) -> None:
    from marketplace.tables import CatalogItem

    await log_in_page(client)  # the demo volunteer reads Chinese
    pages = await every_member_page(client)
    # Words the shop typed into its item names ("5kg") stay as typed.
    typed = " ".join(str(row["name_zh"]) for row in await CatalogItem.select(CatalogItem.name_zh).run())
    order_page = next(path for path in pages if path.startswith("/orders/"))
    code = re.search(r'id="pickup-code" data-code="([^"]+)"', (await client.get(order_page)).text)
    assert code
    shown_code = {code.group(1), code.group(1)[:4], code.group(1)[4:]}  # the pickup code, whole and in its two groups
    allowed = LATIN_IN_CHINESE | latin_shown(typed) | shown_code
    for path in pages:
        page = await client.get(path, headers={"Accept-Language": "en-GB,en;q=0.9"})  # the member's setting wins
        assert page.status_code == 200, path
        assert not latin_shown(page.text) - allowed, (path, latin_shown(page.text) - allowed)
    missing = await client.get("/orders/999999")
    assert missing.status_code == 404 and "页面不存在" in missing.text
    assert not latin_shown(missing.text) - allowed


@pytest.mark.usefixtures("demo")
async def test_the_ranking_page_shows_my_standing_in_my_grid_this_week_and_month(client: Client) -> None:
    from tests.integration.api.test_leaderboards_api import _feed

    await _feed(client)
    await log_in_page(client)
    week = await client.get("/ranking")
    assert week.status_code == 200
    assert "本周比上周" in week.text
    assert "张秀英（我）" in week.text or "张秀英 （我）" in week.text
    # My points here are this period's on this board, not my wallet's balance.
    assert "本周排行积分" in week.text and "不是余额" in week.text and "我的积分" not in week.text
    month = await client.get("/ranking?period=month&board=community")
    assert month.status_code == 200
    assert "本周比上周" not in month.text
    assert "本月排行积分" in month.text and "本周排行积分" not in month.text
    assert 'aria-current="page">我的社区' in month.text


@pytest.mark.usefixtures("demo")
async def test_the_ranking_visibility_choice_on_me_is_saved_and_a_bad_one_refused(client: Client) -> None:
    from community.tables import Member

    await log_in_page(client)
    me = (await client.get("/me")).text
    assert 'name="ranking_visibility" value="masked" checked' in me
    saved = await client.post(
        "/me/ranking-visibility", data={"ranking_visibility": "hidden", "_csrf_token": csrf_from(me)}
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/me?n=ranking_saved"
    phone, _ = credentials("volunteer")
    row = await Member.select(Member.ranking_visibility).where(Member.phone == phone).first().run()
    assert row is not None and row["ranking_visibility"] == "hidden"
    bad = await client.post("/me/ranking-visibility", data={"ranking_visibility": "loud", "_csrf_token": csrf_from(me)})
    assert bad.status_code == 422
    assert "请选择一种排行榜显示方式" in bad.text


@pytest.mark.usefixtures("demo")
async def test_pages_and_static_files_are_compressed_for_browsers_that_accept_it(client: Client) -> None:
    await log_in_page(client)
    for path in ("/shop", "/static/pages.css", "/static/vendor/htmx.min.js"):
        response = await client.get(path, headers={"Accept-Encoding": "br, gzip"})
        assert response.headers.get("content-encoding") == "br", path
        gzip = await client.get(path, headers={"Accept-Encoding": "gzip"})
        assert gzip.headers.get("content-encoding") == "gzip", path
    plain = await client.get("/shop", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert "积分超市" in plain.text
