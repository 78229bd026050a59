"""Rule 3: a schemathesis run over our OpenAPI finds no server error.

Every operation is fuzzed as a logged-in organiser (the role that reaches
the most code) and anonymously; any 5xx fails, and every 4xx must be a
problem+json body.
"""

from __future__ import annotations

import asyncio
import functools

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api.app import create_app
from community.tables import Member
from seeds.demo import load_demo
from tests.support.database import truncate_all

app = create_app(run_background_jobs=False, connection_pool=False)
schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)


@pytest.fixture(scope="module", autouse=True)
def demo_database() -> None:
    """One demo database for the whole fuzz run, loaded once: the fuzzer's
    own writes pile up across operations, as they would on a live server.
    (Reloading the demo per operation cost most of this module's time.)"""

    async def fresh_demo() -> None:
        await truncate_all()
        await load_demo()

    asyncio.run(fresh_demo())
    _organiser_token.cache_clear()


@pytest.fixture(autouse=True)
def clean_database() -> None:
    """Overrides the per-test emptying of the root conftest: see demo_database."""


@functools.cache
def _organiser_token() -> str:
    async def token() -> str:
        rows = await Member.select(Member.id).where(Member.phone == "13800000003").run()
        return str(app.state.jwt_auth.create_token(identifier=str(rows[0]["id"])))

    return asyncio.run(token())


@schema.parametrize()
# derandomize: CI replays the same cases every run, so a red run is reproducible
# and a green one is not luck. Widen max_examples locally to explore further.
@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_server_error_anywhere(case: schemathesis.Case) -> None:
    for headers in ({"Authorization": f"Bearer {_organiser_token()}"}, {}):
        response = case.call(headers=headers)
        assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
        if response.status_code >= 400:
            assert response.headers["content-type"][0].startswith("application/problem+json"), response.headers
