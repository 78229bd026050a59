"""A member's sessions and account lifecycle: changing a password, signing
out everywhere, deactivation.

Every login token carries the member's ``session_version``
(``community/tables.py``); ``api/community/auth.py`` refuses a token whose version is
not the member's current one. So each change here that should end the
member's sessions bumps the version *in the same transaction* as the
change itself: a password change, a deactivation, a logout. (A reissued
invitation, an accepted invitation and a removed role bump it too, in
``community/invitations.py`` and ``community/posts.py``.)
"""

from __future__ import annotations

from community import audit
from community.access import Principal
from community.accounts import member_ref
from community.errors import WrongPassword
from community.members import bump_session_version, check_password, get_member, password_matches
from community.models import MemberRecord
from community.passwords import hash_password
from community.policy import member_to_take_over
from community.tables import Member
from core.database import in_write_transaction


async def end_all_sessions(principal: Principal) -> None:
    """Log out: every token of this member, on every device, stops working."""
    await in_write_transaction(lambda: bump_session_version(principal.member_id))


async def change_password(principal: Principal, *, current_password: str, new_password: str) -> MemberRecord:
    """Set a new password after checking the current one. Every older token
    stops working; the caller hands the member a fresh one (``api/community/sessions.py``).
    Costs two argon2 operations, both off the event loop and outside the
    write transaction."""
    check_password(new_password)
    if not await password_matches(principal.member_id, current_password):
        raise WrongPassword("the current password is not right", field="current_password")
    new_hash = await hash_password(new_password)
    await in_write_transaction(lambda: _set_password(principal, new_hash))
    return await get_member(principal.member_id)


async def _set_password(principal: Principal, password_hash: str) -> None:
    """The new hash, the sign-out everywhere and the audit row: one transaction's work."""
    await Member.update({Member.password_hash: password_hash}).where(Member.id == principal.member_id).run()
    await bump_session_version(principal.member_id)
    await audit.record(principal.ref, "member.password_change", principal.ref)


async def deactivate_member(principal: Principal, member_id: int) -> MemberRecord:
    """Deactivate a member: they cannot log in, accept an invitation or use
    a token any more. The rule is the one for a password reset
    (``community/policy.py``: never oneself, only someone who could grant
    every role the member holds). Deactivating an inactive member changes
    nothing and records nothing."""
    await in_write_transaction(lambda: _deactivate(principal, member_id))
    return await get_member(member_id)


async def _deactivate(principal: Principal, member_id: int) -> None:
    # Checked inside the transaction: a role granted meanwhile counts.
    member = await member_to_take_over(principal, member_id, action="deactivate")
    if not member.active:
        return
    await Member.update({Member.active: False}).where(Member.id == member_id).run()
    await bump_session_version(member_id)
    await audit.record(principal.ref, "member.deactivate", member_ref(member_id))
