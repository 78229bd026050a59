"""Members: registration by organisers, invitations, listing, and accepting
an invitation (the one public route besides login).

Visibility (``community.access``): a member is visible to themself, to the
managers of their home organisation and to post holders over it; to anyone
else they answer 404, exactly like a member who does not exist. Phone
numbers are whole only for the member and their managers; everyone else
sees 138****0001, and only managers may search by phone digits.

Reissuing an invitation (a password reset) and deactivating a member are
decided in the domain (``community/policy.py``): 404 unless the caller
manages the member's home, 403 ``outranks_you`` when the member holds a role
the caller could not grant, 403 ``own_account`` for oneself.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, QueryParameter
from redis.asyncio import Redis

from api.community.auth import INVITATION_PURPOSE, PhoneLockout, locked_problem
from api.dependencies import ActingPrincipal
from api.guards import public, requires_manager, requires_member
from api.params import MAX_ID, Cursor, Id
from api.rate_limits import INVITATION_LIMIT
from api.routing import get, post
from api.schemas.community import (
    InvitationAcceptIn,
    InvitationCodeOut,
    MemberCreatedOut,
    MemberIn,
    MemberPageOut,
    MemberViewOut,
    invitation_out,
    member_view,
)
from api.schemas.ledger import MeOut, me_out
from community.access import sees_full_phone
from community.directory import member_page_for
from community.errors import InvalidMemberData, InvitationInvalid
from community.invitations import accept_invitation, invite_member, issue_invitation
from community.members import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, check_password, normalise_phone
from community.models import MemberRecord
from community.policy import visible_member
from community.roles import Role
from community.sessions import deactivate_member
from fengling_settings import Settings


async def provide_visible_member(principal: ActingPrincipal, member_id: Id) -> MemberRecord:
    """The member in the path, if the caller may see them; 404 otherwise, as
    for a member who does not exist (``community.policy.visible_member``)."""
    return await visible_member(principal, member_id)


class MembersController(Controller):
    path = "/api/v1/members"
    tags = ["community"]
    dependencies = {"member": Provide(provide_visible_member)}

    @post("", guards=[requires_manager], operation_id="registerMember", summary="登记成员 · Register a member")
    async def register(self, principal: ActingPrincipal, data: JSONBody[MemberIn]) -> MemberCreatedOut:
        """The member has no password: the answer carries their one-time
        invitation code, shown this once."""
        invited = await invite_member(
            principal,
            name=data.name,
            phone=data.phone,
            home_organisation_id=data.organisation_id,
            roles=tuple(data.roles),
            preferred_language=data.preferred_language,
            team_id=data.team_id,
        )
        return MemberCreatedOut(
            member=member_view(invited.member, full_phone=True), invitation=invitation_out(invited.invitation)
        )

    @get("", guards=[requires_member], operation_id="listMembers", summary="Members living in a node's subtree")
    async def list_all(
        self,
        principal: ActingPrincipal,
        organisation_id: Annotated[int, QueryParameter(ge=1, le=MAX_ID)],
        role: Annotated[Role | None, QueryParameter()] = None,
        q: Annotated[str | None, QueryParameter(max_length=50, description="name, or phone digits (managers)")] = None,
        cursor: Cursor = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    ) -> MemberPageOut:
        page, full_phone_of = await member_page_for(
            principal, organisation_id, role=role, search=q, cursor=cursor, limit=limit
        )
        return MemberPageOut(
            members=[member_view(m, full_phone=m.id in full_phone_of) for m in page.members],
            next_cursor=page.next_cursor,
        )

    @get("/{member_id:int}", guards=[requires_member], operation_id="getMember", summary="One member")
    async def get_one(self, principal: ActingPrincipal, member: NamedDependency[MemberRecord]) -> MemberViewOut:
        full = await sees_full_phone(principal, member.id, member.home_organisation_id)
        return member_view(member, full_phone=full)

    @post(
        "/{member_id:int}/invitations",
        guards=[requires_manager],
        operation_id="reinviteMember",
        summary="重新发送邀请码 · A new invitation code (older ones stop working)",
    )
    async def reinvite(self, principal: ActingPrincipal, member_id: Id) -> InvitationCodeOut:
        """A password reset: the member's tokens stop working at once."""
        return invitation_out(await issue_invitation(principal, member_id))

    @post(
        "/{member_id:int}/deactivate",
        guards=[requires_manager],
        operation_id="deactivateMember",
        summary="停用成员 · Deactivate a member (signs them out everywhere)",
        status_code=200,
    )
    async def deactivate(self, principal: ActingPrincipal, member_id: Id) -> MemberViewOut:
        return member_view(await deactivate_member(principal, member_id), full_phone=True)


class InvitationsController(Controller):
    path = "/api/v1/auth/invitations"
    tags = ["auth"]

    @post(
        "/accept",
        guards=[public],
        operation_id="acceptInvitation",
        summary="接受邀请并设置密码 · Accept an invitation and set a password",
        middleware=[INVITATION_LIMIT.middleware],
        status_code=200,
        exclude_from_auth=True,
    )
    async def accept(
        self, data: JSONBody[InvitationAcceptIn], redis: NamedDependency[Redis], settings: NamedDependency[Settings]
    ) -> MeOut:
        """Wrong codes are counted per normalised phone, apart from wrong
        passwords, with the same limits (``FENGLING_LOGIN_MAX_FAILURES`` per
        ``FENGLING_LOGIN_LOCK_MINUTES``); the attempt is counted before the
        code is looked at."""
        check_password(data.password)  # a too-short password does not use up an attempt
        try:
            phone = normalise_phone(data.phone)
        except InvalidMemberData as error:
            raise InvitationInvalid("this invitation code is not valid for this phone number", field="code") from error
        lockout = PhoneLockout.for_purpose(redis, INVITATION_PURPOSE, settings)
        locked_for = await lockout.reserve(phone)
        if locked_for:
            raise locked_problem("invitation_locked", "code", locked_for)
        member = await accept_invitation(phone=phone, code=data.code, password=data.password)
        await lockout.reset(phone)
        return me_out(member)
