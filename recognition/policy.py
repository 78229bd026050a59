"""Who may see and set what in recognition.

- **My level, my badges**: every member, their own.
- **A member's badges**: the member, and staff who manage the member's node
  or hold a post over it (``community.policy.visible_member``: organisers,
  admins, grid workers and heads over the member's home; anyone else gets
  ``MemberNotFound``, as for a member who does not exist). Volunteers do not
  see each other's badges.
- **An issuing organisation's star thresholds**: read by whoever may see
  the organisation (a member sees what the next star needs); set by
  managers of it (``community.policy.managed_organisation``: 404 for an
  organisation one cannot see, 403 for one seen but not managed).
"""

from __future__ import annotations

from community.access import Principal
from community.models import MemberRecord, OrganisationRecord
from community.policy import managed_organisation, visible_member, visible_organisation
from recognition.errors import InvalidThresholds


async def member_whose_badges(principal: Principal, member_id: int) -> int:
    """The member, if the principal may see their badges."""
    if member_id == principal.member_id:
        return member_id
    record: MemberRecord = await visible_member(principal, member_id)
    return record.id


def _issuer(organisation: OrganisationRecord) -> OrganisationRecord:
    if not organisation.issues_points:
        raise InvalidThresholds(
            f"organisation {organisation.id} issues no points: star thresholds belong to issuing organisations",
            field="organisation_id",
        )
    return organisation


async def readable_issuer(principal: Principal, organisation_id: int) -> OrganisationRecord:
    return _issuer(await visible_organisation(principal, organisation_id))


async def managed_issuer(principal: Principal, organisation_id: int) -> OrganisationRecord:
    return _issuer(await managed_organisation(principal, organisation_id))
