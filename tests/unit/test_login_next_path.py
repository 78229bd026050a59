"""Where a login may send its member back to: only paths of this site
(``web.session_cookie.local_next_path``), never another site."""

from __future__ import annotations

import pytest

from web.session_cookie import MAX_NEXT_PATH_CHARS, local_next_path


@pytest.mark.parametrize("path", ["/admin/", "/", "/counter?shop=3", "/statement#top"])
def test_a_path_of_this_site_is_kept(path: str) -> None:
    assert local_next_path(path) == path


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "admin/",
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "/admin/\\x",
        "/a b",
        "/管理",
        "/x\r\nSet-Cookie: a=b",
        "/login",
        "/login?next=/admin/",
        "/" + "a" * MAX_NEXT_PATH_CHARS,
    ],
)
def test_anything_else_is_dropped(value: str | None) -> None:
    assert local_next_path(value) is None
