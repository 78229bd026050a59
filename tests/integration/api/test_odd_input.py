"""Odd input found by the outside review answers 4xx problem+json, never a 500.

Ids beyond any column's range in request bodies, and JSON nested deeper than
any real request, were 500s with a traceback in the log.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.params import MAX_BIG_ID
from tests.integration.api.conftest import login_headers
from tests.support.marketplace_helpers import assert_same, snapshot_everything

TOO_BIG = 2**63
NOW = "2026-11-20T09:00:00+08:00"
LATER = "2026-11-20T10:00:00+08:00"
POSITION = {"latitude": 35.05, "longitude": 118.35}

# Every activity submission body with each id it carries.
SUBMISSIONS: list[tuple[str, dict[str, Any], str]] = [
    ("/api/v1/activities/service", {"title": "扫雪", "started_at": NOW, "ended_at": LATER}, "campaign_id"),
    ("/api/v1/activities/service", {"title": "扫雪", "started_at": NOW, "ended_at": LATER}, "team_id"),
    ("/api/v1/activities/service", {"title": "扫雪", "started_at": NOW, "ended_at": LATER}, "organisation_id"),
    ("/api/v1/activities/patrols", {"position": POSITION}, "patrol_task_id"),
    ("/api/v1/activities/patrols", {"position": POSITION}, "team_id"),
    ("/api/v1/activities/patrols", {"position": POSITION}, "organisation_id"),
    ("/api/v1/activities/patrols", {"position": POSITION}, "campaign_id"),
    ("/api/v1/activities/reports", {"report_kind": "hazard", "title": "井盖", "position": POSITION}, "campaign_id"),
    ("/api/v1/activities/reports", {"report_kind": "hazard", "title": "井盖", "position": POSITION}, "organisation_id"),
]


async def test_an_id_out_of_range_in_a_submission_is_a_422_naming_it(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    """2^63 reached the driver (500); 2^31 overflows the int4 id columns on
    PostgreSQL; 0 names no row. Each id of each submission body is refused
    up front with a 422 naming it, and writes nothing."""
    headers = await login_headers(client, "volunteer")
    before = await snapshot_everything()
    wrong = []
    for path, body, id_field in SUBMISSIONS:
        for value in (TOO_BIG, 2**31, 0):
            response = await client.post(path, json={**body, id_field: value}, headers=headers)
            problem = response.json()
            if (
                response.status_code != 422
                or not response.headers["content-type"].startswith("application/problem+json")
                or problem.get("field") != id_field
            ):
                wrong.append(f"{path} {id_field}={value}: {response.status_code} {response.text[:200]}")
    assert wrong == [], "\n".join(wrong)
    assert_same(before, await snapshot_everything())


async def test_an_out_of_range_campaign_at_verification_is_a_422(client: AsyncTestClient[Litestar], demo: None) -> None:
    """The verifier may pick another campaign: its id is bounded too."""
    headers = await login_headers(client, "grid_worker")
    queue = await client.get("/api/v1/activities?scope=review&status=submitted", headers=headers)
    activity_id = queue.json()["items"][0]["id"]
    before = await snapshot_everything()
    response = await client.post(
        f"/api/v1/activities/{activity_id}/verify", json={"campaign_id": TOO_BIG}, headers=headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "campaign_id"
    assert_same(before, await snapshot_everything())


def _integer_bounds(schema: dict[str, Any], components: dict[str, Any], path: str) -> list[tuple[str, Any, Any]]:
    """(field path, minimum, maximum) of every integer in a request body
    schema; bounds may sit beside a nullable ``oneOf``."""
    if "$ref" in schema:
        return _integer_bounds(components[schema["$ref"].split("/")[-1]], components, path)
    found: list[tuple[str, Any, Any]] = []
    for key in ("oneOf", "anyOf", "allOf"):
        for branch in schema.get(key, []):
            if branch.get("type") == "integer":
                low = schema.get("minimum", branch.get("minimum"))
                found.append((path, low, schema.get("maximum", branch.get("maximum"))))
            else:
                found += _integer_bounds(branch, components, path)
    if schema.get("type") == "integer":
        found.append((path, schema.get("minimum"), schema.get("maximum")))
    for name, sub in schema.get("properties", {}).items():
        found += _integer_bounds(sub, components, f"{path}.{name}")
    if "items" in schema:
        found += _integer_bounds(schema["items"], components, f"{path}[]")
    return found


async def test_every_integer_in_every_request_body_is_bounded(client: AsyncTestClient[Litestar]) -> None:
    """A future body with an unbounded id (or count) fails here, before a
    fuzzer or an attacker finds the 500: every integer has a minimum and a
    maximum within BIGINT."""
    schema = (await client.get("/schema/openapi.json")).json()
    components = schema["components"]["schemas"]
    unbounded = []
    for route, operations in schema["paths"].items():
        for method, operation in operations.items():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                for field, low, high in _integer_bounds(content["schema"], components, ""):
                    if low is None or high is None or high > MAX_BIG_ID:
                        unbounded.append(f"{method.upper()} {route} {field}: [{low}, {high}]")
    assert unbounded == [], "\n".join(unbounded)


async def test_deeply_nested_json_at_login_is_a_400_without_a_traceback(
    client: AsyncTestClient[Litestar], caplog: pytest.LogCaptureFixture
) -> None:
    """1,000 nested arrays, unauthenticated: a 400 problem, and nothing logged
    at error level (each used to log a full traceback)."""
    body = "[" * 1000 + "]" * 1000
    with caplog.at_level(logging.ERROR):
        response = await client.post("/api/v1/auth/login", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "malformed_json"
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []


async def test_deeply_nested_json_inside_a_field_is_a_400(client: AsyncTestClient[Litestar]) -> None:
    nested = '{"phone": ' + "[" * 1000 + "]" * 1000 + ', "password": "x"}'
    response = await client.post("/api/v1/auth/login", content=nested, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "malformed_json"


async def test_broken_json_at_login_is_a_400_problem(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post("/api/v1/auth/login", content=b"{", headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_shop_with_the_longest_name_allowed_is_created(client: AsyncTestClient[Litestar], demo: None) -> None:
    """Found by the schemathesis run as admin on PostgreSQL: a 200-character
    shop name overflowed its settlement account's name (500)."""
    admin = await login_headers(client, "admin")
    organisations = (await client.get("/api/v1/me", headers=admin)).json()["roles"]
    response = await client.post(
        "/api/v1/shops",
        json={"organisation_id": organisations[0]["organisation_id"], "name_zh": "店" * 200},
        headers=admin,
    )
    assert response.status_code == 201, response.text
