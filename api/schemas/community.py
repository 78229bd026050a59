"""Request and response models of the community routes: organisations,
posts, members, invitations, teams and the CSV import.

One model per thing per direction; each response model is built from its
domain record (``community/models.py``) in one function. Where the wire
shape is the record's, that function is ``model_validate(record,
from_attributes=True)``; it differs only where the caller's view does
(masked phones, role and team-kind names)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from community.member_import import ImportResult
from community.members import mask_phone
from community.models import (
    IssuedInvitation,
    MemberRecord,
    OrganisationPage,
    OrganisationRecord,
    PostHolder,
    TeamDetail,
    TeamKind,
    TeamMemberRecord,
    TeamRecord,
)
from community.passwords import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS
from community.roles import ROLE_NAMES, Level, Role
from community.teams import TEAM_KIND_NAMES
from core.ids import MAX_ID

NEXT_CURSOR = "pass as cursor for the next page; null on the last"


class OrganisationIn(BaseModel):
    """A new node under ``parent_id``; its level must sit below the parent's."""

    parent_id: int = Field(ge=1, le=MAX_ID)
    level: Level
    name_zh: str = Field(min_length=1, max_length=200, examples=["第三网格"])
    name_en: str = Field(default="", max_length=200)
    issues_points: bool = Field(default=False, description="only admins may create an issuing organisation")


class OrganisationOut(BaseModel):
    id: int
    parent_id: int | None
    level: str
    name_zh: str
    name_en: str
    issues_points: bool


def organisation_out(organisation: OrganisationRecord) -> OrganisationOut:
    return OrganisationOut.model_validate(organisation, from_attributes=True)


class OrganisationPageOut(BaseModel):
    organisations: list[OrganisationOut]
    next_cursor: str | None = Field(description=NEXT_CURSOR)


def organisation_page_out(page: OrganisationPage) -> OrganisationPageOut:
    return OrganisationPageOut(
        organisations=[organisation_out(organisation) for organisation in page.organisations],
        next_cursor=page.next_cursor,
    )


class PostIn(BaseModel):
    member_id: int = Field(ge=1, le=MAX_ID)
    role: Role


class PostHolderOut(BaseModel):
    member_id: int
    name: str
    phone: str
    role: Role
    role_name_zh: str
    role_name_en: str
    granted_at: datetime


def post_holder_out(holder: PostHolder, *, full_phone: bool) -> PostHolderOut:
    zh, en = ROLE_NAMES[holder.role]
    return PostHolderOut(
        member_id=holder.member_id,
        name=holder.name,
        phone=holder.phone if full_phone else mask_phone(holder.phone),
        role=holder.role,
        role_name_zh=zh,
        role_name_en=en,
        granted_at=holder.granted_at,
    )


class MemberGrantOut(BaseModel):
    organisation_id: int
    role: Role


class MemberViewOut(BaseModel):
    """A member as the caller may see them: ``phone`` is masked
    (138****0001) unless the caller is the member or organises them."""

    id: int
    name: str
    phone: str
    phone_masked: bool
    home_organisation_id: int
    preferred_language: str
    active: bool
    has_password: bool
    roles: list[MemberGrantOut]


def member_view(member: MemberRecord, *, full_phone: bool) -> MemberViewOut:
    return MemberViewOut(
        id=member.id,
        name=member.name,
        phone=member.phone if full_phone else mask_phone(member.phone),
        phone_masked=not full_phone,
        home_organisation_id=member.home_organisation_id,
        preferred_language=member.preferred_language,
        active=member.active,
        has_password=member.has_password,
        roles=[MemberGrantOut(organisation_id=g.organisation_id, role=g.role) for g in member.grants],
    )


class MemberPageOut(BaseModel):
    members: list[MemberViewOut]
    next_cursor: str | None = Field(description=NEXT_CURSOR)


class MemberIn(BaseModel):
    """Register a member without a password; they get an invitation code."""

    name: str = Field(min_length=1, max_length=100, examples=["刘桂兰"])
    phone: str = Field(min_length=1, max_length=20, examples=["13800000001"])
    organisation_id: int = Field(ge=1, le=MAX_ID, description="the member's home node")
    roles: list[Role] = Field(default_factory=lambda: [Role.VOLUNTEER], min_length=1, max_length=8)
    team_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    preferred_language: Literal["zh", "en"] = "zh"


class InvitationCodeOut(BaseModel):
    """Shown once: only the code's hash is stored."""

    member_id: int
    code: str
    expires_at: datetime


def invitation_out(invitation: IssuedInvitation) -> InvitationCodeOut:
    return InvitationCodeOut.model_validate(invitation, from_attributes=True)


class MemberCreatedOut(BaseModel):
    member: MemberViewOut
    invitation: InvitationCodeOut


class InvitationAcceptIn(BaseModel):
    phone: str = Field(min_length=1, max_length=20, examples=["13800000001"])
    code: str = Field(min_length=1, max_length=20, examples=["K7QM-3XPA"])
    password: str = Field(min_length=MIN_PASSWORD_CHARS, max_length=MAX_PASSWORD_CHARS)


class TeamIn(BaseModel):
    organisation_id: int = Field(ge=1, le=MAX_ID)
    name_zh: str = Field(min_length=1, max_length=200, examples=["平安社区治安巡逻队"])
    name_en: str = Field(default="", max_length=200)
    kind: TeamKind
    leader_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class TeamMemberIn(BaseModel):
    member_id: int = Field(ge=1, le=MAX_ID)


class TeamOut(BaseModel):
    id: int
    organisation_id: int
    name_zh: str
    name_en: str
    kind: TeamKind
    kind_name_zh: str
    kind_name_en: str
    leader_id: int | None
    active: bool
    member_count: int


def team_out(team: TeamRecord) -> TeamOut:
    zh, en = TEAM_KIND_NAMES[team.kind]
    return TeamOut(
        id=team.id,
        organisation_id=team.organisation_id,
        name_zh=team.name_zh,
        name_en=team.name_en,
        kind=team.kind,
        kind_name_zh=zh,
        kind_name_en=en,
        leader_id=team.leader_id,
        active=team.active,
        member_count=team.member_count,
    )


class TeamMemberOutModel(BaseModel):
    member_id: int
    name: str
    phone: str
    home_organisation_id: int
    joined_at: datetime
    is_leader: bool


def team_member_out(member: TeamMemberRecord, *, full_phone: bool) -> TeamMemberOutModel:
    return TeamMemberOutModel(
        member_id=member.member_id,
        name=member.name,
        phone=member.phone if full_phone else mask_phone(member.phone),
        home_organisation_id=member.home_organisation_id,
        joined_at=member.joined_at,
        is_leader=member.is_leader,
    )


class TeamDetailOut(TeamOut):
    members: list[TeamMemberOutModel]


def team_detail_out(team: TeamDetail, *, full_phone_of: set[int]) -> TeamDetailOut:
    """``full_phone_of``: ids of members whose number the caller may see whole."""
    return TeamDetailOut(
        **team_out(team).model_dump(),
        members=[team_member_out(m, full_phone=m.member_id in full_phone_of) for m in team.members],
    )


class ImportErrorOut(BaseModel):
    line: int
    field: str
    message: str
    message_zh: str


class ImportedMemberOut(BaseModel):
    line: int
    id: int
    name: str
    phone: str
    organisation_id: int
    roles: list[Role]
    team_id: int | None
    invitation_code: str
    expires_at: datetime


class ImportResultOut(BaseModel):
    organisation_id: int
    total_rows: int
    valid_rows: int
    dry_run: bool
    skip_bad_rows: bool
    written: bool
    created: list[ImportedMemberOut]
    errors: list[ImportErrorOut]


def import_result_out(result: ImportResult) -> ImportResultOut:
    return ImportResultOut.model_validate(result, from_attributes=True)
