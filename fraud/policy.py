"""Who may review a held award, and who may see a case.

- A reviewer manages (organiser or admin) the organisation where the
  activity happened, or one above it, and is neither the member whose
  points are held nor the member who verified the activity
  (``check_reviewer``, pure; the database is not asked twice).
- The member sees their own case (why their points are pending, who
  decides and by when) and may add an objection; nobody else who is not a
  reviewer sees it: the same not-found as a missing case.
"""

from __future__ import annotations

from community.access import Principal, holds_role_over
from community.roles import MANAGING_ROLES
from fraud.errors import CaseNotFound, ReviewerConflict
from fraud.models import CaseRecord


def not_found(case_id: int) -> CaseNotFound:
    return CaseNotFound(f"no fraud case {case_id} for you", field="case_id")


def check_reviewer(case: CaseRecord, reviewer_id: int) -> None:
    """The member and the original verifier never review (pure)."""
    if reviewer_id == case.member_id:
        raise ReviewerConflict("you cannot review your own held points", field="case_id")
    if case.verifier_id is not None and reviewer_id == case.verifier_id:
        raise ReviewerConflict("the member who verified the activity cannot also review it", field="case_id")


async def may_review_case(principal: Principal, case: CaseRecord) -> bool:
    return await holds_role_over(principal.member_id, case.organisation_id, MANAGING_ROLES)


async def check_case_reviewer(principal: Principal, case: CaseRecord) -> None:
    """Not found for those who may not see it; ``ReviewerConflict`` for the
    member and the verifier (who may see it, but never decide it)."""
    if principal.member_id in (case.member_id, case.verifier_id):
        check_reviewer(case, principal.member_id)
    if not await may_review_case(principal, case):
        raise not_found(case.id)
