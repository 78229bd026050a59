"""A member's ranking visibility: masked (default), full name, or hidden.

``set_visibility`` changes the caller's own preference in one writing
transaction (the member row, its version raised by one, and the audit
row), then, after commit, shows or hides the member on every board of
every scope they have points in (``redis_boards.apply_visibility``). The
version makes the order of arrival irrelevant: the feed passes the version
it read with every change, and each scope keeps the highest it has seen.
If Redis is unreachable at that moment the change is logged and the next
``fengling leaderboards rebuild`` puts it right; the database already has it.

Hiding never touches the ledger: the member's balance and earned points
stay, team and grid totals keep their points (``:sum`` keys), and showing
again restores them on every board where they have points.
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis

from community import audit
from community.access import Principal
from community.errors import MemberNotFound
from community.tables import Member
from core.database import after_commit, in_write_transaction, lock_row
from leaderboards.models import Visibility, VisibilityRecord
from leaderboards.redis_boards import apply_visibility, scopes_of_member

logger = logging.getLogger("fengling.leaderboards")


async def visibility_of(member_id: int) -> VisibilityRecord:
    rows = (
        await Member.select(Member.ranking_visibility, Member.ranking_visibility_version)
        .where(Member.id == member_id)
        .run()
    )
    if not rows:
        raise MemberNotFound(f"member {member_id} does not exist", field="member_id")
    return VisibilityRecord(
        member_id=member_id,
        visibility=Visibility(rows[0]["ranking_visibility"]),
        version=int(rows[0]["ranking_visibility_version"]),
    )


async def show_on_boards(redis: Redis, record: VisibilityRecord) -> None:
    """Apply ``record`` to every scope the member has points in."""
    visible = record.visibility is not Visibility.HIDDEN
    for scope in await scopes_of_member(redis, record.member_id):
        await apply_visibility(redis, scope, record.member_id, version=record.version, visible=visible)


async def set_visibility(principal: Principal, visibility: Visibility, *, redis: Redis) -> VisibilityRecord:
    """The caller's own visibility; unchanged (no new version, no audit row)
    when it already is ``visibility``."""

    async def work() -> VisibilityRecord:
        await lock_row(Member, principal.member_id)
        current = await visibility_of(principal.member_id)
        if current.visibility is visibility:
            return current
        changed = VisibilityRecord(principal.member_id, visibility, current.version + 1)
        await (
            Member.update(
                {Member.ranking_visibility: visibility.value, Member.ranking_visibility_version: changed.version}
            )
            .where(Member.id == principal.member_id)
            .run()
        )
        await audit.record(
            principal.ref,
            "leaderboards.visibility",
            f"member:{principal.member_id}",
            visibility=visibility.value,
            previous=current.visibility.value,
            version=changed.version,
        )

        async def publish() -> None:
            try:
                await show_on_boards(redis, changed)
            except Exception:  # the database has it; a rebuild applies it
                logger.exception("ranking visibility of member %d not applied to the boards", changed.member_id)

        await after_commit(publish)
        return changed

    return await in_write_transaction(work)
