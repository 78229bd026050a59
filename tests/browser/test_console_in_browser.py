"""The operator console (``/admin``) in headless Chromium: an admin opens
it, logs in on our login page, comes back, and the console renders under
its CSP with no violation and no script error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import credentials

CONSOLE_VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture
def page(browser: Any, demo: str) -> Iterator[Any]:
    context = browser.new_context(viewport=CONSOLE_VIEWPORT, base_url=demo, locale="zh-CN")
    yield context.new_page()
    context.close()


def test_an_admin_logs_in_on_our_page_and_the_console_renders(page: Any) -> None:
    errors: list[str] = []
    failed: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console", lambda message: errors.append(message.text) if "Content Security Policy" in message.text else None
    )
    page.on(
        "response",
        lambda response: failed.append(f"{response.status} {response.url}") if response.status >= 400 else None,
    )

    page.goto("/admin/")
    page.wait_for_url("**/login?next=/admin/")
    phone, password = credentials("admin")
    page.fill("#phone", phone)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    # The console's sidebar lists our read-only tables once it has loaded them.
    page.wait_for_selector("text=Community Audit Event", timeout=15_000)
    page.click("text=Ledger Entry")
    page.wait_for_selector("table tbody tr >> text=award", timeout=15_000)

    assert errors == []
    assert failed == []
