"""The served OpenAPI document says what the server does.

The review found every 4xx documented as ``application/json`` (it is
``application/problem+json``), the invitation password with ``minLength``
1 (the server needs 8) and ``maxLength`` on an array.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from community.passwords import MIN_PASSWORD_CHARS

METHODS = ("get", "put", "post", "patch", "delete")


async def _document(client: AsyncTestClient[Litestar]) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


async def test_every_error_response_is_documented_as_a_problem(client: AsyncTestClient[Litestar]) -> None:
    """Each operation documents its 4xx (and 503) as problem+json with the
    Problem schema, and nothing else."""
    document = await _document(client)
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["properties"]) >= {"type", "title", "status", "detail", "code", "instance", "field", "errors"}
    wrong = []
    for path, method, operation in _operations(document):
        codes = operation["responses"]
        if "4XX" not in codes or ("422" not in codes and (operation.get("parameters") or "requestBody" in operation)):
            wrong.append(f"{method} {path}: {sorted(codes)}")
        for code, response in codes.items():
            if code.startswith("4") or (code == "503" and operation["operationId"] != "health"):
                content = response.get("content", {})
                if list(content) != ["application/problem+json"] or content["application/problem+json"]["schema"] != {
                    "$ref": "#/components/schemas/Problem"
                }:
                    wrong.append(f"{method} {path} {code}: {list(content)}")
    assert wrong == [], "\n".join(wrong)


async def test_login_needs_no_token_and_everything_else_documents_401(client: AsyncTestClient[Litestar]) -> None:
    document = await _document(client)
    for path, _method, operation in _operations(document):
        if operation["operationId"] in ("login", "acceptInvitation", "health"):
            assert operation["security"] == [], path
            assert "401" not in operation["responses"], path
        else:
            assert "security" not in operation or operation["security"], path
            assert {"401", "403"} <= set(operation["responses"]), path


async def test_rate_limited_operations_document_429(client: AsyncTestClient[Litestar]) -> None:
    document = await _document(client)
    limited = {op["operationId"] for _, _, op in _operations(document) if "429" in op["responses"]}
    assert {"login", "acceptInvitation", "confirmPickup"} <= limited


async def test_the_invitation_password_needs_as_many_characters_as_the_server(
    client: AsyncTestClient[Litestar],
) -> None:
    document = await _document(client)
    password = document["components"]["schemas"]["InvitationAcceptIn"]["properties"]["password"]
    assert password["minLength"] == MIN_PASSWORD_CHARS


def _arrays_with_string_lengths(node: Any, path: str = "") -> list[str]:
    found = []
    if isinstance(node, dict):
        if node.get("type") == "array" and ({"maxLength", "minLength"} & set(node)):
            found.append(path)
        for key, value in node.items():
            found += _arrays_with_string_lengths(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _arrays_with_string_lengths(value, f"{path}/{index}")
    return found


async def test_no_array_has_a_string_length(client: AsyncTestClient[Litestar]) -> None:
    """``maxLength`` means nothing on an array; the route-point batch says maxItems."""
    document = await _document(client)
    assert _arrays_with_string_lengths(document) == []
    route = document["paths"]["/api/v1/activities/patrols/{activity_id}/route"]["post"]
    assert route["requestBody"]["content"]["application/json"]["schema"]["maxItems"] == 100


async def test_binary_answers_name_their_media_types(client: AsyncTestClient[Litestar]) -> None:
    document = await _document(client)
    photo = document["paths"]["/api/v1/activities/photos/{sha256}"]["get"]["responses"]["200"]["content"]
    assert set(photo) == {"image/png", "image/jpeg", "image/webp"}


async def test_image_uploads_document_their_file_part(client: AsyncTestClient[Litestar]) -> None:
    """The photo upload's multipart field ``data`` was undocumented (README/OpenAPI
    drift): each image upload names it, as a required binary part with what it may hold."""
    document = await _document(client)
    for path in ("/api/v1/activities/photos", "/api/v1/catalog/items/{item_id}/image"):
        operation = document["paths"][path]["post"]
        schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
        if "$ref" in schema:
            schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        assert schema["required"] == ["data"], path
        data = schema["properties"]["data"]
        assert (data["type"], data["format"], data["contentMediaType"]) == ("string", "binary", "image/*"), path
        assert "PNG, JPEG or WebP" in data["description"], path
