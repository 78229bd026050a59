from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get

from api.guards import public
from api.schemas import HealthOut
from ledger.tables import LedgerAccount


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("", guards=[public], operation_id="health", exclude_from_auth=True, summary="Database and Redis reachable?")
    async def health(self, request: Request[Any, Any, Any]) -> Response[HealthOut]:
        database = redis = "ok"
        try:
            await LedgerAccount.raw("SELECT 1").run()
        except Exception as error:  # report, don't raise: this is the probe
            database = f"error: {type(error).__name__}"
        try:
            await request.app.state.redis.ping()
        except Exception as error:
            redis = f"error: {type(error).__name__}"
        healthy = database == "ok" and redis == "ok"
        return Response(
            HealthOut(status="ok" if healthy else "degraded", database=database, redis=redis),
            status_code=200 if healthy else 503,
        )
