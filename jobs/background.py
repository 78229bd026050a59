"""Background jobs run inside each API process.

- The chain sealer appends committed entries to the hash chain (safe with
  several workers: sealers take turns on one lock).
- The hold expiry job releases holds past their deadline (idempotent).
- The order expiry job closes orders not picked up in time (points and
  stock come back; idempotent).
- The adjustment expiry job voids four-eyes adjustment requests nobody
  decided in time and releases their held points (idempotent).
- The deadline job escalates activities past their response deadline one
  level up the organisation tree (idempotent, safe with several workers).
- The no-show job closes grab-order claims whose task window ended without
  a check-in (idempotent; no points move).
- The photo job removes report photos attached to nothing a day after
  upload, and stray upload files (idempotent, safe with several workers).
Each is also a CLI command (``fengling ledger seal`` / ``expire-holds`` /
``expire-adjustments``, ``fengling marketplace expire-orders``,
``fengling activities escalate`` / ``mark-no-shows`` /
``remove-unattached-photos``) for
deployments that prefer cron.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from activities.deadlines import escalate_overdue
from activities.patrol_tasks import mark_no_shows
from activities.photos import remove_unattached_photos
from community.manual_points import expire_adjustments
from ledger.chain import seal_pending
from ledger.holds import expire_holds
from marketplace.orders import expire_orders

logger = logging.getLogger("fengling.jobs")

SEAL_EVERY_SECONDS = 2.0
EXPIRE_EVERY_SECONDS = 60.0
# Deadlines are whole working days; a minute late is on time for people.
ESCALATE_EVERY_SECONDS = 60.0
# Unattached photos may wait a day; hourly keeps the disk tidy at no cost.
PHOTO_CLEANUP_EVERY_SECONDS = 3600.0


async def _every(seconds: float, job: Callable[[], Awaitable[int]], name: str) -> None:
    while True:
        try:
            done = await job()
            if done:
                logger.info("%s: %d", name, done)
        except asyncio.CancelledError:
            raise
        except Exception:  # a failed run is logged and retried next tick
            logger.exception("%s failed", name)
        await asyncio.sleep(seconds)


@contextlib.asynccontextmanager
async def background_jobs() -> AsyncIterator[None]:
    tasks = [
        asyncio.create_task(_every(SEAL_EVERY_SECONDS, seal_pending, "sealed entries")),
        asyncio.create_task(_every(EXPIRE_EVERY_SECONDS, expire_holds, "expired holds")),
        asyncio.create_task(_every(EXPIRE_EVERY_SECONDS, expire_orders, "expired orders")),
        asyncio.create_task(_every(EXPIRE_EVERY_SECONDS, expire_adjustments, "expired adjustment requests")),
        asyncio.create_task(_every(ESCALATE_EVERY_SECONDS, escalate_overdue, "escalated overdue activities")),
        asyncio.create_task(_every(EXPIRE_EVERY_SECONDS, mark_no_shows, "grab-order no-shows")),
        asyncio.create_task(_every(PHOTO_CLEANUP_EVERY_SECONDS, remove_unattached_photos, "removed unattached photos")),
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
