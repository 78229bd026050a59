"""Awarding badges, each once per member (and per season for season top 3).

**When**: after the commit of the step that made work count, never inside
it: ``activities.verification`` (verify, handle as useful) and
``activities.held`` (a held award approved) call ``badges_after_commit``,
which evaluates the member once the verification has committed, in a
transaction of its own. So the verification never waits on, or fails
because of, a badge, and the badge sees the committed verification. A
badge missed because the process died between the two is awarded by the
member's next counted verification (every rule is evaluated each time) or
by ``fengling recognition backfill``. Season top 3 is awarded when seasons
freeze (the background job, the backfill).

**Exactly once**: ``recognition_badge`` is unique on (member, badge,
occasion), and every award is ``INSERT … ON CONFLICT DO NOTHING``: any
number of concurrent awarders leave one row, the first to commit. Its date
and what earned it (the activity, or the season and the board's scope and
rank) come from the rule's fold (``badge_rules.earned_badges``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from community.tables import Member
from core.database import after_commit, in_write_transaction
from leaderboards.tables import Season, SeasonStanding
from recognition.badge_rules import RULES, RULES_BY_CODE, SEASON_TOP3, BadgeRule, earned_badges
from recognition.counting import events_for
from recognition.tables import BadgeAward

logger = logging.getLogger("fengling.recognition")

SEASON_PLACES = 3
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class HeldBadge:
    rule: BadgeRule
    earned_at: datetime
    activity_id: int | None
    season_id: int | None
    detail: str


async def _insert_once(rows: Sequence[BadgeAward]) -> list[str]:
    """Insert the rows that are not there yet; the badges actually added."""
    if not rows:
        return []

    async def work() -> list[str]:
        added = await BadgeAward.insert(*rows).on_conflict(action="DO NOTHING").returning(BadgeAward.badge).run()
        return [str(row["badge"]) for row in added]

    return await in_write_transaction(work)


async def award_badges(member_id: int) -> list[str]:
    """Award every badge the member's counted work has earned and they do
    not hold yet; the codes newly awarded."""
    held = {
        str(row["badge"])
        for row in await BadgeAward.select(BadgeAward.badge)
        .where((BadgeAward.member == member_id) & (BadgeAward.occasion == ""))
        .run()
    }
    due = [earned for earned in earned_badges(await events_for(member_id)) if earned.code not in held]
    return await _insert_once(
        [BadgeAward(member=member_id, badge=e.code, occasion="", earned_at=e.at, activity=e.activity_id) for e in due]
    )


async def _award_quietly(member_id: int) -> None:
    try:
        added = await award_badges(member_id)
    except Exception:  # the verification has committed; the next one or the backfill awards it
        logger.exception("badges of member %d not awarded", member_id)
        return
    if added:
        logger.info("member %d earned %s", member_id, ", ".join(added))


async def badges_after_commit(member_id: int) -> None:
    """Evaluate the member's badges once the transaction in progress commits."""
    await after_commit(functools.partial(_award_quietly, member_id))


async def award_season_badges(season_ids: Sequence[int] | None = None, *, frozen_since: datetime | None = None) -> int:
    """Season top 3: every member ranked 1 to 3 on any board of a frozen
    season (those named, or frozen since a moment, or all) gets the
    season's badge once (their best rank; at equal ranks the first scope by
    name). The number newly awarded."""
    query = Season.select(Season.id, Season.frozen_at).where(Season.frozen_at.is_not_null())
    if season_ids is not None:
        query = query.where(Season.id.is_in(list(season_ids) or [0]))
    if frozen_since is not None:
        query = query.where(Season.frozen_at >= frozen_since)
    added = 0
    for season in await query.run():
        season_id = int(season["id"])
        rows = (
            await SeasonStanding.select(SeasonStanding.member, SeasonStanding.scope, SeasonStanding.rank)
            .where((SeasonStanding.season == season_id) & (SeasonStanding.rank <= SEASON_PLACES))
            .run()
        )
        best: dict[int, tuple[int, str]] = {}
        for row in rows:
            member, place = int(row["member"]), (int(row["rank"]), str(row["scope"]))
            best[member] = min(best.get(member, place), place)
        awards = [
            BadgeAward(
                member=member,
                badge=SEASON_TOP3,
                occasion=f"season:{season_id}",
                earned_at=season["frozen_at"],
                season=season_id,
                detail=f"{scope} #{rank}",
            )
            for member, (rank, scope) in sorted(best.items())
        ]
        added += len(await _insert_once(awards))
    return added


async def badges_of(member_id: int) -> list[HeldBadge]:
    """The badges a member holds, earliest first."""
    rows = (
        await BadgeAward.select(
            BadgeAward.badge, BadgeAward.earned_at, BadgeAward.activity, BadgeAward.season, BadgeAward.detail
        )
        .where(BadgeAward.member == member_id)
        .order_by(BadgeAward.earned_at)
        .order_by(BadgeAward.id)
        .run()
    )
    return [
        HeldBadge(
            rule=RULES_BY_CODE[str(row["badge"])],
            earned_at=row["earned_at"],
            activity_id=None if row["activity"] is None else int(row["activity"]),
            season_id=None if row["season"] is None else int(row["season"]),
            detail=str(row["detail"]),
        )
        for row in rows
        if str(row["badge"]) in RULES_BY_CODE
    ]


def not_yet(held: Sequence[HeldBadge]) -> list[BadgeRule]:
    """The badges the member does not hold yet, in the rules' order."""
    codes = {badge.rule.code for badge in held}
    return [rule for rule in RULES if rule.code not in codes]


async def backfill(progress: Progress | None = None) -> tuple[int, int]:
    """Award what history already earns: every member's badges, then every
    frozen season's top 3. Idempotent. (members seen, badges added)."""
    member_ids = [int(row["id"]) for row in await Member.select(Member.id).order_by(Member.id).run()]
    added = 0
    for done, member_id in enumerate(member_ids, start=1):
        added += len(await award_badges(member_id))
        if progress is not None:
            progress(done, len(member_ids))
    added += await award_season_badges()
    return len(member_ids), added
