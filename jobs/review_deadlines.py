"""The review-deadline job: held awards and orders nobody decided in time.

``fraud.review_deadlines`` decides each overdue case's step (pure); this
job, which may import every domain app, carries it out through the app the
case screened: a small amount is released by ``activities.held`` or
``marketplace.order_reviews`` (the system as actor, audited), a large one
escalates up the tree in ``fraud``. Idempotent and safe with several
workers: a release locks the case and finds it decided; an escalation is
conditional on the deadline it missed. Also ``fengling fraud
expire-reviews``.
"""

from __future__ import annotations

import logging
from datetime import datetime

from activities.errors import ActivityError
from activities.held import RELEASE_ACTOR, release_held
from core.calendar import WorkCalendar
from core.clock import utc_now
from fraud.cases import get_case
from fraud.decisions import get_decision
from fraud.errors import FraudError
from fraud.models import CaseStatus, Subject
from fraud.review_deadlines import Expiry, escalate_case, expiry_step, overdue_case_ids, parent_of
from fraud.thresholds import thresholds_for
from marketplace.errors import MarketplaceError
from marketplace.held_orders import work_calendar
from marketplace.order_reviews import release_held_order

logger = logging.getLogger("fengling.jobs")

BATCH_SIZE = 100


async def _expire_one(case_id: int, moment: datetime, calendar: WorkCalendar) -> bool:
    case = await get_case(case_id)
    if case.status is not CaseStatus.OPEN or case.due_at > moment:
        return False
    decision = await get_decision(case.decision_id)
    thresholds = await thresholds_for(decision.issuer_id if decision is not None else None)
    step = expiry_step(
        case,
        auto_release=thresholds.auto_release,
        parent_id=await parent_of(case.organisation_id),
        moment=moment,
        working_days=thresholds.review_working_days,
        calendar=calendar,
    )
    if step.action is Expiry.ESCALATE:
        return await escalate_case(case_id, step, actor_ref=RELEASE_ACTOR)
    if case.subject is Subject.ORDER:
        await release_held_order(case_id, now=moment)
    else:
        await release_held(case_id, now=moment)
    return True


async def expire_reviews(
    *, now: datetime | None = None, batch_size: int = BATCH_SIZE, calendar: WorkCalendar | None = None
) -> int:
    """Release or escalate every open case past its deadline at ``now``;
    how many were."""
    moment = now or utc_now()
    chosen = calendar or work_calendar()
    done = 0
    after = 0
    while True:
        ids = await overdue_case_ids(moment, after_id=after, limit=batch_size)
        for case_id in ids:
            after = case_id
            try:
                done += await _expire_one(case_id, moment, chosen)
            except (FraudError, MarketplaceError, ActivityError):
                # Decided, cancelled or moved meanwhile: nothing left to do.
                logger.info("review deadline of case %s: already settled elsewhere", case_id)
        if len(ids) < batch_size:
            return done
