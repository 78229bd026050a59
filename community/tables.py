from __future__ import annotations

from piccolo.columns import (
    JSON,
    BigInt,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from community.tree_paths import MAX_PATH_CHARS


class Organisation(Table, tablename="community_organisation"):
    """A node of the tree city → district → street → community → grid →
    building or lane (楼栋 / 弄巷, the same rank)."""

    id = Serial(primary_key=True)
    parent: ForeignKey[Organisation] = ForeignKey(
        "self", null=True, default=None, index=True, on_delete=OnDelete.restrict
    )
    level = Varchar(length=20)
    name_zh = Varchar(length=200)
    name_en = Varchar(length=200, default="")
    # Organisations that issue points own an `org:<id>:issuance` account.
    issues_points = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
    # The ids from the root down to this node (``community/tree_paths.py``):
    # ancestors are read off it, a subtree is one index range over it.
    path = Varchar(length=MAX_PATH_CHARS, default="", index=True)


class Member(Table, tablename="community_member"):
    id = Serial(primary_key=True)
    name = Varchar(length=100)
    phone = Varchar(length=20, unique=True, index=True)
    password_hash = Varchar(length=200)
    home_organisation = ForeignKey(Organisation, null=False, index=True, on_delete=OnDelete.restrict)
    preferred_language = Varchar(length=8, default="zh")
    # 长辈模式: the pages in large type with large tap targets (``web/``).
    elder_mode = Boolean(default=False)
    active = Boolean(default=True)
    # Every login token carries the version it was issued under; a password
    # change, a reset, a role removal, a deactivation or a logout bumps it,
    # and older tokens then answer 401 (``api/community/auth.py``).
    session_version = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    # How the member appears on leaderboards (``leaderboards/visibility.py``):
    # ``masked`` (the default: 张*英), ``full_name`` or ``hidden`` (off every
    # board; points untouched). The version rises with every change, so the
    # boards in Redis apply changes in order whatever order they arrive in.
    ranking_visibility = Varchar(length=12, default="masked")
    ranking_visibility_version = Integer(default=0)


class RoleGrant(Table, tablename="community_role_grant"):
    """A member holds a role over an organisation node (and its subtree)."""

    id = Serial(primary_key=True)
    member = ForeignKey(Member, null=False, index=True, on_delete=OnDelete.restrict)
    organisation = ForeignKey(Organisation, null=False, index=True, on_delete=OnDelete.restrict)
    role = Varchar(length=20)
    granted_at = Timestamptz(default=TimestamptzNow())

    # (member, organisation, role) is unique: a UNIQUE INDEX from a raw
    # migration, because SQLite cannot add a table constraint after creation.


class Team(Table, tablename="community_team"):
    """A volunteer team (志愿服务队) of one organisation. Its ``kind`` selects
    the per-hour earning rate of service logged with it."""

    id = Serial(primary_key=True)
    organisation = ForeignKey(Organisation, null=False, index=True, on_delete=OnDelete.restrict)
    name_zh = Varchar(length=200)
    name_en = Varchar(length=200, default="")
    kind = Varchar(length=30)
    leader = ForeignKey(Member, null=True, default=None, on_delete=OnDelete.restrict)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class TeamMember(Table, tablename="community_team_member"):
    """Membership of a team; (team, member) is unique (raw migration index)."""

    id = Serial(primary_key=True)
    team = ForeignKey(Team, null=False, index=True, on_delete=OnDelete.restrict)
    member = ForeignKey(Member, null=False, index=True, on_delete=OnDelete.restrict)
    joined_at = Timestamptz(default=TimestamptzNow())


class PastTeamMember(Table, tablename="community_past_team_member"):
    """A membership that ended: written with the removal of its
    ``TeamMember`` row, in the same transaction, and never changed. The
    leaderboards place an award in the teams the member was in *when it
    was made*, so a rebuild after someone left gives the team board the
    feed built (``leaderboards.feed``)."""

    id = Serial(primary_key=True)
    team = ForeignKey(Team, null=False, index=True, on_delete=OnDelete.restrict)
    # Indexed: the leaderboards' feed reads a member's past teams.
    member = ForeignKey(Member, null=False, index=True, on_delete=OnDelete.restrict)
    joined_at = Timestamptz()
    left_at = Timestamptz()


class Invitation(Table, tablename="community_invitation"):
    """A one-time code an organiser hands a new member to set their password.
    Only the code's SHA-256 is stored."""

    id = Serial(primary_key=True)
    member = ForeignKey(Member, null=False, index=True, on_delete=OnDelete.restrict)
    code_sha256 = Varchar(length=64, index=True)
    created_by = ForeignKey(Member, null=True, default=None, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    accepted_at = Timestamptz(null=True, default=None)


class AuditEvent(Table, tablename="community_audit_event"):
    """Who did what, for actions by organisers and admins. Append-only."""

    id = Serial(primary_key=True)
    actor_ref = Varchar(length=80)
    action = Varchar(length=80, index=True)
    target_ref = Varchar(length=120, default="")
    detail = JSON(default="{}")
    at = Timestamptz(default=TimestamptzNow(), index=True)


class AdjustmentRequest(Table, tablename="community_adjustment_request"):
    """A manual adjustment above ``FENGLING_ADJUSTMENT_APPROVAL_ABOVE``,
    waiting for a second organiser or admin (four-eyes).

    Its points are reserved meanwhile as a ledger hold on the debit account
    (``hold_id``); approval posts that hold to the credit account
    (``entry_id``), rejection and expiry void it. The ledger knows nothing
    of requests: ids are plain numbers, as in the marketplace's orders.
    ``status`` leaves ``pending`` exactly once, under the row lock.
    """

    id = Serial(primary_key=True)
    requested_by = ForeignKey(Member, null=False, index=True, on_delete=OnDelete.restrict)
    debit_account = Varchar(length=120)
    credit_account = Varchar(length=120)
    # The accounts' scopes, so a page of requests one may decide is one query.
    debit_organisation = ForeignKey(Organisation, null=False, index=True, on_delete=OnDelete.restrict)
    credit_organisation = ForeignKey(Organisation, null=False, index=True, on_delete=OnDelete.restrict)
    amount_minor = BigInt()
    reason_zh = Varchar(length=300)
    reason_en = Varchar(length=300, default="")
    memo = Varchar(length=1000, default="")
    status = Varchar(length=16, default="pending", index=True)
    hold_id = BigInt(null=True, default=None)
    entry_id = BigInt(null=True, default=None)
    idempotency_key = Varchar(length=200, unique=True)
    request_fingerprint = Varchar(length=64)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(index=True)
    decided_by = ForeignKey(Member, null=True, default=None, on_delete=OnDelete.restrict)
    decided_at = Timestamptz(null=True, default=None)
    decision_reason = Varchar(length=300, default="")
