"""Per-rule statistics of the fraud rules (issue #12), for organisers."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller
from litestar.params import QueryParameter

from api.dependencies import ActingPrincipal
from api.guards import requires_manager, requires_member
from api.routing import get
from api.schemas.fraud import RuleStatisticsOut, StatisticsOut
from fraud.statistics import DEFAULT_DAYS, MAX_DAYS, statistics_for


class FraudStatisticsController(Controller):
    path = "/api/v1/fraud/statistics"
    tags = ["fraud"]
    guards = [requires_member, requires_manager]

    @get("", operation_id="getFraudStatistics", summary="规则统计 · Per-rule statistics")
    async def statistics(
        self, principal: ActingPrincipal, days: Annotated[int, QueryParameter(ge=1, le=MAX_DAYS)] = DEFAULT_DAYS
    ) -> StatisticsOut:
        rows = await statistics_for(principal, days=days)
        return StatisticsOut(
            days=days,
            rules=[
                RuleStatisticsOut(
                    rule=row.rule,
                    hits=row.hits,
                    labelled_fraud=row.labelled_fraud,
                    labelled_legitimate=row.labelled_legitimate,
                    labelled_unclear=row.labelled_unclear,
                    precision=row.precision,
                    median_minutes_to_decide=row.median_minutes_to_decide,
                )
                for row in rows
            ],
        )
