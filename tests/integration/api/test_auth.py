from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.api.conftest import credentials, login_headers


async def test_login_returns_a_token_that_opens_me(client: AsyncTestClient[Litestar], demo: None) -> None:
    headers = await login_headers(client, "volunteer")
    me = await client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["phone"] == credentials("volunteer")[0]
    assert [g["role"] for g in me.json()["roles"]] == ["volunteer"]


async def test_wrong_password_and_unknown_phone_look_the_same(client: AsyncTestClient[Litestar], demo: None) -> None:
    phone, _ = credentials("volunteer")
    wrong = await client.post("/api/v1/auth/login", json={"phone": phone, "password": "not-the-password"})
    unknown = await client.post("/api/v1/auth/login", json={"phone": "13911112222", "password": "not-the-password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.headers["content-type"].startswith("application/problem+json")
    assert wrong.json()["code"] == unknown.json()["code"] == "bad_credentials"
    assert wrong.json()["title"] == "手机号或密码错误"


async def test_login_locks_after_repeated_failures_for_that_phone_only(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    phone, password = credentials("volunteer")
    for _ in range(5):  # FENGLING_LOGIN_MAX_FAILURES default
        response = await client.post("/api/v1/auth/login", json={"phone": phone, "password": "wrong-password"})
        assert response.status_code == 401
    locked = await client.post("/api/v1/auth/login", json={"phone": phone, "password": password})
    assert locked.status_code == 429
    assert locked.json()["code"] == "login_locked"
    assert int(locked.headers["retry-after"]) > 0
    # Another member is not locked out by this phone's failures.
    other_phone, other_password = credentials("organizer")
    other = await client.post("/api/v1/auth/login", json={"phone": other_phone, "password": other_password})
    assert other.status_code == 200


async def test_requests_without_or_with_forged_token_are_refused(client: AsyncTestClient[Litestar], demo: None) -> None:
    assert (await client.get("/api/v1/me")).status_code == 401
    forged = await client.get("/api/v1/me", headers={"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"})
    assert forged.status_code == 401
    assert forged.headers["content-type"].startswith("application/problem+json")


async def test_english_titles_on_request(client: AsyncTestClient[Litestar], demo: None) -> None:
    response = await client.get("/api/v1/me", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert response.json()["title"] == "Please log in"
