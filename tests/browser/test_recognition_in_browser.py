"""我的星级与徽章 in headless Chromium at 360×640: reached from the me page,
the level as stars with words and its progress, badges with a China-time
date, grey "not yet" badges; elder mode's sizes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import VIEWPORT
from tests.browser.test_pages_in_browser import ELDER_BASE_PX, ELDER_TAP_PX, TAP_TARGETS, log_in, px, set_elder_mode


@pytest.fixture
def page(browser: Any, demo: str) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT, base_url=demo, locale="zh-CN")
    yield context.new_page()
    context.close()


def test_the_me_page_leads_to_my_stars_and_badges(page: Any) -> None:
    log_in(page)
    page.goto("/me")
    page.click("a[href='/recognition']")
    page.wait_for_url("**/recognition")
    assert "星（共 5 星）" in page.inner_text("#stars")
    assert "升到 2 星" in page.inner_text("#next-star")
    assert page.eval_on_selector("progress.star-progress", "e => e.value") >= 0
    earned = page.inner_text("#earned-badges")
    assert "初次上报" in earned and "北京时间" in earned
    # Not yet earned: shown, greyed, with how to earn it.
    assert "怎样获得" in page.inner_text("#open-badges")
    grey = page.eval_on_selector(".award.not-yet .award-icon", "e => getComputedStyle(e).filter")
    assert "grayscale" in grey
    # The activity that earned the first badge opens from it.
    page.click("#earned-badges a")
    page.wait_for_url("**/activities/*")


def test_in_elder_mode_the_page_keeps_large_type_and_large_targets(page: Any) -> None:
    log_in(page)
    set_elder_mode(page, on=True)
    page.goto("/recognition")
    assert px(page, "body", "font-size") >= ELDER_BASE_PX
    assert px(page, ".award-how", "font-size") >= ELDER_BASE_PX
    targets = [target for target in page.query_selector_all(TAP_TARGETS) if target.is_visible()]
    assert targets
    for target in targets:
        box = target.bounding_box()
        assert box is not None and box["height"] >= ELDER_TAP_PX, target.inner_text()
