"""The earn pages and the offline outbox in headless Chromium at 360×640:
a report from the camera to the statement line, and the outbox through a
loss of signal, a reload, an interrupted upload and a refused item."""

from __future__ import annotations

import io
import random
from datetime import timedelta
from typing import Any

import httpx
import pytest
from PIL import Image

from core.clock import utc_now
from tests.browser.conftest import credentials
from tests.browser.test_pages_in_browser import ELDER_BASE_PX, ELDER_TAP_PX, log_in, px, set_elder_mode
from web.i18n import CHINA

EARN_PAGES = ("/earn", "/earn/report", "/earn/patrol", "/earn/service", "/earn/mine", "/earn/tasks")
SYNC_SECONDS = 30


@pytest.fixture
def page(located_page: Any) -> Any:
    return located_page


def camera_photo(path: Any) -> Any:
    """A phone-sized photo (3000×2000, noisy, so it does not shrink by
    itself): the page must bring it to about 1600 px / 300 KB."""
    noise = random.Random(13)
    image = Image.new("RGB", (300, 200))
    image.putdata([(noise.randrange(256), noise.randrange(256), noise.randrange(256)) for _ in range(300 * 200)])
    buffer = io.BytesIO()
    image.resize((3000, 2000), Image.Resampling.NEAREST).save(buffer, "PNG")
    target = path / "camera.png"
    target.write_bytes(buffer.getvalue())
    return target


def api_token(base_url: str, role: str) -> dict[str, str]:
    phone, password = credentials(role)
    with httpx.Client(base_url=base_url) as api:
        token = api.post("/api/v1/auth/login", json={"phone": phone, "password": password}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def my_activities(base_url: str, kind: str) -> list[dict[str, Any]]:
    with httpx.Client(base_url=base_url, headers=api_token(base_url, "volunteer")) as api:
        items: list[dict[str, Any]] = api.get("/api/v1/activities", params={"kind": kind, "limit": 100}).json()["items"]
    return items


def wait_for_waiting(page: Any, count: int, timeout_seconds: float = SYNC_SECONDS) -> None:
    """The outbox panel says ``count`` items wait (selectors, not script:
    the pages' CSP forbids the eval a string predicate needs)."""
    page.wait_for_selector(f"#outbox[data-waiting='{count}']", state="attached", timeout=timeout_seconds * 1000)


def wait_until_sent(page: Any) -> None:
    wait_for_waiting(page, 0)


def wait_for_service_worker(page: Any) -> None:
    for _ in range(100):
        if page.evaluate("navigator.serviceWorker.controller !== null"):
            return
        page.wait_for_timeout(100)
    raise AssertionError("no service worker controls the page")


def submit_report(page: Any, photo: Any, text: str) -> None:
    page.goto("/earn/report")
    page.click("label.kind:has(input[value=hazard])")
    page.set_input_files("#photo", str(photo))
    page.wait_for_selector("#photo-note:not(:empty)")
    page.fill("#title", text)
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("#flash .flash-ok")


def test_a_report_from_the_camera_reaches_the_statement_once_verified(page: Any, demo: str, tmp_path: Any) -> None:
    log_in(page)
    uploads: list[int] = []
    page.on(
        "request",
        lambda r: (
            uploads.append(len(r.post_data_buffer or b""))
            if r.url.endswith("/earn/report") and r.method == "POST"
            else None
        ),
    )
    submit_report(page, camera_photo(tmp_path), "小区东门井盖松动")
    wait_until_sent(page)
    assert uploads and max(uploads) <= 320 * 1024  # shrunk on the phone (the PNG was several MB)
    [report] = [a for a in my_activities(demo, "report") if a["title"] == "小区东门井盖松动"]
    assert report["report_kind"] == "hazard" and len(report["photos"]) == 1
    with httpx.Client(base_url=demo, headers=api_token(demo, "grid_worker")) as api:
        photo = api.get(f"/api/v1/activities/photos/{report['photos'][0]}")
        assert Image.open(io.BytesIO(photo.content)).size[0] <= 1600
        assert api.post(f"/api/v1/activities/{report['id']}/verify").status_code == 200
    page.goto("/statement")
    line = page.locator("#lines .line", has_text=f"#{report['id']}").first
    assert "+" in line.locator(".amount").inner_text()
    page.goto("/earn/mine")
    assert "审核通过" in page.inner_text(f"#activity-{report['id']}")


def test_the_outbox_keeps_items_offline_and_sends_each_once(page: Any, demo: str, tmp_path: Any) -> None:
    log_in(page)
    page.evaluate("navigator.serviceWorker.ready")
    for path in EARN_PAGES:  # visited once online: the shell now opens offline too
        page.goto(path)
    wait_for_service_worker(page)
    patrols_before = len(my_activities(demo, "patrol"))

    page.context.set_offline(True)
    page.goto("/earn/patrol")
    page.click("#check-in button[type=submit]")
    page.wait_for_selector("#walking:not([hidden])")
    submit_report(page, camera_photo(tmp_path), "离线上报：路灯不亮")
    wait_for_waiting(page, 2)  # the flash shows before the panel re-counts the store
    assert "2 条记录保存在手机里，还没传上去" in page.inner_text("#outbox")
    assert "不要清理浏览器数据" in page.inner_text("#outbox")

    page.reload()
    wait_for_waiting(page, 2)
    page.goto("/earn/patrol")
    page.wait_for_selector("#walking:not([hidden])")
    assert "正在巡逻" in page.inner_text("#patrol-state")

    # A service log the server will refuse (it ends before it starts).
    page.goto("/earn/service")
    start = (utc_now() - timedelta(minutes=30)).astimezone(CHINA)
    page.fill("#title", "打扫楼道")
    page.fill("#started_at", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#ended_at", (start - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M"))
    page.click("form[data-outbox=service] button[type=submit]")
    wait_for_waiting(page, 3)

    # The first upload of the report reaches the server, but its answer is lost.
    dropped: list[str] = []

    def drop_the_answer(route: Any) -> None:
        if route.request.method == "POST" and not dropped:
            route.fetch()
            dropped.append(route.request.url)
            route.abort("connectionreset")
            return
        route.continue_()

    page.context.route("**/earn/report", drop_the_answer)
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_until_sent(page)
    page.wait_for_selector("#outbox-attention li")
    page.reload()  # the sync on page load finds nothing more to send
    wait_until_sent(page)
    page.wait_for_selector("#outbox-attention li")
    assert dropped, "the interrupted upload did not happen"
    reports = [a for a in my_activities(demo, "report") if a["title"] == "离线上报：路灯不亮"]
    assert len(reports) == 1 and len(reports[0]["photos"]) == 1
    assert len(my_activities(demo, "patrol")) == patrols_before + 1
    assert [a for a in my_activities(demo, "service") if a["title"] == "打扫楼道"] == []
    attention = page.inner_text("#outbox-attention")
    assert "需要您处理" in attention and "志愿服务" in attention and "ended_at" in attention
    assert "上次上传成功" in page.inner_text("#outbox-last")


def test_the_home_page_offline_shows_the_last_known_balance_with_its_time(page: Any) -> None:
    log_in(page)
    page.evaluate("navigator.serviceWorker.ready")
    page.goto("/")
    wait_for_service_worker(page)
    online_balance = page.inner_text("#available")
    page.context.set_offline(True)
    page.reload()
    assert page.inner_text("#available") == online_balance
    assert page.is_visible("#balance-as-of") and "北京时间" in page.inner_text("#balance-as-of")
    assert page.is_visible("#offline-banner")


def test_elder_mode_sizes_hold_on_the_earn_pages(page: Any) -> None:
    log_in(page)
    set_elder_mode(page, on=True)
    targets = ", ".join(
        (
            "main a.button",
            "main button",
            "main input[type=text]",
            "main select",
            "main textarea",
            "main input[type=datetime-local]",
            ".kind-face",
            ".earn-choice",
            "label.choice",
        )
    )
    for path in EARN_PAGES:
        page.goto(path)
        assert px(page, "body", "font-size") >= ELDER_BASE_PX, path
        for target in page.query_selector_all(targets):
            if not target.is_visible():
                continue
            box = target.bounding_box()
            assert box is not None and box["height"] >= ELDER_TAP_PX, (path, target.inner_text())
        for icon_holder in page.query_selector_all("main a:has(svg), main button:has(svg), .kind-face"):
            if icon_holder.is_visible():
                assert icon_holder.inner_text().strip(), path


def lines_of(element: Any) -> int:
    """How many lines an inline element's text takes on screen."""
    count: int = element.evaluate(
        "e => { const r = document.createRange(); r.selectNodeContents(e);"
        " return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; }"
    )
    return count


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_a_submissions_status_is_on_its_own_line_under_the_title(page: Any, elder: bool) -> None:
    """我的提交 at 360 px: the status badge is read on a line of its own under
    the title, never between the lines of a title it made wrap, and never breaks."""
    log_in(page)
    set_elder_mode(page, on=elder)
    page.goto("/earn/mine")
    submissions = page.locator(".submission")
    assert submissions.count() >= 3
    for index in range(submissions.count()):
        title = submissions.nth(index).locator(".reason")
        status = submissions.nth(index).locator(".status")
        title_box, status_box = title.bounding_box(), status.bounding_box()
        assert title_box is not None and status_box is not None
        words = title.inner_text()
        assert status_box["y"] >= title_box["y"] + title_box["height"] - 1, words
        assert lines_of(status) == 1, (words, status.inner_text())
