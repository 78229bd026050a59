"""巡逻任务 · 抢单 in headless Chromium at 360×640: from home to the task,
抢单, then the patrol check-in made offline, queued with the task and
counted for it once the phone is back online; and the page in elder mode
(sizes, words next to icons). Axe runs over the page with the others in
``test_accessibility.py``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from core.clock import utc_now
from tests.browser.conftest import VIEWPORT
from tests.browser.test_earn_in_browser import api_token, wait_for_service_worker, wait_until_sent
from tests.browser.test_pages_in_browser import ELDER_BASE_PX, ELDER_TAP_PX, log_in, px, set_elder_mode

TASK = "今晚护学岗：学府巷"


@pytest.fixture
def page(located_page: Any) -> Any:
    return located_page


def put_up_task_starting_soon(base_url: str) -> int:
    """A 3-slot task at the demo volunteer's grid, its window opening in ten minutes."""
    with httpx.Client(base_url=base_url) as api:
        volunteer = api.get("/api/v1/patrol-tasks", headers=api_token(base_url, "volunteer")).json()
        grid = next(task["organisation_id"] for task in volunteer if task["slots"])
        starts = utc_now() + timedelta(minutes=10)
        created = api.post(
            "/api/v1/patrol-tasks",
            json={
                "organisation_id": grid,
                "title_zh": TASK,
                "area": "学府巷—菜市场",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=2)).isoformat(),
                "slots": 3,
                "points_multiplier": "2.00",
            },
            headers=api_token(base_url, "organizer"),
        )
        assert created.status_code == 201, created.text
        return int(created.json()["id"])


def claims_of(base_url: str, task_id: int) -> list[dict[str, Any]]:
    with httpx.Client(base_url=base_url) as api:
        claims: list[dict[str, Any]] = api.get(
            f"/api/v1/patrol-tasks/{task_id}/claims", headers=api_token(base_url, "organizer")
        ).json()
    return claims


def test_grab_a_task_then_an_offline_check_in_counts_for_it(page: Any, demo: str) -> None:
    task_id = put_up_task_starting_soon(demo)
    csp: list[str] = []
    page.on("console", lambda message: csp.append(message.text) if "Content Security Policy" in message.text else None)
    log_in(page)
    page.evaluate("navigator.serviceWorker.ready")
    page.click("#tasks-link")
    page.wait_for_url("**/earn/tasks")
    card = f"#open-tasks #task-{task_id}"
    assert "还剩 3 个（共 3 个）" in page.inner_text(card) and "× 2 倍" in page.inner_text(card)
    assert "北京时间" in page.inner_text(card)
    page.click(f"{card} button.grab")
    page.wait_for_url("**/earn/tasks?n=task_claimed*")
    assert "抢到了" in page.inner_text("#flash")
    mine = f"#my-tasks #task-{task_id}"
    assert "还剩 2 个（共 3 个）" in page.inner_text(mine) and "已抢到" in page.inner_text(mine)

    page.click(f"{mine} a[href='/earn/patrol']")
    page.wait_for_url("**/earn/patrol")
    wait_for_service_worker(page)
    assert "本次巡逻计入任务：" + TASK in page.inner_text("#check-in-task")
    page.context.set_offline(True)
    page.click("#check-in button[type=submit]")
    page.wait_for_selector("#walking:not([hidden])")
    assert TASK in page.inner_text("#walking-task")
    assert claims_of(demo, task_id)[0]["status"] == "claimed"  # still on the phone

    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_until_sent(page)
    [claim] = claims_of(demo, task_id)
    assert claim["status"] == "checked_in" and claim["activity_id"] is not None
    page.goto("/earn/patrol")
    assert TASK in page.inner_text("#walking-task")
    page.goto("/earn/tasks")
    assert "已签到巡逻" in page.inner_text(mine)
    assert csp == []


def test_a_check_in_from_a_page_left_open_past_the_window_is_a_free_patrol(page: Any, demo: str) -> None:
    task_id = put_up_task_starting_soon(demo)
    log_in(page)
    with httpx.Client(base_url=demo) as api:
        api.post(f"/api/v1/patrol-tasks/{task_id}/claim", headers=api_token(demo, "volunteer")).raise_for_status()
    page.goto("/earn/patrol")
    assert TASK in page.inner_text("#check-in-task")
    # The page stays open until after the task's window (as if its end had passed).
    page.evaluate(
        "document.querySelector('[name=patrol_task_id]').setAttribute('data-ends', '2000-01-01T00:00:00+00:00')"
    )
    page.click("#check-in button[type=submit]")
    page.wait_for_selector("#walking:not([hidden])")
    wait_until_sent(page)
    assert not page.is_visible("#walking-task")
    assert page.query_selector("#outbox-attention li") is None  # sent, not refused
    [claim] = claims_of(demo, task_id)
    assert claim["status"] == "claimed"  # the patrol did not count for it
    with httpx.Client(base_url=demo, headers=api_token(demo, "volunteer")) as api:
        patrols = api.get("/api/v1/activities", params={"kind": "patrol", "status": "checked_in"}).json()["items"]
    assert [patrol["patrol_task_id"] for patrol in patrols] == [None]


def test_the_tasks_page_in_elder_mode_keeps_the_sizes_and_the_five_tabs_fit(page: Any, demo: str) -> None:
    log_in(page)
    set_elder_mode(page, on=True)
    page.goto("/earn/tasks")
    assert px(page, "body", "font-size") >= ELDER_BASE_PX
    targets = [t for t in page.query_selector_all("main a.button, main button") if t.is_visible()]
    assert len(targets) >= 2  # the demo volunteer's 取消 and at least one 抢单
    for target in targets:
        box = target.bounding_box()
        assert box is not None and box["height"] >= ELDER_TAP_PX, target.inner_text()
        assert box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORT["width"], target.inner_text()
    assert page.inner_text("#open-tasks button.grab").strip() == "抢单"
    # The bottom nav: still five tabs within 360 px, each with its word.
    tabs = page.query_selector_all("nav.tabs a")
    assert len(tabs) == 5
    for tab in tabs:
        box = tab.bounding_box()
        assert box is not None and box["x"] + box["width"] <= VIEWPORT["width"] and tab.inner_text().strip()
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORT["width"]
