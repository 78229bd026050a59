"""The offline shell keeps one member's pages, and not past their session
(``web/static/service-worker.js``): what a phone shared in a family, or a
counter tablet, shows offline is never someone else's pickup code or
statement."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.test_earn_in_browser import wait_for_service_worker
from tests.browser.test_pages_in_browser import log_in

KEPT_PAGES = """async () => {
  const kept = {};
  for (const name of await caches.keys()) {
    if (!name.endsWith("-pages")) { continue; }
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      kept[new URL(request.url).pathname] = response.headers.get("X-Fengling-Viewer") || await response.text();
    }
  }
  return kept;
}"""


@pytest.fixture
def page(located_page: Any) -> Any:
    return located_page


def kept(page: Any) -> dict[str, str]:
    """Path → viewer of every page the shell keeps (and the holder's key)."""
    pages: dict[str, str] = page.evaluate(KEPT_PAGES)
    return pages


def eventually(page: Any, check: Callable[[dict[str, str]], bool], what: str) -> dict[str, str]:
    for _ in range(50):
        pages = kept(page)
        if check(pages):
            return pages
        page.wait_for_timeout(100)
    raise AssertionError(f"the kept pages never {what}: {kept(page)}")


def viewer(page: Any) -> str:
    return str(page.get_attribute("#outbox", "data-member"))


def shell_ready(page: Any) -> str:
    """Log in as the volunteer with the shell in control; their member id."""
    log_in(page)
    page.evaluate("navigator.serviceWorker.ready")
    wait_for_service_worker(page)
    return viewer(page)


# What the worker keeps as it starts, so these open offline before a visit
# (web/static/service-worker.js PAGES).
WARMED = (
    "/",
    "/earn",
    "/earn/report",
    "/earn/patrol",
    "/earn/service",
    "/earn/mine",
    "/earn/tasks",
    "/statement",
    "/me",
)


def test_the_shell_keeps_every_warmed_page_though_it_keeps_them_all_at_once(page: Any) -> None:
    """The warm-up keeps nine pages at once; each first finds no holder for
    the cache. Done one after another, none empties what another kept."""
    me = shell_ready(page)
    pages = eventually(page, lambda p: set(WARMED) <= set(p), "held every warmed page")
    assert {pages[path] for path in WARMED} == {me}


def test_the_shell_keeps_the_members_pages_but_never_printouts(page: Any) -> None:
    me = shell_ready(page)
    for path in ("/statement", "/orders", "/statement/print"):
        page.goto(path)
    pages = eventually(page, lambda p: "/orders" in p, "held /orders")
    assert "/statement/print" not in pages
    assert {holder for path, holder in pages.items()} == {me}


def test_logging_out_leaves_no_page_of_the_member_on_the_phone(page: Any) -> None:
    shell_ready(page)
    page.goto("/orders")
    eventually(page, lambda p: "/orders" in p, "held /orders")
    page.goto("/me")
    page.click("form[action='/logout'] button")
    page.wait_for_url("**/login?n=logged_out")
    assert eventually(page, lambda p: p == {}, "emptied on logout") == {}


def test_a_session_that_ended_elsewhere_takes_its_pages_with_it(page: Any) -> None:
    """Expired, or ended by a password change on another phone: the first
    page that asks for a login empties the cache, though no one pressed
    "log out" here."""
    shell_ready(page)
    page.goto("/statement")
    eventually(page, lambda p: "/statement" in p, "held /statement")
    page.context.clear_cookies()
    page.goto("/statement")
    assert "/login" in page.url
    assert eventually(page, lambda p: p == {}, "emptied when the session ended") == {}


def test_another_member_logging_in_on_the_same_phone_replaces_the_kept_pages(page: Any) -> None:
    first = shell_ready(page)
    page.goto("/orders")
    eventually(page, lambda p: "/orders" in p, "held /orders")
    page.context.clear_cookies()  # no logout: the next person just logs in
    log_in(page, "grid_worker")
    second = viewer(page)
    assert second != first
    page.goto("/me")
    pages = eventually(page, lambda p: "/me" in p and first not in p.values(), f"dropped member {first}'s pages")
    assert "/orders" not in pages
