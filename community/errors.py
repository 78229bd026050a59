"""Community errors; mapped to problem+json in ``api/errors.py``."""

from __future__ import annotations


class CommunityError(Exception):
    code = "community_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidMemberData(CommunityError):
    code = "invalid_member_data"


class PhoneTaken(CommunityError):
    code = "phone_taken"


class OrganisationNotFound(CommunityError):
    code = "organisation_not_found"


class MemberNotFound(CommunityError):
    code = "member_not_found"


class InvalidRole(CommunityError):
    code = "invalid_role"


class InvalidOrganisationData(InvalidMemberData):
    """A node that cannot exist as asked (level not below its parent, no name)."""

    code = "invalid_organisation_data"


class GrantNotFound(CommunityError):
    code = "grant_not_found"


class InvitationInvalid(CommunityError):
    """One answer for every refused invitation (unknown phone, wrong, expired
    or used code), so the answer reveals nothing about which it was."""

    code = "invitation_invalid"


class TeamNotFound(CommunityError):
    code = "team_not_found"


class InvalidTeamData(CommunityError):
    code = "invalid_team_data"


class TeamMembershipRefused(CommunityError):
    """The member may not join (outside the team's area), is not in the team,
    or is its leader and cannot leave before another leader is set."""

    code = "team_membership_refused"


class ImportFileInvalid(CommunityError):
    """The file as a whole cannot be read: encoding, header, no rows."""

    code = "import_file_invalid"


class ImportFileTooLarge(CommunityError):
    code = "import_file_too_large"


class ImportConflict(CommunityError):
    """The database changed between validation and writing (a phone was
    registered meanwhile); nothing was written, run the import again."""

    code = "import_conflict"


class AccessRefused(CommunityError):
    """The acting principal may see the object but may not do this to it
    (HTTP 403). Raised by the policy modules (``*/policy.py``) inside the
    service, so every face (API, CLI, jobs, admin forms) refuses alike.

    Objects the principal may not even see are refused with the app's own
    ``*NotFound`` error instead (HTTP 404), exactly like objects that do not
    exist, so ids cannot be probed. ``code`` names the rule when a program
    should tell refusals apart (``self_credit``, ``own_roles``…)."""

    code = "forbidden"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message, field=field)
        if code is not None:
            self.code = code


# --- Manual points: adjustments, four-eyes, reversals (community/manual_points.py)


class ManagedAccountNotFound(CommunityError):
    """No such account, or not one the principal manages: the same answer,
    so account codes cannot be probed (HTTP 404)."""

    code = "account_not_found"


class SettlementAccountProtected(CommunityError):
    """A shop's settlement balance is owed to its unsettled months: only
    pickups, same-month returns and settlement move it (HTTP 409)."""

    code = "settlement_account_protected"


class AdjustmentNotFound(CommunityError):
    """No such request, or one the principal may not see (HTTP 404)."""

    code = "adjustment_not_found"


class AdjustmentNotPending(CommunityError):
    """The request was already approved, rejected or has expired (HTTP 409)."""

    code = "adjustment_not_pending"


class ReversalOwnedByFlow(CommunityError):
    """The entry belongs to a flow (an order, an activity, a campaign, a
    settlement) that keeps its own state in step with the ledger; only that
    flow may undo it. ``code`` names the flow: ``reversal_owned_by_order``…
    (HTTP 409)."""

    code = "reversal_owned_by_flow"

    def __init__(self, message: str, *, flow: str, field: str | None = "entry_id") -> None:
        super().__init__(message, field=field)
        self.flow = flow
        self.code = f"reversal_owned_by_{flow}"


class WrongPassword(CommunityError):
    """The current password given to change it is not the member's (HTTP
    422 naming ``current_password``; not 401, which would tell the client
    its token is no longer good)."""

    code = "wrong_password"
