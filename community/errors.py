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
