"""The community's records: what its services take and return.

Each record is a frozen dataclass built from its table's row in exactly one
place (its ``from_row``), so service logic reads attributes, never
``row["..."]``. Statuses and kinds are ``StrEnum`` here; roles and tree
levels are in ``community/roles.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from community.roles import Level, Role
from community.tree_paths import ancestors_nearest_first
from ledger.amounts import from_minor


class TeamKind(StrEnum):
    """What a volunteer team does; selects the per-hour earning rate of the
    service logged with it (``campaigns/rules.py``)."""

    PATROL = "patrol"
    SERVICE = "service"
    MEDIATION = "mediation"
    PUBLICITY = "publicity"
    ENVIRONMENT = "environment"
    ELDERLY_CARE = "elderly_care"
    OTHER = "other"


class AdjustmentStatus(StrEnum):
    """A four-eyes adjustment request leaves ``pending`` exactly once."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


# --- the tree -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrganisationRecord:
    """A node of the tree (``community_organisation``)."""

    id: int
    parent_id: int | None
    level: Level
    name_zh: str
    name_en: str
    issues_points: bool
    # Root first, the node last (``community/tree_paths.py``).
    path: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> OrganisationRecord:
        return cls(
            id=int(row["id"]),
            parent_id=int(row["parent"]) if row["parent"] is not None else None,
            level=Level(row["level"]),
            name_zh=str(row["name_zh"]),
            name_en=str(row["name_en"]),
            issues_points=bool(row["issues_points"]),
            path=str(row["path"]),
        )

    @property
    def ancestor_ids(self) -> list[int]:
        """The node and its ancestors, nearest first (read off the path)."""
        return ancestors_nearest_first(self.path)


@dataclass(frozen=True, slots=True)
class OrganisationPage:
    organisations: list[OrganisationRecord]
    # An opaque ``core.cursors`` cursor; None on the last page.
    next_cursor: str | None


# --- members and their roles -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Grant:
    """A role held over a node and its subtree (``community_role_grant``)."""

    organisation_id: int
    role: Role

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Grant:
        return cls(organisation_id=int(row["organisation"]), role=Role(row["role"]))


def grants_by_member(rows: Iterable[dict[str, Any]]) -> dict[int, tuple[Grant, ...]]:
    """Role grant rows (``member``, ``organisation``, ``role``) grouped by
    member, in row order."""
    grouped: dict[int, list[Grant]] = {}
    for row in rows:
        grouped.setdefault(int(row["member"]), []).append(Grant.from_row(row))
    return {member_id: tuple(grants) for member_id, grants in grouped.items()}


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """A member (``community_member``) with every role they hold. The
    password hash never leaves ``community/members.py``: only whether there
    is one."""

    id: int
    name: str
    phone: str
    home_organisation_id: int
    preferred_language: str
    # 长辈模式 on the pages: large type, large tap targets (``community/preferences.py``).
    elder_mode: bool
    active: bool
    # False until the member accepts an invitation and sets a password.
    has_password: bool
    grants: tuple[Grant, ...]
    # Tokens issued under another version answer 401 (``api/community/auth.py``).
    session_version: int

    @classmethod
    def from_row(cls, row: dict[str, Any], *, grants: tuple[Grant, ...]) -> MemberRecord:
        return cls(
            id=int(row["id"]),
            name=str(row["name"]),
            phone=str(row["phone"]),
            home_organisation_id=int(row["home_organisation"]),
            preferred_language=str(row["preferred_language"]),
            elder_mode=bool(row["elder_mode"]),
            active=bool(row["active"]),
            has_password=bool(row["password_hash"]),
            grants=grants,
            session_version=int(row["session_version"]),
        )


@dataclass(frozen=True, slots=True)
class MemberPage:
    members: list[MemberRecord]
    # An opaque ``core.cursors`` cursor; None on the last page.
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class PostHolder:
    """Who holds a role exactly at a node (a role grant with its member)."""

    member_id: int
    name: str
    phone: str
    home_organisation_id: int
    role: Role
    granted_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> PostHolder:
        """A ``community_role_grant`` row joined with its member's ``name``,
        ``phone`` and ``home_organisation``."""
        return cls(
            member_id=int(row["member"]),
            name=str(row["name"]),
            phone=str(row["phone"]),
            home_organisation_id=int(row["home_organisation"]),
            role=Role(row["role"]),
            granted_at=row["granted_at"],
        )


@dataclass(frozen=True, slots=True)
class InvitationRecord:
    """A stored invitation (``community_invitation``): only the code's hash
    is kept, and that never leaves ``community/invitations.py``."""

    id: int
    member_id: int
    expires_at: datetime
    accepted_at: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> InvitationRecord:
        return cls(
            id=int(row["id"]),
            member_id=int(row["member"]),
            expires_at=row["expires_at"],
            accepted_at=row["accepted_at"],
        )


@dataclass(frozen=True, slots=True)
class IssuedInvitation:
    """A one-time code as issued: shown once, only its hash is stored."""

    member_id: int
    code: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class InvitedMember:
    member: MemberRecord
    invitation: IssuedInvitation


# --- teams ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TeamRecord:
    """A volunteer team (``community_team``) and how many members it has."""

    id: int
    organisation_id: int
    name_zh: str
    name_en: str
    kind: TeamKind
    leader_id: int | None
    active: bool
    member_count: int

    @classmethod
    def from_row(cls, row: dict[str, Any], member_count: int) -> TeamRecord:
        return cls(
            id=int(row["id"]),
            organisation_id=int(row["organisation"]),
            name_zh=str(row["name_zh"]),
            name_en=str(row["name_en"]),
            kind=TeamKind(row["kind"]),
            leader_id=int(row["leader"]) if row["leader"] is not None else None,
            active=bool(row["active"]),
            member_count=member_count,
        )


@dataclass(frozen=True, slots=True)
class TeamMemberRecord:
    """A place in a team (``community_team_member``) with its member."""

    member_id: int
    name: str
    phone: str
    home_organisation_id: int
    joined_at: datetime
    is_leader: bool

    @classmethod
    def from_row(cls, row: dict[str, Any], *, leader_id: int | None) -> TeamMemberRecord:
        """A ``community_team_member`` row joined with its member's ``name``,
        ``phone`` and ``home_organisation``."""
        return cls(
            member_id=int(row["member"]),
            name=str(row["name"]),
            phone=str(row["phone"]),
            home_organisation_id=int(row["home_organisation"]),
            joined_at=row["joined_at"],
            is_leader=int(row["member"]) == leader_id,
        )


@dataclass(frozen=True, slots=True)
class TeamDetail(TeamRecord):
    """A team with its roster (at most ``community.teams.MAX_MEMBERS_SHOWN``;
    ``member_count`` is the true size)."""

    members: list[TeamMemberRecord]


# --- manual points --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdjustmentRequestRecord:
    """A pending (or decided) four-eyes adjustment (``community_adjustment_request``)."""

    id: int
    requested_by: int
    debit_account: str
    credit_account: str
    debit_organisation_id: int
    credit_organisation_id: int
    amount: Decimal
    reason_zh: str
    reason_en: str
    memo: str
    status: AdjustmentStatus
    hold_id: int | None
    entry_id: int | None
    request_fingerprint: str
    created_at: datetime
    expires_at: datetime
    decided_by: int | None
    decided_at: datetime | None
    decision_reason: str
    # True when this call replayed an earlier request with the same key.
    replayed: bool = False

    @classmethod
    def from_row(cls, row: dict[str, Any], *, replayed: bool = False) -> AdjustmentRequestRecord:
        return cls(
            id=int(row["id"]),
            requested_by=int(row["requested_by"]),
            debit_account=str(row["debit_account"]),
            credit_account=str(row["credit_account"]),
            debit_organisation_id=int(row["debit_organisation"]),
            credit_organisation_id=int(row["credit_organisation"]),
            amount=from_minor(row["amount_minor"]),
            reason_zh=str(row["reason_zh"]),
            reason_en=str(row["reason_en"]),
            memo=str(row["memo"]),
            status=AdjustmentStatus(row["status"]),
            hold_id=int(row["hold_id"]) if row["hold_id"] is not None else None,
            entry_id=int(row["entry_id"]) if row["entry_id"] is not None else None,
            request_fingerprint=str(row["request_fingerprint"]),
            created_at=row["created_at"],
            expires_at=row["expires_at"],
            decided_by=int(row["decided_by"]) if row["decided_by"] is not None else None,
            decided_at=row["decided_at"],
            decision_reason=str(row["decision_reason"]),
            replayed=replayed,
        )


@dataclass(frozen=True, slots=True)
class AdjustmentPage:
    requests: list[AdjustmentRequestRecord]
    # The last request's id when more follow; None on the last page.
    next_cursor: int | None
