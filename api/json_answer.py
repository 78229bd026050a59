"""A JSON answer sent as its two ASGI messages, for the busiest read.

A handler's ``Response`` becomes Litestar's ``ASGIResponse`` in
``Response.to_asgi_response``: it merges the layers' headers, cookies and
type encoders, picks a serializer, then builds the headers in a
``MutableScopeHeaders`` (two ``setdefault``s through Python's
``MutableMapping``) before sending them. On ``GET /api/v1/me/wallet`` that
was ~65,000 of the request's ~657,000 instructions, 10 %
(``bench/RESULTS.md``, session 11), for an answer that is always a JSON
object with no cookie and no extra header.

``JsonAnswer`` is a ``Response``: the route keeps its declared schema
(``-> Response[WalletOut]``) and Litestar hands it the route's layers as
for any response. When a layer adds nothing (no header, cookie or
background task, a JSON media type, not a HEAD request) it encodes the
content with msgspec (strings, numbers, booleans, None, lists, dicts and
``datetime``s, exactly as Litestar's own JSON encoder writes them; anything
else fails loudly rather than being sent differently) and sends the same
two messages ``ASGIResponse`` would: status, ``content-type`` and
``content-length``, then the body. Otherwise it is Litestar's
``Response``, unchanged. ``tests/integration/api/test_json_answer.py``
compares both for the same content.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
from litestar import Response
from litestar.enums import MediaType, OpenAPIMediaType
from litestar.status_codes import HTTP_200_OK

if TYPE_CHECKING:
    from litestar.app import Litestar
    from litestar.background_tasks import BackgroundTask, BackgroundTasks
    from litestar.connection import Request
    from litestar.datastructures import Cookie
    from litestar.types import ASGIApp, Receive, Scope, Send, TypeEncodersMap
    from litestar.types.composite_types import ResponseCookies, ResponseHeaders

T = TypeVar("T")

_JSON = MediaType.JSON.value
_CONTENT_TYPE = (b"content-type", _JSON.encode("latin-1"))
_encode = msgspec.json.Encoder().encode


class JsonAnswer(Response[T]):
    """A ``Response`` whose JSON is sent without Litestar's ``ASGIResponse``
    when nothing but the content is to be sent (see the module)."""

    __slots__ = ()

    def __init__(
        self,
        content: T,
        *,
        background: BackgroundTask | BackgroundTasks | None = None,
        cookies: ResponseCookies | None = None,
        encoding: str = "utf-8",
        headers: ResponseHeaders | None = None,
        media_type: MediaType | OpenAPIMediaType | str | None = None,
        status_code: int | None = None,
        type_encoders: TypeEncodersMap | None = None,
    ) -> None:
        if background is None and cookies is None and headers is None and type_encoders is None:
            # What Response.__init__ sets for these arguments, without its isinstance checks
            # against typing's Mapping (two generic-alias checks per answer).
            self.content = content
            self.background = None
            self.cookies = []
            self.encoding = encoding
            self.headers = {}
            self.media_type = media_type
            self.status_code = status_code
            self.response_type_encoders = {**(self.type_encoders or {})}
            return
        super().__init__(
            content,
            background=background,
            cookies=cookies,
            encoding=encoding,
            headers=headers,
            media_type=media_type,
            status_code=status_code,
            type_encoders=type_encoders,
        )

    # Litestar declares ``ASGIResponse``; its route only calls the result as an ASGI app
    # (``litestar/routes/http.py`` ``HTTPRoute.handle``), which ``SentJson`` is.
    def to_asgi_response(  # type: ignore[override]
        self,
        app: Litestar | None,
        request: Request[Any, Any, Any],
        *,
        background: BackgroundTask | BackgroundTasks | None = None,
        cookies: Iterable[Cookie] | None = None,
        encoded_headers: Iterable[tuple[bytes, bytes]] | None = None,
        headers: dict[str, str] | None = None,
        is_head_response: bool = False,
        media_type: MediaType | str | None = None,
        status_code: int | None = None,
        type_encoders: TypeEncodersMap | None = None,
    ) -> ASGIApp:
        answer_media_type = self.media_type or media_type or _JSON
        if (
            background is None
            and self.background is None
            and not cookies
            and not self.cookies
            and not encoded_headers
            and not headers
            and not self.headers
            and not is_head_response
            and answer_media_type in (_JSON, MediaType.JSON)
            and app is None
        ):
            return SentJson(_encode(self.content), self.status_code or status_code or HTTP_200_OK)
        return super().to_asgi_response(
            app,
            request,
            background=background,
            cookies=cookies,
            encoded_headers=encoded_headers,
            headers=headers,
            is_head_response=is_head_response,
            media_type=media_type,
            status_code=status_code,
            type_encoders=type_encoders,
        )


class SentJson:
    """An ASGI app sending one encoded JSON body: what ``ASGIResponse``
    sends for it, start then body."""

    __slots__ = ("_body", "_start")

    def __init__(self, body: bytes, status_code: int) -> None:
        self._start = {
            "type": "http.response.start",
            "status": status_code,
            "headers": [_CONTENT_TYPE, (b"content-length", str(len(body)).encode("latin-1"))],
        }
        self._body = {"type": "http.response.body", "body": body, "more_body": False}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(self._start)  # type: ignore[arg-type]
        await send(self._body)  # type: ignore[arg-type]
