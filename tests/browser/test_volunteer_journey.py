"""The volunteer's whole journey in one sitting at 360×640, as issue #13
lists it: log in → the home balance equals the API's → a report with a
camera photo → the grid worker verifies it (API) → the statement shows the
line with its reason and a link that opens the report → redeem an item →
my orders shows the code and QR → the shop confirms (API) → the order
shows as picked up, and the balance moved by exactly the award and the price.

The other browser files test each step's corners (offline, double taps,
CSRF, elder sizes); this one proves the steps join up."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.browser.test_earn_in_browser import (
    api_token,
    camera_photo,
    my_activities,
    submit_report,
    wait_until_sent,
)
from tests.browser.test_pages_in_browser import api_wallet, log_in
from tests.browser.test_shop_in_browser import api_orders, confirm_pickup, redeem_towel

REPORT_TITLE = "单元门口台阶破损"
# The reason a verified report's award line gives, before its title (activities.earning.entry_wording).
AWARD_REASON = "随手报积分："


@pytest.fixture
def page(located_page: Any) -> Any:
    return located_page


def shown_points(page: Any, selector: str) -> Decimal:
    return Decimal(page.inner_text(selector).split()[0].replace(",", "").lstrip("+"))


def test_a_volunteer_reports_is_credited_redeems_and_picks_up_in_one_journey(
    page: Any, demo: str, tmp_path: Any
) -> None:
    # Log in; home shows what the API says.
    wallet = api_wallet(demo)
    log_in(page)
    assert shown_points(page, "#available") == Decimal(wallet["available"])
    assert shown_points(page, "#balance") == Decimal(wallet["balance"])

    # A report with a photo from the camera.
    submit_report(page, camera_photo(tmp_path), REPORT_TITLE)
    wait_until_sent(page)
    [report] = [a for a in my_activities(demo, "report") if a["title"] == REPORT_TITLE]

    # The grid worker verifies it through the API.
    with httpx.Client(base_url=demo, headers=api_token(demo, "grid_worker")) as api:
        verified = api.post(f"/api/v1/activities/{report['id']}/verify")
        assert verified.status_code == 200, verified.text
    award = Decimal(api_wallet(demo)["balance"]) - Decimal(wallet["balance"])
    assert award > 0

    # The statement's line: its reason in words, its amount, a link that opens the report.
    page.goto("/statement")
    line = page.locator("#lines .line", has_text=f"#{report['id']}")
    assert line.count() == 1
    assert line.locator(".reason").inner_text().strip() == f"{AWARD_REASON}{REPORT_TITLE}"
    assert Decimal(line.locator(".amount").inner_text().replace(",", "").lstrip("+")) == award
    link = line.locator("a.cause")
    assert link.get_attribute("href") == f"/activities/{report['id']}"
    assert link.inner_text().strip() == f"随手报 #{report['id']}"
    link.click()
    page.wait_for_url(f"**/activities/{report['id']}")
    assert page.inner_text("h1") == f"随手报 #{report['id']}"
    assert REPORT_TITLE in page.inner_text("main")
    assert page.inner_text("#activity-status") == "审核通过"

    # Redeem; my orders shows the code and the QR.
    order_id = redeem_towel(page)
    code = page.inner_text("#pickup-code").strip()
    assert page.locator("figure.qr svg").is_visible()
    page.goto("/orders")
    assert code in page.inner_text(".orders")

    # The shop confirms through the API; the order shows as picked up.
    confirm_pickup(demo, code)
    page.goto(f"/orders/{order_id}")
    assert page.inner_text("#order-status") == "已领取"
    [order] = [o for o in api_orders(demo) if o["id"] == order_id]
    assert order["status"] == "fulfilled"

    # Home again: the balance moved by exactly the award and the price.
    page.goto("/")
    after = api_wallet(demo)
    assert shown_points(page, "#balance") == Decimal(after["balance"])
    assert Decimal(after["balance"]) == Decimal(wallet["balance"]) + award - Decimal(order["total"])
