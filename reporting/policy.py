"""Who may see a node's dashboard: organisers and admins who manage that
node (its subtree is theirs too). Anyone else gets what
``community.policy.managed_organisation`` answers: 404 for a node they
cannot see, 403 for one they see but do not manage, so an organiser of
community 1 never reads community 2's figures, on the page or in an export."""

from __future__ import annotations

from community.access import Principal
from community.models import OrganisationRecord
from community.policy import managed_organisation


async def dashboard_organisation(principal: Principal, organisation_id: int) -> OrganisationRecord:
    return await managed_organisation(principal, organisation_id)
