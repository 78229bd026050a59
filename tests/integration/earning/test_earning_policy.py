"""Who may run campaigns and act on activities, decided in the domain (no
HTTP): each refusal the API used to make in its handlers is made by the
service itself, answers not-found for what the caller cannot see (worded
exactly as for a missing object, so ids cannot be probed) and
AccessRefused for what they see but may not do, and changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import Any

import pytest

from activities.deadlines import list_overdue_for
from activities.errors import ActivityNotFound, InvalidActivity, PhotoUnavailable
from activities.figures import visible_campaign_figures
from activities.listing import ActivityFilter, list_activities_for
from activities.models import Position
from activities.patrol_tasks import create_patrol_task, patrol_tasks_near
from activities.photos import register_photo
from activities.policy import visible_activity
from activities.submissions import (
    PatrolCheckIn,
    RoutePointIn,
    ServiceLogIn,
    add_route_points,
    check_in_patrol,
    check_out_patrol,
    log_service,
    visible_photo,
)
from activities.verification import HandleIn, RateIn, assign_report, handle_report, rate_report, reject_activity
from campaigns.campaigns import create_campaign, list_visible_campaigns, visible_campaign
from campaigns.errors import CampaignNotFound
from campaigns.funding import close_campaign, fund_campaign
from campaigns.policy import may_see_campaign
from community.access import load_principal
from community.errors import AccessRefused, OrganisationNotFound
from community.members import grant_role
from community.organisations import create_organisation
from community.roles import Level, Role
from core.clock import utc_now
from tests.support.earning_helpers import World, default_rules, service
from tests.support.marketplace_helpers import assert_same, fast_member, snapshot_everything

HERE = Position(latitude=35.06, longitude=118.34)


async def refused(error: type[Exception], call: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``call``, expect ``error``, and prove nothing at all was written."""
    before = await snapshot_everything()
    with pytest.raises(error) as caught:
        await call()
    assert_same(before, await snapshot_everything())
    return caught.value


async def _foreign_organiser(world: World) -> int:
    """An organiser of another community under the same city."""
    elsewhere = await create_organisation(
        name_zh="邻里社区", level=Level.COMMUNITY, parent_id=world.city, issues_points=True
    )
    organiser = await fast_member(elsewhere.id, "别处书记")
    await grant_role(organiser, elsewhere.id, Role.ORGANIZER)
    return organiser


def test_campaign_visibility_is_home_and_above_or_managed() -> None:
    assert may_see_campaign(3, home_chain=[5, 4, 3, 2, 1], managed=set())
    assert may_see_campaign(7, home_chain=[5, 4], managed={7, 8})
    assert not may_see_campaign(6, home_chain=[5, 4, 3], managed={7})


async def test_campaigns_are_run_only_by_managers_of_their_organisation(world: World) -> None:
    campaign = await world.campaign(budget="100.00")
    volunteer = await load_principal(world.volunteers[0])
    foreign = await load_principal(await _foreign_organiser(world))

    error = await refused(
        AccessRefused,
        lambda: create_campaign(
            volunteer, organisation_id=world.community, title_zh="自封活动", starts_at=utc_now(), rules=default_rules()
        ),
    )
    assert error.field == "organisation_id"
    # Bad rules from someone without the right are refused for the right first.
    await refused(
        AccessRefused,
        lambda: create_campaign(
            foreign, organisation_id=world.community, title_zh="", starts_at=utc_now(), rules={"x": 1}
        ),
    )
    # The volunteer sees the campaign (it covers their home) but may not fund or close it:
    # to them, as to the other community's organiser, it is not there.
    missing = await refused(
        CampaignNotFound, lambda: fund_campaign(volunteer, 999_999, amount="1.00", idempotency_key="k")
    )
    for who in (volunteer, foreign):
        error = await refused(
            CampaignNotFound, partial(fund_campaign, who, campaign.id, amount="5.00", idempotency_key="k")
        )
        assert error.message == missing.message.replace("999999", str(campaign.id))
        await refused(CampaignNotFound, partial(close_campaign, who, campaign.id))
    # Reads: the foreign organiser cannot see it or its figures at all.
    await refused(CampaignNotFound, lambda: visible_campaign(foreign, campaign.id))
    await refused(CampaignNotFound, lambda: visible_campaign_figures(foreign, campaign.id))
    assert (await list_visible_campaigns(foreign)).items == []
    assert [c.id for c in (await list_visible_campaigns(volunteer)).items] == [campaign.id]
    assert (await visible_campaign_figures(volunteer, campaign.id))[0].id == campaign.id


async def test_a_grid_organiser_runs_the_grids_campaign_but_only_the_issuer_funds_it(world: World) -> None:
    """A funding creates points out of the issuing community's issuance: an
    organiser delegated at a grid below it must not mint them (the
    security review's finding), while the community's organiser may fund
    the same campaign."""
    grid_organiser = await fast_member(world.grid, "网格长")
    await grant_role(grid_organiser, world.grid, Role.ORGANIZER)
    runner = await load_principal(grid_organiser)
    campaign = await create_campaign(
        runner, organisation_id=world.grid, title_zh="网格巡逻", starts_at=utc_now(), rules=default_rules()
    )

    error = await refused(
        AccessRefused, partial(fund_campaign, runner, campaign.id, amount="10000000", idempotency_key="mint")
    )
    assert (error.code, error.field) == ("issuer_not_managed", "campaign_id")

    funded = await fund_campaign(
        await load_principal(world.organizer), campaign.id, amount="50.00", idempotency_key="fund"
    )
    assert str(funded.budget) == "50.00"
    # The grid organiser still runs it: closing returns the budget to issuance.
    assert str((await close_campaign(runner, campaign.id)).budget) == "0.00"


async def test_acting_on_an_activity_one_cannot_see_answers_as_for_a_missing_one(world: World) -> None:
    await world.campaign(budget="100.00")
    log = await service(world.volunteers[0])
    neighbour = await load_principal(world.volunteers[1])
    foreign = await load_principal(await _foreign_organiser(world))
    organiser = await load_principal(world.organizer)

    missing = await refused(ActivityNotFound, lambda: reject_activity(foreign, 999_999, reason="x"))
    for who in (neighbour, foreign):
        calls: list[Callable[[], Awaitable[Any]]] = [
            partial(visible_activity, who, log.id),
            partial(reject_activity, who, log.id, reason="不实"),
            partial(assign_report, who, log.id, handler_id=world.grid_worker),
            partial(handle_report, who, log.id, data=HandleIn(useful=True, feedback="已办")),
            partial(rate_report, who, log.id, data=RateIn(rating=1)),
        ]
        for call in calls:
            error = await refused(ActivityNotFound, call)
            assert error.message == missing.message.replace("999999", str(log.id))
    # Listing: a volunteer's review queue is empty, the organiser's has the log.
    review = ActivityFilter()
    assert (await list_activities_for(neighbour, view="review", where=review)).items == []
    assert [a.id for a in (await list_activities_for(organiser, view="review", where=review)).items] == [log.id]


async def test_route_and_check_out_on_someone_elses_patrol_answer_as_for_a_missing_patrol(world: World) -> None:
    """The existence oracle of issue #8: "not yours" (422) told a prober the
    patrol existed. Now the answer is the missing patrol's, word for word."""
    walker = await load_principal(world.volunteers[0])
    stranger = await load_principal(world.volunteers[1])
    start = utc_now() - timedelta(minutes=40)
    patrol = await check_in_patrol(walker, PatrolCheckIn(position=HERE), now=start)
    point = [RoutePointIn(position=HERE, at=start + timedelta(minutes=5))]

    missing_route = await refused(ActivityNotFound, lambda: add_route_points(stranger, 999_999, point))
    missing_out = await refused(ActivityNotFound, lambda: check_out_patrol(stranger, 999_999, HERE))
    route = await refused(ActivityNotFound, lambda: add_route_points(stranger, patrol.id, point))
    out = await refused(ActivityNotFound, lambda: check_out_patrol(stranger, patrol.id, HERE))
    for theirs, nothing in ((route, missing_route), (out, missing_out)):
        assert (type(theirs), theirs.code, theirs.field) == (type(nothing), nothing.code, nothing.field)
        assert theirs.message == nothing.message.replace("999999", str(patrol.id))
    # A reviewer over the grid sees the patrol, but still may not walk it.
    organiser = await load_principal(world.organizer)
    await refused(ActivityNotFound, lambda: check_out_patrol(organiser, patrol.id, HERE))
    assert (await check_out_patrol(walker, patrol.id, HERE)).status == "submitted"


async def test_patrol_tasks_overdue_lists_and_photos_follow_the_policy(world: World) -> None:
    volunteer = await load_principal(world.volunteers[0])
    organiser = await load_principal(world.organizer)
    foreign = await load_principal(await _foreign_organiser(world))

    error = await refused(
        AccessRefused, lambda: create_patrol_task(volunteer, organisation_id=world.grid, title_zh="夜巡")
    )
    assert error.field == "organisation_id"
    await refused(AccessRefused, lambda: create_patrol_task(foreign, organisation_id=world.grid, title_zh="夜巡"))
    task = await create_patrol_task(organiser, organisation_id=world.grid, title_zh="夜巡")
    assert [view.task.id for view in await patrol_tasks_near(volunteer)] == [task.id]
    assert await patrol_tasks_near(foreign) == []

    await refused(OrganisationNotFound, lambda: list_overdue_for(volunteer, world.grid))
    await refused(OrganisationNotFound, lambda: list_overdue_for(foreign, world.community))
    assert (await list_overdue_for(organiser, world.grid)).items == []

    await register_photo(sha256="a" * 64, content_type="image/png", size_bytes=10, member_id=world.volunteers[0])
    await visible_photo(volunteer, "a" * 64)
    for who in (foreign, await load_principal(world.volunteers[1])):
        await refused(PhotoUnavailable, partial(visible_photo, who, "a" * 64))
    await refused(PhotoUnavailable, lambda: visible_photo(volunteer, "b" * 64))


async def test_ids_named_in_a_submission_cannot_be_probed(world: World) -> None:
    """A campaign, place or patrol task of another community named in a
    submission answers exactly as a missing one; only what the volunteer may
    see is refused with its reason."""
    await world.campaign(budget="10.00")
    volunteer = await load_principal(world.volunteers[0])
    foreign_organiser = await load_principal(await _foreign_organiser(world))
    elsewhere = foreign_organiser.home_organisation_id
    theirs = await create_campaign(
        foreign_organiser, organisation_id=elsewhere, title_zh="邻里活动", starts_at=utc_now(), rules=default_rules()
    )
    their_task = await create_patrol_task(foreign_organiser, organisation_id=elsewhere, title_zh="邻里夜巡")

    async def log(**fields: Any) -> Any:
        now = utc_now()
        return await log_service(
            volunteer,
            ServiceLogIn(title="x", started_at=now - timedelta(hours=2), ended_at=now - timedelta(hours=1), **fields),
        )

    missing = await refused(CampaignNotFound, lambda: log(campaign_id=999_999))
    found = await refused(CampaignNotFound, lambda: log(campaign_id=theirs.id))
    assert found.message == missing.message.replace("999999", str(theirs.id))

    missing = await refused(OrganisationNotFound, lambda: log(organisation_id=999_999))
    found = await refused(OrganisationNotFound, lambda: log(organisation_id=elsewhere))
    assert found.message == missing.message.replace("999999", str(elsewhere))
    # The city is the volunteer's own (above their home): the reason may be told.
    outside = await refused(InvalidActivity, lambda: log(organisation_id=world.city))
    assert outside.field == "organisation_id"

    check_in = PatrolCheckIn(position=HERE, patrol_task_id=999_999)
    missing = await refused(InvalidActivity, lambda: check_in_patrol(volunteer, check_in))
    check_in = PatrolCheckIn(position=HERE, patrol_task_id=their_task.id)
    found = await refused(InvalidActivity, lambda: check_in_patrol(volunteer, check_in))
    assert found.message == missing.message.replace("999999", str(their_task.id))
