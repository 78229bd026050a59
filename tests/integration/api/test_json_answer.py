"""``api.json_answer.JsonAnswer`` sends exactly what Litestar's ``Response``
sends for the same content (status, headers, bytes), and is Litestar's
``Response`` whenever a layer adds a header, a cookie or a background task;
content msgspec cannot encode fails instead of being sent some other way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from litestar import Litestar, Response, get
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import Cookie, ResponseHeader
from litestar.testing import AsyncTestClient

from api.json_answer import JsonAnswer, SentJson

CONTENT: dict[str, Any] = {
    "account_code": "volunteer:42:wallet",
    "name_zh": "志愿者积分账户",
    "reason": 'Order "rice" \\ 5 kg\n',
    "balance": "47.50",
    "count": 3,
    "missing": None,
    "has_wallet": True,
    "holds": [
        {"created_at": datetime(2026, 11, 30, 15, 47, 16, 862250, tzinfo=UTC)},
        {"created_at": datetime(2026, 11, 30, 15, 47, 16, tzinfo=UTC)},
        {"created_at": datetime(2026, 5, 1, 8, 0, 0, 500000, tzinfo=timezone(timedelta(hours=8)))},
    ],
    "empty": [],
}


@get("/litestar", sync_to_thread=False)
def litestar_response() -> Response[dict[str, Any]]:
    return Response(CONTENT)


@get("/answer", sync_to_thread=False)
def json_answer() -> Response[dict[str, Any]]:
    return JsonAnswer(CONTENT)


@get("/answer/created", sync_to_thread=False, status_code=201)
def json_answer_created() -> Response[dict[str, Any]]:
    return JsonAnswer(CONTENT)


@get("/litestar/created", sync_to_thread=False, status_code=201)
def litestar_created() -> Response[dict[str, Any]]:
    return Response(CONTENT)


@get("/answer/layered", sync_to_thread=False, response_headers=[ResponseHeader(name="X-Layer", value="1")])
def json_answer_under_a_header_layer() -> Response[dict[str, Any]]:
    return JsonAnswer(CONTENT, cookies=[Cookie(key="k", value="v")])


@get("/answer/decimal", sync_to_thread=False)
def json_answer_with_a_decimal() -> Response[dict[str, Any]]:
    return JsonAnswer({"amount": Decimal("1.50")})


@get("/litestar/decimal", sync_to_thread=False)
def litestar_with_a_decimal() -> Response[dict[str, Any]]:
    return Response({"amount": Decimal("1.50")})


ran: list[str] = []


@get("/answer/background", sync_to_thread=False)
def json_answer_with_a_background_task() -> Response[dict[str, Any]]:
    return JsonAnswer(CONTENT, background=BackgroundTask(ran.append, "after"))


@pytest.fixture
async def client() -> Any:
    app = Litestar(
        route_handlers=[
            litestar_response,
            json_answer,
            json_answer_created,
            litestar_created,
            json_answer_under_a_header_layer,
            json_answer_with_a_decimal,
            litestar_with_a_decimal,
            json_answer_with_a_background_task,
        ],
        type_encoders={Decimal: str},  # as api/app.py
    )
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


def _sent(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    return response.status_code, list(response.headers.multi_items()), response.content


@pytest.mark.parametrize(("ours", "litestars"), [("/answer", "/litestar"), ("/answer/created", "/litestar/created")])
async def test_it_sends_what_litestar_sends_for_the_same_content(client: Any, ours: str, litestars: str) -> None:
    assert _sent(await client.get(ours)) == _sent(await client.get(litestars))


def test_with_nothing_but_the_content_to_send_it_skips_litestars_response() -> None:
    # What Litestar's route passes for a route with no header, cookie or background layer (api/app.py's encoders).
    layers: dict[str, Any] = {"headers": {}, "cookies": [], "type_encoders": {Decimal: str}, "status_code": 200}
    plain = JsonAnswer(CONTENT).to_asgi_response(None, None, media_type="application/json", **layers)  # type: ignore[arg-type]
    own_header = JsonAnswer(CONTENT, headers={"X-Own": "1"}).to_asgi_response(None, None, **layers)  # type: ignore[arg-type]
    assert isinstance(plain, SentJson)
    assert not isinstance(own_header, SentJson)


async def test_a_decimal_leaves_as_litestar_sends_it(client: Any) -> None:
    assert _sent(await client.get("/answer/decimal")) == _sent(await client.get("/litestar/decimal"))


async def test_headers_cookies_and_background_tasks_of_the_layers_are_kept(client: Any) -> None:
    layered = await client.get("/answer/layered")
    assert layered.headers["x-layer"] == "1" and layered.cookies["k"] == "v"
    assert layered.json()["name_zh"] == CONTENT["name_zh"]
    ran.clear()
    await client.get("/answer/background")
    assert ran == ["after"]


@pytest.mark.parametrize("options", [{}, {"status_code": 201, "media_type": "application/json"}])
def test_it_holds_what_litestars_response_holds_for_the_same_arguments(options: dict[str, Any]) -> None:
    ours, litestars = JsonAnswer(CONTENT, **options), Response(CONTENT, **options)
    assert {name: getattr(ours, name) for name in Response.__slots__} == {
        name: getattr(litestars, name) for name in Response.__slots__
    }


def test_content_it_cannot_encode_fails_instead_of_being_sent() -> None:
    answer = JsonAnswer({"odd": object()})
    with pytest.raises(TypeError):
        answer.to_asgi_response(None, None)  # type: ignore[arg-type]


async def test_it_sends_the_start_then_the_body() -> None:
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    await SentJson(b'{"a":1}', 200)({}, None, send)  # type: ignore[arg-type]

    assert [message["type"] for message in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["headers"] == [(b"content-type", b"application/json"), (b"content-length", b"7")]
    assert sent[1] == {"type": "http.response.body", "body": b'{"a":1}', "more_body": False}
