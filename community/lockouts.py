"""Unlocking a phone number's login and invitation lockouts, by an operator.

The counters themselves live in Redis beside the login they guard
(``api.community.auth.PhoneLockout``); this module holds the rule and the
record: only a manager of the member who owns the number may clear it (any
other number answers ``member_not_found``, as for one nobody has), never
their own (a locked-out operator asks a colleague), and the unlock is in the
audit trail with the operator as actor. The caller hands in how to clear
the counters (``clear``), so the domain names no Redis key.

``unlock_phone_at_console`` is the same unlock from the server's command
line (``fengling members unlock``): whoever runs it holds the deployment's
shell and database, so no manager check applies, but it is audited all the
same, with the command as actor.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from community import audit
from community.access import Principal
from community.accounts import member_ref
from community.errors import AccessRefused, MemberNotFound
from community.phones import normalise_phone
from community.policy import managed_member
from community.tables import Member
from core.database import in_write_transaction

ClearCounters = Callable[[str], Awaitable[int]]
"""Clears every lockout counter of a normalised phone number; returns how many there were."""


async def unlock_phone(principal: Principal, phone_as_typed: str, *, clear: ClearCounters) -> int:
    """Clear the lockouts of a member's phone number and audit it
    (``member.unlock``); returns how many counters were set. The audit row
    commits only if the counters were cleared; clearing twice is harmless,
    so a retried transaction changes nothing more."""
    phone = normalise_phone(phone_as_typed)
    member_ids = await Member.select(Member.id).where(Member.phone == phone).output(as_list=True).run()
    if not member_ids:
        raise MemberNotFound("no member with this phone number that you manage", field="phone")
    member_id = int(member_ids[0])
    if member_id == principal.member_id:
        raise AccessRefused("ask another operator to unlock your own number", field="phone", code="own_account")

    async def work() -> int:
        try:
            await managed_member(principal, member_id)
        except MemberNotFound as refused:
            refused.field = "phone"
            raise
        cleared = await clear(phone)
        await audit.record(principal.ref, "member.unlock", member_ref(member_id), counters_cleared=cleared)
        return cleared

    return await in_write_transaction(work)


async def unlock_phone_at_console(phone_as_typed: str, *, clear: ClearCounters, actor_ref: str) -> int:
    """Clear a phone number's lockouts from the server's console and audit
    it (``member.unlock``, target the member, or the number when no member
    has it: counters also build up for numbers nobody has); returns how many
    counters were set. Refuses text that is not a phone number."""
    phone = normalise_phone(phone_as_typed)
    member_ids = await Member.select(Member.id).where(Member.phone == phone).output(as_list=True).run()
    target = member_ref(int(member_ids[0])) if member_ids else f"phone:{phone}"

    async def work() -> int:
        cleared = await clear(phone)
        await audit.record(actor_ref, "member.unlock", target, counters_cleared=cleared)
        return cleared

    return await in_write_transaction(work)
