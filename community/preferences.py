"""A member's own display preferences: the pages' language and elder mode
(长辈模式). Only the member sets their own; each change is audited in the
same transaction. Changing nothing writes nothing and records nothing."""

from __future__ import annotations

from community import audit
from community.access import Principal
from community.members import check_language, get_member
from community.models import MemberRecord
from community.tables import Member
from core.database import in_write_transaction


async def set_preferences(
    principal: Principal, *, preferred_language: str | None = None, elder_mode: bool | None = None
) -> MemberRecord:
    """Set the caller's language (``zh``/``en``) and/or elder mode.
    ``InvalidMemberData`` (field ``preferred_language``) for another language."""
    if preferred_language is not None:
        check_language(preferred_language)

    async def work() -> None:
        rows = await (
            Member.select(Member.preferred_language, Member.elder_mode).where(Member.id == principal.member_id).run()
        )
        current = rows[0]
        changes: dict[str, object] = {}
        if preferred_language is not None and preferred_language != current["preferred_language"]:
            changes["preferred_language"] = preferred_language
        if elder_mode is not None and elder_mode != bool(current["elder_mode"]):
            changes["elder_mode"] = elder_mode
        if not changes:
            return
        await (
            Member.update({getattr(Member, name): value for name, value in changes.items()})
            .where(Member.id == principal.member_id)
            .run()
        )
        await audit.record(principal.ref, "member.preferences", principal.ref, **changes)

    await in_write_transaction(work)
    return await get_member(principal.member_id)
