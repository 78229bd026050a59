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
- The review-deadline job releases small held awards and orders whose
  fraud review is overdue and escalates larger ones up the tree
  (``jobs/review_deadlines.py``; idempotent, safe with several workers).
- The no-show job closes grab-order claims whose task window ended without
  a check-in (idempotent; no points move).
- The photo job removes report photos attached to nothing a day after
  upload, and stray upload files (idempotent, safe with several workers).
- The season job freezes seasons whose last day has ended (their boards
  are stored and never change: ``leaderboards/freezing.py``) and awards
  their top 3 the season badge (``recognition/awarding.py``); idempotent.
- The leaderboards' feed brings the boards in Redis up to the committed
  ledger (``leaderboards/feed.py``: exactly-once, one run at a time across
  workers), every ``LEADERBOARD_FEED_EVERY_SECONDS`` or at once when an
  award or its reversal commits in this process (``core.nudges``).
- The dashboard's rollups follow the chain and changed activities
  (``reporting/rollups.py``: exactly-once for the ledger, recomputed
  groups for activities), every ``REPORTING_EVERY_SECONDS``.
Each is also a CLI command (``fengling ledger seal`` / ``expire-holds`` /
``expire-adjustments``, ``fengling marketplace expire-orders``,
``fengling activities escalate`` / ``mark-no-shows`` /
``fengling fraud expire-reviews`` /
``remove-unattached-photos``, ``fengling leaderboards feed`` /
``freeze-seasons``, ``fengling reporting roll``) for
deployments that prefer cron.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

from redis.asyncio import Redis

from activities.deadlines import escalate_overdue
from activities.patrol_tasks import mark_no_shows
from activities.photos import remove_unattached_photos
from community.manual_points import expire_adjustments
from core.cancellation import raise_if_cancel_lost, stop_if_cancelled, stop_tasks
from core.clock import utc_now
from core.nudges import awards_committed
from jobs.review_deadlines import expire_reviews
from leaderboards.feed import feed_once
from leaderboards.freezing import freeze_due_seasons
from ledger.chain import seal_pending
from ledger.holds import expire_holds
from marketplace.orders import expire_orders
from recognition.awarding import award_season_badges
from reporting.rollups import roll_once

logger = logging.getLogger("fengling.jobs")

SEAL_EVERY_SECONDS = 2.0
EXPIRE_EVERY_SECONDS = 60.0
# Deadlines are whole working days; a minute late is on time for people.
ESCALATE_EVERY_SECONDS = 60.0
# Unattached photos may wait a day; hourly keeps the disk tidy at no cost.
PHOTO_CLEANUP_EVERY_SECONDS = 3600.0
# Seasons frozen this recently get their top-3 badges from the job (older
# ones: ``fengling recognition backfill``).
SEASON_BADGE_LOOKBACK = timedelta(days=7)
# The boards lag the ledger by at most this (plus a run) when no nudge comes.
LEADERBOARD_FEED_EVERY_SECONDS = 2.0
# The dashboard's rollups lag the ledger and activities by about this much.
REPORTING_EVERY_SECONDS = 10.0
# How long shutdown waits for the jobs to stop (a job stops at its next
# await; a database or Redis call has its own timeout).
STOP_SECONDS = 10.0


async def _every(seconds: float, job: Callable[[], Awaitable[int]], name: str) -> None:
    while True:
        try:
            done = await job()
            raise_if_cancel_lost()
            if done:
                logger.info("%s: %d", name, done)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a failed run is logged and retried next tick
            stop_if_cancelled(error)  # unless it is our own cancellation in disguise
            logger.exception("%s failed", name)
        await asyncio.sleep(seconds)


async def _feed_leaderboards(redis: Redis) -> None:
    """The feed, on its timer or at once when nudged."""
    while True:
        try:
            done = await feed_once(redis)
            raise_if_cancel_lost()
            if done:
                logger.debug("leaderboards: %d entries read", done)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # Redis or the database away: logged, retried next tick
            stop_if_cancelled(error)  # unless it is our own cancellation in disguise
            logger.exception("leaderboards feed failed")
        await awards_committed.wait(LEADERBOARD_FEED_EVERY_SECONDS)


async def _close_seasons(redis: Redis) -> int:
    """Freeze the seasons that have ended, and give the top 3 of the
    seasons frozen lately (here or by a read) their badges (idempotent)."""
    frozen = await freeze_due_seasons(redis)
    await award_season_badges(frozen_since=utc_now() - SEASON_BADGE_LOOKBACK)
    return len(frozen)


@contextlib.asynccontextmanager
async def background_jobs(redis: Redis | None = None) -> AsyncIterator[None]:
    """Every job as a task; the leaderboards' feed only with a Redis client."""
    tasks = [
        asyncio.create_task(
            _every(SEAL_EVERY_SECONDS, seal_pending, "sealed entries"), name="fengling-job: sealed entries"
        ),
        asyncio.create_task(
            _every(EXPIRE_EVERY_SECONDS, expire_holds, "expired holds"), name="fengling-job: expired holds"
        ),
        asyncio.create_task(
            _every(EXPIRE_EVERY_SECONDS, expire_orders, "expired orders"), name="fengling-job: expired orders"
        ),
        asyncio.create_task(
            _every(EXPIRE_EVERY_SECONDS, expire_adjustments, "expired adjustment requests"),
            name="fengling-job: expired adjustment requests",
        ),
        asyncio.create_task(
            _every(ESCALATE_EVERY_SECONDS, escalate_overdue, "escalated overdue activities"),
            name="fengling-job: escalated overdue activities",
        ),
        asyncio.create_task(
            _every(EXPIRE_EVERY_SECONDS, mark_no_shows, "grab-order no-shows"), name="fengling-job: grab-order no-shows"
        ),
        asyncio.create_task(
            _every(ESCALATE_EVERY_SECONDS, expire_reviews, "overdue fraud reviews"),
            name="fengling-job: overdue fraud reviews",
        ),
        asyncio.create_task(
            _every(PHOTO_CLEANUP_EVERY_SECONDS, remove_unattached_photos, "removed unattached photos"),
            name="fengling-job: removed unattached photos",
        ),
        asyncio.create_task(
            _every(REPORTING_EVERY_SECONDS, roll_once, "reporting rollups"), name="fengling-job: reporting rollups"
        ),
    ]
    if redis is not None:
        tasks.append(asyncio.create_task(_feed_leaderboards(redis), name="fengling-job: leaderboards feed"))
        tasks.append(
            asyncio.create_task(
                _every(EXPIRE_EVERY_SECONDS, functools.partial(_close_seasons, redis), "closed seasons"),
                name="fengling-job: closed seasons",
            )
        )
    try:
        yield
    finally:
        still_running = await stop_tasks(tasks, within=STOP_SECONDS)
        for task in still_running:
            logger.warning("background job %s did not stop within %s s", task.get_name(), STOP_SECONDS)
