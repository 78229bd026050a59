"""Screenshots of the pages at 360×640, normal and elder mode, for the README:
``.venv/bin/python -m tests.browser.take_screenshots`` writes them to
``docs/screenshots/``. A throwaway SQLite database with the demo organisation,
served by uvicorn on a free port, photographed with the system Chromium.
Chinese needs a CJK font on the machine (Debian: ``fonts-wqy-microhei`` or
``fonts-noto-cjk``); without one every character is a box."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

_tmp = tempfile.mkdtemp(prefix="fengling-shots-")
atexit.register(shutil.rmtree, _tmp, ignore_errors=True)  # the throwaway database and uploads
os.environ["FENGLING_DATA_DIR"] = _tmp
os.environ["FENGLING_DATABASE_URL"] = f"sqlite:///{_tmp}/shots.sqlite3"
os.environ["FENGLING_REDIS_URL"] = "memory://"
os.environ["FENGLING_BACKGROUND_JOBS"] = "0"

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PAGES = (
    ("login", "/login"),
    ("home", "/"),
    ("statement", "/statement"),
    ("me", "/me"),
    ("catalog", "/shop"),
    ("ranking", "/ranking"),
    ("recognition", "/recognition"),
    ("earn", "/earn"),
    ("report", "/earn/report"),
    ("mine", "/earn/mine"),
    ("tasks", "/earn/tasks"),
    ("patrol", "/earn/patrol"),
)


def main() -> int:
    from tests.browser import conftest as harness

    chromium = harness.chromium_path()
    if chromium is None:
        print("Chromium not found: install the Debian package `chromium`", file=sys.stderr)
        return 1
    fc_list = shutil.which("fc-list")
    if fc_list and not subprocess.run([fc_list, ":lang=zh"], capture_output=True, text=True, check=False).stdout:  # noqa: S603
        print("no Chinese font: install the Debian package `fonts-wqy-microhei`", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    # Background jobs on: the leaderboards' feed puts the demo's awards on the boards.
    only_dashboard = sys.argv[1:] == ["dashboard"]
    with harness.serving(background_jobs=True) as base:
        harness.run_async(harness.fresh_demo)
        if not only_dashboard:
            claim_a_task_starting_soon(base)
            shoot(chromium, base)
        shoot_dashboard(chromium, base)
    print(f"screenshots in {OUT}")
    return 0


def claim_a_task_starting_soon(base: str) -> None:
    """A shift opening in ten minutes, grabbed by the volunteer: the tasks
    page shows its 去巡逻签到 and the patrol page the task its check-in counts for."""
    from datetime import timedelta

    import httpx

    from core.clock import utc_now
    from tests.browser.conftest import credentials

    def token(role: str) -> dict[str, str]:
        phone, password = credentials(role)
        answer = api.post("/api/v1/auth/login", json={"phone": phone, "password": password})
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    with httpx.Client(base_url=base) as api:
        volunteer = token("volunteer")
        grid = next(task["organisation_id"] for task in api.get("/api/v1/patrol-tasks", headers=volunteer).json())
        starts = utc_now() + timedelta(minutes=10)
        task = api.post(
            "/api/v1/patrol-tasks",
            json={
                "organisation_id": grid,
                "title_zh": "今晚护学岗：学府巷",
                "area": "学府巷—菜市场",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=2)).isoformat(),
                "slots": 3,
            },
            headers=token("organizer"),
        ).json()
        api.post(f"/api/v1/patrol-tasks/{task['id']}/claim", headers=volunteer).raise_for_status()


def shoot(chromium: str, base: str) -> None:
    """Login once, then each page, normal and in elder mode (the login page
    first in normal mode, as a new phone shows it; in elder mode after an
    elder member logged out)."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import VIEWPORT, credentials

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        for elder in (False, True):
            context = browser.new_context(viewport=VIEWPORT, base_url=base, locale="zh-CN")
            page = context.new_page()
            suffix = "-elder" if elder else ""
            page.goto("/login")
            if not elder:
                page.screenshot(path=OUT / "login.png")
            phone, password = credentials("volunteer")
            page.fill("#phone", phone)
            page.fill("#password", password)
            page.click("button[type=submit]")
            page.wait_for_url("**/")
            page.goto("/me")
            page.check(f"input[name=elder_mode][value='{1 if elder else 0}']")
            page.click("form[action='/me/preferences'] button[type=submit]")
            page.wait_for_url("**/me?n=me_saved")
            for name, path in PAGES[1:]:
                if name == "ranking":
                    wait_for_the_boards(page)
                page.goto(path)
                page.screenshot(path=OUT / f"{name}{suffix}.png")
            # An open order: its pickup code and QR.
            page.goto("/shop")
            page.click("text=毛巾")
            page.wait_for_url("**/shop/items/*")
            page.click("form.redeem button[type=submit]")
            page.wait_for_url("**/orders/*?n=order_placed")
            # What the member shows at the counter: the order, its code and the whole QR.
            page.evaluate("document.querySelector('main h1').scrollIntoView({block: 'start'})")
            page.screenshot(path=OUT / f"order-qr{suffix}.png")
            code = page.inner_text("#pickup-code").strip()
            # A page that is not there (404): in the member's language and mode.
            page.goto("/orders/999999")
            page.screenshot(path=OUT / f"not-found{suffix}.png")
            if elder:  # logged out, the phone keeps elder mode for the next login
                page.goto("/me")
                page.click("form[action='/logout'] button[type=submit]")
                page.wait_for_url("**/login*")
                page.screenshot(path=OUT / "login-elder.png")
            context.close()
            shoot_counter(browser, base, elder=elder, code=code)
        browser.close()


def shoot_counter(browser: Any, base: str, *, elder: bool, code: str) -> None:
    """The shop counter as its clerk sees it: the page, an order looked up
    by its code, and the month's statement."""
    from tests.browser.conftest import VIEWPORT, credentials

    context = browser.new_context(viewport=VIEWPORT, base_url=base, locale="zh-CN")
    page = context.new_page()
    suffix = "-elder" if elder else ""
    phone, password = credentials("shop_staff")
    page.goto("/login")
    page.fill("#phone", phone)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    page.goto("/me")
    page.check(f"input[name=elder_mode][value='{1 if elder else 0}']")
    page.click("form[action='/me/preferences'] button[type=submit]")
    page.wait_for_url("**/me?n=me_saved")
    page.goto("/counter")
    page.wait_for_selector("#scan[data-engine]")
    page.screenshot(path=OUT / f"counter{suffix}.png")
    page.fill("#code", code.lower())
    page.click("#look-up")
    page.wait_for_selector("#lookup-found")
    page.evaluate("document.getElementById('confirm-typed').scrollIntoView({block: 'center'})")
    page.screenshot(path=OUT / f"counter-check{suffix}.png")
    page.click("#confirm-typed")
    page.wait_for_selector("#lookup-done")
    page.goto(page.url.rstrip("/") + "/statement")
    page.screenshot(path=OUT / f"counter-statement{suffix}.png")
    context.close()


def shoot_dashboard(chromium: str, base: str) -> None:
    """The organiser's dashboard at 360×640 (normal and elder mode) and at a
    desktop width, and the printable monthly report
    (``python -m tests.browser.take_screenshots dashboard`` shoots only these)."""
    from playwright.sync_api import sync_playwright

    from reporting.rollups import rebuild
    from tests.browser import conftest as harness
    from tests.browser.conftest import VIEWPORT, credentials

    async def rolled_up() -> None:
        # The demo stamps its activities with past times while the job runs:
        # replay from the source rather than follow the cursor.
        await rebuild()

    harness.run_async(rolled_up)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        for name, viewport, elder in (
            ("dashboard", VIEWPORT, False),
            ("dashboard-elder", VIEWPORT, True),
            ("dashboard-desktop", DESKTOP, False),
        ):
            context = browser.new_context(viewport=viewport, base_url=base, locale="zh-CN")
            page = context.new_page()
            phone, password = credentials("organizer")
            page.goto("/login")
            page.fill("#phone", phone)
            page.fill("#password", password)
            page.click("button[type=submit]")
            page.wait_for_url("**/")
            page.goto("/me")
            page.check(f"input[name=elder_mode][value='{1 if elder else 0}']")
            page.click("form[action='/me/preferences'] button[type=submit]")
            page.wait_for_url("**/me?n=me_saved")
            page.goto("/dashboard?preset=quarter")
            page.wait_for_function("() => [...document.querySelectorAll('.chart')].every(c => c.dataset.drawn)")
            page.screenshot(path=OUT / f"{name}.png", full_page=True)
            if name == "dashboard-desktop":
                page.goto("/dashboard/report")
                page.screenshot(path=OUT / "dashboard-report.png", full_page=True)
            context.close()
        browser.close()


def wait_for_the_boards(page: object) -> None:
    """The feed runs every few seconds: until the volunteer is on the board."""
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        page.goto("/ranking")  # type: ignore[attr-defined]
        if "（我）" in page.inner_text("main"):  # type: ignore[attr-defined]
            return
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
