"""我的星级与徽章 (my star level and badges): the level as stars with
words, progress to the next star, the badges earned (China-time date, and
the activity or season that earned each) and the ones not yet earned, in
grey, with how to earn them.

Read with the same services as the API (``recognition.stars.my_level``,
``recognition.awarding.badges_of``): a member sees only their own. What
the page shows of a level is ``level_view`` (pure).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from litestar import Controller, Request
from litestar.response import Template

from api.dependencies import ActingPrincipal
from api.guards import requires_member
from api.routing import get
from community.members import get_member
from leaderboards.seasons import find_season
from ledger.amounts import from_minor
from recognition.awarding import badges_of, not_yet
from recognition.levels import MINUTES_PER_HOUR, STARS, Level
from recognition.stars import my_level
from web.page_errors import PAGE_EXCEPTION_HANDLERS
from web.rendering import render


@dataclass(frozen=True, slots=True)
class LevelView:
    stars: int
    out_of: int
    earned: Decimal
    hours: Decimal
    next_stars: int | None
    points_needed: Decimal
    hours_needed: Decimal
    # Progress to the next star, 0-100: the lesser of the two measures
    # (a star needs both).
    progress_pct: int


def _hours(minutes: int) -> Decimal:
    return (Decimal(minutes) / MINUTES_PER_HOUR).quantize(Decimal("0.1"))


def level_view(level: Level) -> LevelView:
    following = level.next
    if following is None:
        progress = 100
    else:
        shares = []
        for have, need in ((level.earned_minor, following.points_minor), (level.minutes, following.hours * 60)):
            shares.append(100 if need <= 0 else min(100, have * 100 // need))
        progress = int(min(shares))
    return LevelView(
        stars=level.stars,
        out_of=STARS,
        earned=from_minor(level.earned_minor),
        hours=_hours(level.minutes),
        next_stars=None if following is None else following.stars,
        points_needed=from_minor(level.points_needed_minor),
        hours_needed=_hours(level.minutes_needed),
        progress_pct=progress,
    )


class RecognitionPages(Controller):
    path = ""
    include_in_schema = False
    guards = [requires_member]
    exception_handlers = PAGE_EXCEPTION_HANDLERS

    @get("/recognition", name="recognition")
    async def recognition(self, request: Request[Any, Any, Any], principal: ActingPrincipal) -> Template:
        member = await get_member(principal.member_id)
        held = await badges_of(member.id)
        seasons = {}
        for badge in held:
            if badge.season_id is not None and badge.season_id not in seasons:
                seasons[badge.season_id] = await find_season(badge.season_id)
        return render(
            request,
            "recognition.html",
            member=member,
            level=level_view((await my_level(principal)).level),
            held=held,
            not_yet=not_yet(held),
            seasons=seasons,
        )
