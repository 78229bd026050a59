"""``GET /health``: is each dependency reachable?

Each dependency is ``"ok"`` or ``"unavailable"``; the cause goes to the log,
never to the (unauthenticated) caller. Each probe is bounded in time so a
hung dependency cannot hang the probe.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, Literal

from litestar import Controller, Response
from litestar.di import NamedDependency
from pydantic import BaseModel
from redis.asyncio import Redis

from api.guards import public
from api.outages import RETRY_AFTER_SECONDS
from api.routing import get
from ledger.tables import LedgerAccount

logger = logging.getLogger("fengling.health")

PROBE_TIMEOUT_SECONDS = 3.0


Reachability = Literal["ok", "unavailable"]


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    database: Reachability
    redis: Reachability


async def _probe(name: str, check: Awaitable[Any]) -> Reachability:
    try:
        await asyncio.wait_for(check, PROBE_TIMEOUT_SECONDS)
    except Exception as error:  # report, don't raise: this is the probe
        logger.warning("health: %s unavailable: %r", name, error)
        return "unavailable"
    return "ok"


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("", guards=[public], operation_id="health", exclude_from_auth=True, summary="Database and Redis reachable?")
    async def health(self, redis: NamedDependency[Redis]) -> Response[HealthOut]:
        database_state = await _probe("database", LedgerAccount.raw("SELECT 1").run())
        redis_state = await _probe("redis", redis.ping())
        healthy = database_state == "ok" and redis_state == "ok"
        return Response(
            HealthOut(status="ok" if healthy else "degraded", database=database_state, redis=redis_state),
            status_code=200 if healthy else 503,
            headers=None if healthy else {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
