"""Invitations: how a member registered by an organiser gets a password.

An organiser registers a member without a password; the member receives a
one-time code (8 characters from an alphabet without 0/O, 1/I/L, about
2^39.6 codes, drawn with ``secrets``) which they send back with their phone
number and a new password. Guarantees:

- Only the code's SHA-256 is stored; the code is shown once, to the organiser.
- A code is valid for ``INVITATION_VALID_DAYS`` and accepted at most once
  (the acceptance is a conditional update, so two racing accepts cannot both
  win).
- Issuing a new code voids every older open code of that member.
- Every refusal (unknown phone, wrong, expired, used or voided code) is the
  same ``InvitationInvalid``, so answers reveal nothing about which it was.
  Guessing is further limited at the edge (per-phone failure counter and a
  per-address rate limit, ``api/community/members.py``).
- Re-inviting a member who already has a password is an organiser-assisted
  password reset: the old password keeps working until the new code is
  accepted, but every login token of the member stops working at once
  (their ``session_version`` is bumped), and again when the code is
  accepted. Who may do it is ``community/policy.py``: only someone who
  could grant every role the member holds, never for themself; the check,
  the new code and the audit row are one transaction's work.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from community import audit
from community.access import Principal
from community.accounts import member_ref
from community.errors import InvalidMemberData, InvitationInvalid
from community.members import (
    bump_session_version,
    check_password,
    check_registration_roles,
    create_member,
    get_member,
    normalise_phone,
)
from community.models import InvitationRecord, InvitedMember, IssuedInvitation, MemberRecord
from community.passwords import hash_password
from community.policy import check_team_managed, managed_organisation, member_to_take_over
from community.roles import Role
from community.tables import Invitation, Member
from community.teams import add_team_member, find_team
from core.clock import utc_now
from core.database import in_write_transaction

INVITATION_VALID_DAYS = 14
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
_CLEAN = re.compile(r"[\s-]")


def new_invitation_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """What a member types: any case, with spaces or a dash (ABCD-EFGH)."""
    return _CLEAN.sub("", text or "").upper()


def code_digest(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode("ascii", "replace")).hexdigest()


def invitation_row(member_id: int, code: str, *, created_by: int | None, now: datetime) -> Invitation:
    """A new invitation row (not yet inserted), for callers inserting many."""
    return Invitation(
        member=member_id,
        code_sha256=code_digest(code),
        created_by=created_by,
        created_at=now,
        expires_at=now + timedelta(days=INVITATION_VALID_DAYS),
    )


async def _new_code(member_id: int, *, created_by: int | None, actor_ref: str, now: datetime) -> IssuedInvitation:
    """Void the member's open codes, store a new one and audit it, in the
    caller's transaction."""
    code = new_invitation_code()
    await (
        Invitation.update({Invitation.expires_at: now})
        .where((Invitation.member == member_id) & Invitation.accepted_at.is_null() & (Invitation.expires_at > now))
        .run()
    )
    await Invitation.insert(invitation_row(member_id, code, created_by=created_by, now=now)).run()
    await audit.record(actor_ref, "member.invite", member_ref(member_id))
    return IssuedInvitation(member_id=member_id, code=code, expires_at=now + timedelta(days=INVITATION_VALID_DAYS))


async def issue_invitation(principal: Principal, member_id: int) -> IssuedInvitation:
    """A fresh code for ``member_id``, issued by ``principal``: older open
    codes stop working and so do the member's login tokens. Refused unless
    ``principal`` may take over this account (``community/policy.py``):
    ``MemberNotFound`` (404) or ``AccessRefused`` (403), changing nothing."""
    now = utc_now()

    async def work() -> IssuedInvitation:
        # Checked inside the transaction: a role granted meanwhile counts.
        await member_to_take_over(principal, member_id, action="reset")
        invitation = await _new_code(member_id, created_by=principal.member_id, actor_ref=principal.ref, now=now)
        await bump_session_version(member_id)
        return invitation

    return await in_write_transaction(work)


async def invite_member(
    principal: Principal,
    *,
    name: str,
    phone: str,
    home_organisation_id: int,
    roles: tuple[Role | str, ...] = (Role.VOLUNTEER,),
    preferred_language: str = "zh",
    team_id: int | None = None,
) -> InvitedMember:
    """Register a member without a password and issue their first code, in
    one transaction: either the member, their roles, wallet, team place,
    invitation and audit record all exist, or none does. Only a manager of
    the home organisation registers there (``OrganisationNotFound`` /
    ``AccessRefused`` otherwise), into a team they manage (``TeamNotFound``)."""
    checked_roles = check_registration_roles(roles)

    async def work() -> tuple[int, IssuedInvitation]:
        await managed_organisation(principal, home_organisation_id)
        if team_id is not None:
            await check_team_managed(principal, team_id, await find_team(team_id))
        member_id = await create_member(
            name=name,
            phone=phone,
            home_organisation_id=home_organisation_id,
            roles=checked_roles,
            preferred_language=preferred_language,
        )
        await audit.record(
            principal.ref,
            "member.register",
            member_ref(member_id),
            organisation_id=home_organisation_id,
            roles=[role.value for role in checked_roles],
        )
        if team_id is not None:
            await add_team_member(team_id, member_id, actor_ref=principal.ref)
        invitation = await _new_code(member_id, created_by=principal.member_id, actor_ref=principal.ref, now=utc_now())
        return member_id, invitation

    member_id, invitation = await in_write_transaction(work)
    return InvitedMember(member=await get_member(member_id), invitation=invitation)


async def accept_invitation(*, phone: str, code: str, password: str) -> MemberRecord:
    """Set the member's password with a valid open code, and use the code up.
    A bad password is reported as such (it reveals nothing about the code);
    everything else wrong is one ``InvitationInvalid``."""
    check_password(password)
    refused = InvitationInvalid("this invitation code is not valid for this phone number", field="code")
    try:
        phone = normalise_phone(phone)
    except InvalidMemberData as error:
        raise refused from error
    code = normalise_code(code)
    if len(code) != CODE_LENGTH or any(char not in CODE_ALPHABET for char in code):
        raise refused
    now = utc_now()
    rows = (
        await Invitation.select(Invitation.id, Invitation.member, Invitation.expires_at, Invitation.accepted_at)
        .where(
            (Invitation.code_sha256 == code_digest(code))
            & (Invitation.member.phone == phone)
            & (Invitation.member.active == True)  # noqa: E712 (Piccolo builds SQL from this comparison)
            & Invitation.accepted_at.is_null()
            & (Invitation.expires_at > now)
        )
        .run()
    )
    if not rows:
        raise refused
    invitation = InvitationRecord.from_row(rows[0])
    invitation_id, member_id = invitation.id, invitation.member_id
    # Hash before the transaction (off the event loop): argon2 takes a while
    # and must not hold SQLite's write lock.
    password_hash = await hash_password(password)

    async def work() -> None:
        used = (
            await Invitation.update({Invitation.accepted_at: now})
            .where((Invitation.id == invitation_id) & Invitation.accepted_at.is_null() & (Invitation.expires_at > now))
            .returning(Invitation.id)
            .run()
        )
        if not used:  # accepted (or voided) by a concurrent request meanwhile
            raise refused
        await Member.update({Member.password_hash: password_hash}).where(Member.id == member_id).run()
        await bump_session_version(member_id)
        await audit.record(member_ref(member_id), "invitation.accept", member_ref(member_id))

    await in_write_transaction(work)
    return await get_member(member_id)
