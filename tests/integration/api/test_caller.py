"""``api.caller.caller()``: the authenticated caller for a handler that takes
no parameters (the wallet read). The JWT middleware records the caller only
while a request runs inside it and unsets it however the request ends, so
no caller outlives its request in the task or context that ran it; outside
one, ``caller()`` refuses with a 401."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.exceptions import NotAuthorizedException
from litestar.testing import AsyncTestClient

from api.caller import caller
from community.access import Principal
from tests.integration.api.conftest import login_headers

Client = AsyncTestClient[Litestar]


def _scope(path: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        "root_path": "",
    }


async def _nothing() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _ignore(_: Any) -> None:
    return None


def test_outside_a_request_there_is_no_caller() -> None:
    with pytest.raises(NotAuthorizedException):
        caller()


async def test_the_caller_is_recorded_while_the_request_runs_and_unset_when_it_fails(
    app: Litestar, client: Client, demo: None
) -> None:
    headers = await login_headers(client, "volunteer")
    me = (await client.get("/api/v1/me", headers=headers)).json()
    seen: list[Principal] = []

    async def failing_handler(scope: Any, receive: Any, send: Any) -> None:
        seen.append(caller())
        raise RuntimeError("the handler failed")

    middleware = app.state.jwt_auth.middleware(failing_handler)

    with pytest.raises(RuntimeError):
        await middleware(_scope("/api/v1/me/wallet", headers), _nothing, _ignore)

    assert [principal.member_id for principal in seen] == [me["id"]]
    with pytest.raises(NotAuthorizedException):
        caller()  # this task ran the request: nothing of it is left here


async def test_a_request_the_middleware_skips_has_no_caller_even_after_an_authenticated_one(
    app: Litestar, client: Client, demo: None
) -> None:
    headers = await login_headers(client, "volunteer")
    middleware = app.state.jwt_auth.middleware(_record_caller)
    recorded.clear()

    await middleware(_scope("/api/v1/me/wallet", headers), _nothing, _ignore)
    await middleware(_scope("/health", {}), _nothing, _ignore)  # excluded from authentication

    assert [type(found) for found in recorded] == [Principal, NotAuthorizedException]


recorded: list[object] = []


async def _record_caller(scope: Any, receive: Any, send: Any) -> None:
    try:
        recorded.append(caller())
    except NotAuthorizedException as refused:
        recorded.append(refused)


async def test_the_wallet_answers_anonymous_callers_401(client: Client) -> None:
    answer = await client.get("/api/v1/me/wallet")
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
