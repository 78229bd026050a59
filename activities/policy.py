"""Who may see and act on activities, patrol tasks and overdue lists.

The services (``submissions``, ``verification``, ``patrol_tasks``,
``listing``, ``deadlines``) apply these rules inside their transactions, so
the API, the CLI, jobs and later the admin forms all answer alike.

- An activity is visible to its member and to reviewers: holders of a post
  or a managing role at its organisation or above (read from the database,
  so a role revoked a moment ago no longer counts). To anyone else it does
  not exist: ``ActivityNotFound``, worded as for a missing one.
- Route points and check-out are the patrol's own member's; on anyone
  else's patrol the answer is the same not-found as for a missing one.
- Verifying, rejecting, assigning and handling need a reviewer who is not
  the activity's member (invariant 7, enforced in ``verification``); rating
  is the reporter's alone.
- Ids named in a submission or a verification (a campaign, a place) that
  the principal may not see and that do not apply answer as missing ones;
  only what they may see is refused with the reason.
- A photo is visible to its uploader and to whoever may see an activity it
  is attached to.
- Patrol tasks are put up by managers of their organisation; a member sees
  the tasks of their home, the nodes above and below it, and what they manage.
  A task outside that answers exactly as a missing one. A grab-order task's
  slots are claimed by members who can earn points and whose home is the
  task's node or below it; its claims (who claimed, who did not show) are
  read by the managers of its node.
- An organisation's overdue list is read by its managers and by holders of
  a verifying role at it or above; to anyone else the node does not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from activities.errors import ActivityNotFound, PatrolTaskNotFound
from activities.models import ActivityPlace, ActivityRecord, ActivityView, PatrolTaskRecord
from activities.records import get_activity
from campaigns.campaigns import applicable_campaign, visible_campaign
from campaigns.errors import CampaignClosed, CampaignNotApplicable, CampaignNotFound
from campaigns.models import CampaignRecord
from community.access import (
    Principal,
    can_manage_organisation,
    holds_role_over,
    managed_organisations,
    verifying_organisations,
)
from community.accounts import can_earn
from community.errors import AccessRefused, OrganisationNotFound
from community.organisations import ancestor_ids, subtree_ids
from community.roles import VERIFYING_ROLES


async def may_review(member_id: int, organisation_id: int) -> bool:
    """Does the member hold a post or a managing role at the organisation or above?"""
    return await holds_role_over(member_id, organisation_id, VERIFYING_ROLES)


async def may_see_activity(principal: Principal, owner_id: int, organisation_id: int) -> bool:
    return owner_id == principal.member_id or await may_review(principal.member_id, organisation_id)


def not_found(activity_id: int) -> ActivityNotFound:
    """The one answer for a missing activity and for one the caller may not see."""
    return ActivityNotFound(f"no activity {activity_id} for you", field="activity_id")


async def check_activity_visible(
    principal: Principal, activity_id: int, activity: ActivityRecord | None
) -> ActivityRecord:
    """The activity (None: there is none) if the principal may see it."""
    if activity is None or not await may_see_activity(principal, activity.member_id, activity.organisation_id):
        raise not_found(activity_id)
    return activity


async def visible_activity(principal: Principal, activity_id: int) -> ActivityView:
    try:
        activity = await get_activity(activity_id)
    except ActivityNotFound:
        raise not_found(activity_id) from None
    if not await may_see_activity(principal, activity.member_id, activity.organisation_id):
        raise not_found(activity_id)
    return activity


def check_own_patrol(principal: Principal, activity_id: int, activity: ActivityRecord | None) -> ActivityRecord:
    """Only the patrol's member adds route points or checks out; anyone
    else gets the answer a missing patrol gets, so ids cannot be probed."""
    if activity is None or activity.member_id != principal.member_id:
        raise not_found(activity_id)
    return activity


async def may_see_photo(principal: Principal, uploader_id: int | None, links: Sequence[ActivityPlace]) -> bool:
    """``links``: whose and where each activity the photo is attached to is."""
    if uploader_id is not None and uploader_id == principal.member_id:
        return True
    for link in links:
        if await may_see_activity(principal, link.member_id, link.organisation_id):
            return True
    return False


async def review_scope(principal: Principal) -> set[int]:
    """The organisations whose activities the principal reviews."""
    return await verifying_organisations(principal)


async def patrol_task_scope(principal: Principal) -> set[int]:
    home = principal.home_organisation_id
    return set(await ancestor_ids(home)) | await subtree_ids(home) | await managed_organisations(principal)


async def check_patrol_task_create(principal: Principal, organisation_id: int) -> None:
    if not await can_manage_organisation(principal, organisation_id):
        raise AccessRefused("you do not manage this organisation", field="organisation_id")


def check_task_visible(task_id: int, task: PatrolTaskRecord | None, scope: set[int]) -> PatrolTaskRecord:
    """The task, if the principal whose ``patrol_task_scope`` is ``scope``
    may see it; one not-found for a missing task and a hidden one."""
    if task is None or task.organisation_id not in scope:
        raise PatrolTaskNotFound(f"no patrol task {task_id}", field="task_id")
    return task


async def check_may_claim(principal: Principal, task: PatrolTaskRecord) -> None:
    """Volunteers of the task's node or below, who can earn points."""
    if not can_earn(role for _, role in principal.grants):
        raise AccessRefused("only volunteers and grid posts claim patrol tasks", field="task_id")
    if principal.home_organisation_id not in await subtree_ids(task.organisation_id):
        raise AccessRefused("this task is for volunteers of its own area", field="task_id")


async def claimable_organisations(principal: Principal) -> set[int]:
    """The nodes whose tasks the principal may claim: ``check_may_claim``
    for a whole list at once. A task's node must hold the member's home in
    its subtree, so these are the home and its ancestors; none for a member
    who cannot earn."""
    if not can_earn(role for _, role in principal.grants):
        return set()
    return set(await ancestor_ids(principal.home_organisation_id))


async def check_task_claims_reader(principal: Principal, task: PatrolTaskRecord) -> None:
    """A task's claims (names, no-shows) are its node's managers' to read;
    to anyone else the task answers as missing."""
    if not await can_manage_organisation(principal, task.organisation_id):
        raise PatrolTaskNotFound(f"no patrol task {task.id} that you manage", field="task_id")


async def check_deadline_watcher(principal: Principal, organisation_id: int) -> None:
    """Managers of the node, and holders of a verifying role at it or above."""
    if await holds_role_over(principal.member_id, organisation_id, VERIFYING_ROLES):
        return
    if await can_manage_organisation(principal, organisation_id):
        return
    raise OrganisationNotFound(f"no organisation {organisation_id} that you watch", field="organisation_id")


async def applicable_campaign_for(
    principal: Principal, campaign_id: int | None, *, organisation_id: int, moment: datetime, lock: bool = False
) -> CampaignRecord | None:
    """``campaigns.campaigns.applicable_campaign``, except that a named
    campaign which does not apply here and which the principal may not see
    (``campaigns/policy.py``) answers exactly as a missing one: its status
    and where it runs are not theirs to learn."""
    try:
        return await applicable_campaign(campaign_id, organisation_id=organisation_id, moment=moment, lock=lock)
    except (CampaignNotFound, CampaignNotApplicable, CampaignClosed):
        if campaign_id is not None:
            await visible_campaign(principal, campaign_id)
        raise
