"""Acting in the operator console (``/admin``) as a member: a Fengling
session cookie, piccolo_admin's CSRF pair, and its form and table API."""

from __future__ import annotations

from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.community.auth import SESSION_COOKIE
from community.phones import normalise_phone
from community.tables import Member
from tests.support.community_helpers import PASSWORD

Client = AsyncTestClient[Litestar]
CONSOLE_CSRF_COOKIE = "csrftoken"


async def phone_of(member_id: int) -> str:
    phone = await Member.select(Member.phone).where(Member.id == member_id).first().run()
    assert phone is not None
    return normalise_phone(str(phone["phone"]))


async def act_as(client: Client, member_id: int) -> None:
    """Log the member in through the API and keep their token as the pages'
    session cookie (the console's only authority), with nothing else."""
    await act_as_with_password(client, member_id, PASSWORD)


async def act_as_with_password(client: Client, member_id: int, password: str) -> None:
    """``act_as`` for a member whose password is not the test helpers' one (the demo's)."""
    response = await client.post("/api/v1/auth/login", json={"phone": await phone_of(member_id), "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, response.json()["access_token"])


async def csrf_headers(client: Client) -> dict[str, str]:
    """piccolo's double-submit pair: a console GET sets the cookie; the
    front end echoes it in ``X-CSRFToken``."""
    response = await client.get("/admin/api/user/")
    assert response.status_code == 200, response.text
    token = client.cookies.get(CONSOLE_CSRF_COOKIE)
    assert token, "the console set no CSRF cookie"
    return {"X-CSRFToken": token}


async def submit_form(client: Client, slug: str, data: dict[str, Any]) -> httpx.Response:
    return await client.post(f"/admin/api/forms/{slug}/", json=data, headers=await csrf_headers(client))
