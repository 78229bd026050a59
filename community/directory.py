"""Looking members up: the member list of a node, as the caller may see it.

The rules are ``community/access.py``'s and ``community/policy.py``'s:
members of a node are listed to post holders and managers over it (to
anyone else the node answers as a missing one); whole phone numbers are
shown for the caller themself and for members whose home the caller
manages, and only those callers may search by phone digits, so a search
cannot reveal digits a masked number hides.
"""

from __future__ import annotations

from community.access import Principal, managed_organisations
from community.members import DEFAULT_PAGE_SIZE, list_members
from community.models import MemberPage
from community.organisations import subtree_ids
from community.policy import listable_organisation
from community.roles import Role


async def member_page_for(
    principal: Principal,
    organisation_id: int,
    *,
    role: Role | None = None,
    search: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> tuple[MemberPage, frozenset[int]]:
    """A page of the members living at or below ``organisation_id``, and the
    ids among them whose whole phone number the principal may see."""
    await listable_organisation(principal, organisation_id)
    managed = await managed_organisations(principal)
    page = await list_members(
        organisation_ids=await subtree_ids(organisation_id),
        role=role,
        search=search,
        search_phone=organisation_id in managed,
        cursor=cursor,
        limit=limit,
    )
    full_phone_of = frozenset(
        member.id
        for member in page.members
        if member.id == principal.member_id or member.home_organisation_id in managed
    )
    return page, full_phone_of
