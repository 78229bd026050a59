"""Reports through the closed loop (闭环), patrols from check-in to check-out."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from activities.errors import (
    ActivityNotFound,
    ActivityOverlap,
    InvalidActivity,
    NotResponsible,
    PhotoNotFound,
    SelfVerificationRefused,
)
from activities.models import Position, Status
from activities.photos import register_photo
from activities.submissions import (
    PatrolCheckIn,
    ReportIn,
    RoutePointIn,
    ServiceLogIn,
    add_route_points,
    check_in_patrol,
    check_out_patrol,
    log_service,
    submit_report,
)
from activities.verification import (
    HandleIn,
    RateIn,
    VerifyIn,
    assign_report,
    handle_report,
    rate_report,
    reject_activity,
    verify_activity,
)
from campaigns.rules import ReportKind
from community.access import load_principal
from core.clock import utc_now
from ledger.posting import load_entry
from tests.support.earning_helpers import World, default_rules, service
from tests.support.marketplace_helpers import assert_ledger_ok, wallet

HERE = Position(latitude=35.05, longitude=118.34, accuracy_m=8.0)


def report_in(**fields: object) -> ReportIn:
    values: dict[str, object] = {
        "report_kind": ReportKind.HAZARD,
        "title": "楼道堆放杂物",
        "description": "3 单元楼道堆满纸箱，堵住消防通道",
        "position": HERE,
    }
    values.update(fields)
    return ReportIn.model_validate(values)


async def test_a_report_goes_round_the_closed_loop_and_earns_its_bonus(world: World) -> None:
    await world.campaign(budget="100.00")
    reporter = world.volunteers[0]
    photo = await register_photo(sha256="a" * 64, content_type="image/jpeg", size_bytes=1234, member_id=reporter)
    report = await submit_report(await load_principal(reporter), report_in(photos=[photo]))
    assert report.status == Status.SUBMITTED and report.photos == ["a" * 64]
    assert report.due_at is not None

    verified = await verify_activity(await load_principal(world.grid_worker), report.id, data=VerifyIn(complex=True))
    assert verified.points_awarded == Decimal("3.00") and verified.complex
    assert verified.due_at is not None and verified.due_at > report.due_at

    with pytest.raises(SelfVerificationRefused):
        await assign_report(await load_principal(world.grid_worker), report.id, handler_id=reporter)
    with pytest.raises(NotResponsible):
        await assign_report(await load_principal(world.grid_worker), report.id, handler_id=world.volunteers[1])
    assigned = await assign_report(await load_principal(world.grid_worker), report.id, handler_id=world.organizer)
    assert assigned.status == Status.ASSIGNED and assigned.handler_id == world.organizer

    with pytest.raises(NotResponsible):  # assigned to someone else
        await handle_report(
            await load_principal(world.grid_worker), report.id, data=HandleIn(useful=True, feedback="已清理")
        )
    handled = await handle_report(
        await load_principal(world.organizer), report.id, data=HandleIn(useful=True, feedback="已联系物业清理完毕")
    )
    assert handled.status == Status.HANDLED and handled.useful and handled.due_at is None
    assert handled.bonus == Decimal("4.00")
    bonus_entry = await load_entry(handled.bonus_entry_id or 0)
    assert bonus_entry.idempotency_key == f"activity:{report.id}:bonus"
    assert bonus_entry.metadata["approver_member_id"] == world.organizer
    assert await wallet(reporter) == Decimal("7.00")

    with pytest.raises(ActivityNotFound):  # someone else's report: not even visible to them
        await rate_report(await load_principal(world.volunteers[1]), report.id, data=RateIn(rating=5))
    with pytest.raises(NotResponsible):  # visible to the grid worker, but only the reporter rates
        await rate_report(await load_principal(world.grid_worker), report.id, data=RateIn(rating=5))
    closed = await rate_report(await load_principal(reporter), report.id, data=RateIn(rating=5, comment="处理很快"))
    assert closed.status == Status.CLOSED and closed.rating == 5
    # A queued rating sent again (or a second one) answers the report as it
    # stands: the first rating holds.
    again = await rate_report(await load_principal(reporter), report.id, data=RateIn(rating=1))
    assert again.replayed and again.rating == 5 and again.status == Status.CLOSED
    await assert_ledger_ok()


async def test_rejecting_a_handled_report_reverses_award_and_bonus(world: World) -> None:
    await world.campaign(budget="100.00")
    reporter = world.volunteers[0]
    report = await submit_report(await load_principal(reporter), report_in())
    await verify_activity(await load_principal(world.grid_worker), report.id)
    await handle_report(
        await load_principal(world.grid_worker), report.id, data=HandleIn(useful=True, feedback="已处理")
    )
    assert await wallet(reporter) == Decimal("7.00")
    rejected = await reject_activity(await load_principal(world.organizer), report.id, reason="经核实为虚假上报")
    assert rejected.award_reversal_entry_id is not None and rejected.bonus_reversal_entry_id is not None
    assert await wallet(reporter) == Decimal("0.00")
    await assert_ledger_ok()


async def test_a_report_not_useful_earns_no_bonus(world: World) -> None:
    await world.campaign(budget="100.00")
    report = await submit_report(await load_principal(world.volunteers[0]), report_in(report_kind=ReportKind.SNAP))
    await verify_activity(await load_principal(world.grid_worker), report.id)
    handled = await handle_report(
        await load_principal(world.grid_worker), report.id, data=HandleIn(useful=False, feedback="已知悉")
    )
    assert handled.bonus == Decimal("0.00") and handled.bonus_entry_id is None
    assert await wallet(world.volunteers[0]) == Decimal("1.00")


async def test_a_photo_must_be_uploaded_and_not_be_someone_elses_report(world: World) -> None:
    with pytest.raises(PhotoNotFound):
        await submit_report(await load_principal(world.volunteers[0]), report_in(photos=["b" * 64]))
    await register_photo(sha256="c" * 64, content_type="image/png", size_bytes=10, member_id=world.volunteers[0])
    await submit_report(await load_principal(world.volunteers[0]), report_in(photos=["c" * 64]))
    with pytest.raises(InvalidActivity, match="someone else"):
        await submit_report(await load_principal(world.volunteers[1]), report_in(photos=["c" * 64]))


async def test_a_retried_submission_with_the_same_client_ref_is_one_report(world: World) -> None:
    first = await submit_report(await load_principal(world.volunteers[0]), report_in(client_ref="phone-42"))
    again = await submit_report(await load_principal(world.volunteers[0]), report_in(client_ref="phone-42"))
    assert again.id == first.id and again.replayed
    now = utc_now()
    with pytest.raises(InvalidActivity):
        await log_service(
            await load_principal(world.volunteers[0]),
            ServiceLogIn(
                title="x", started_at=now - timedelta(hours=2), ended_at=now - timedelta(hours=1), client_ref="phone-42"
            ),
        )


async def test_a_patrol_is_timed_by_the_server_and_needs_its_minimum_to_earn(world: World) -> None:
    await world.campaign(budget="100.00")
    walker, stroller = world.volunteers[0], world.volunteers[1]
    start = utc_now() - timedelta(hours=2)
    patrol = await check_in_patrol(await load_principal(walker), PatrolCheckIn(position=HERE), now=start)
    assert patrol.status == Status.CHECKED_IN and patrol.due_at is None
    with pytest.raises(ActivityOverlap):
        await check_in_patrol(
            await load_principal(walker), PatrolCheckIn(position=HERE), now=start + timedelta(minutes=5)
        )
    await add_route_points(
        await load_principal(walker),
        patrol.id,
        [RoutePointIn(position=HERE, at=start + timedelta(minutes=m)) for m in (10, 20, 30)],
        now=start + timedelta(minutes=31),
    )
    with pytest.raises(ActivityNotFound):  # someone else's patrol answers as a missing one
        await add_route_points(
            await load_principal(stroller), patrol.id, [RoutePointIn(position=HERE, at=start)], now=start
        )
    done = await check_out_patrol(await load_principal(walker), patrol.id, HERE, now=start + timedelta(minutes=45))
    assert done.status == Status.SUBMITTED and done.minutes == 45
    assert [p.kind for p in done.route or []] == ["check_in", "route", "route", "route", "check_out"]

    short = await check_in_patrol(await load_principal(stroller), PatrolCheckIn(position=HERE), now=start)
    short = await check_out_patrol(await load_principal(stroller), short.id, HERE, now=start + timedelta(minutes=10))

    assert (await verify_activity(await load_principal(world.grid_worker), done.id)).points_awarded == Decimal("5.00")
    too_short = await verify_activity(await load_principal(world.grid_worker), short.id)
    assert too_short.status == Status.VERIFIED and too_short.points_awarded == Decimal("0.00")
    # A check-out sent again (the phone never heard the answer) changes nothing.
    again = await check_out_patrol(await load_principal(walker), done.id, HERE)
    assert again.replayed and again.minutes == 45 and again.status == Status.VERIFIED
    assert [p.kind for p in again.route or []] == ["check_in", "route", "route", "route", "check_out"]


async def test_positions_out_of_range_are_refused(world: World) -> None:
    with pytest.raises(InvalidActivity) as refused:
        await check_in_patrol(
            await load_principal(world.volunteers[0]), PatrolCheckIn(position=Position(latitude=91, longitude=0))
        )
    assert refused.value.field == "position.latitude"


async def test_service_rate_follows_the_team_kind(world: World) -> None:
    from community.teams import TeamKind, add_team_member, create_team

    await world.campaign(budget="100.00", rules=default_rules())
    team = await create_team(
        organisation_id=world.grid, name_zh="第一网格巡逻队", kind=TeamKind.PATROL, actor_ref="test"
    )
    await add_team_member(team.id, world.volunteers[0], actor_ref="test")
    now = utc_now()
    log = await log_service(
        await load_principal(world.volunteers[0]),
        ServiceLogIn(
            title="夜巡", started_at=now - timedelta(hours=3), ended_at=now - timedelta(hours=1), team_id=team.id
        ),
    )
    assert (await verify_activity(await load_principal(world.grid_worker), log.id)).points_awarded == Decimal("6.00")
    with pytest.raises(InvalidActivity):  # not in that team
        await log_service(
            await load_principal(world.volunteers[1]),
            ServiceLogIn(
                title="夜巡", started_at=now - timedelta(hours=3), ended_at=now - timedelta(hours=1), team_id=team.id
            ),
        )


async def test_each_awards_statement_line_names_the_kind_of_work_it_pays_for(world: World) -> None:
    """A patrol's line says 巡逻积分, a report's 随手报积分, a service log's
    志愿服务积分 (not 志愿服务积分 for everything), in both languages."""
    await world.campaign(budget="100.00")
    volunteer = world.volunteers[0]
    verifier = await load_principal(world.grid_worker)
    start = utc_now() - timedelta(hours=2)
    patrol = await check_in_patrol(await load_principal(volunteer), PatrolCheckIn(position=HERE), now=start)
    await add_route_points(
        await load_principal(volunteer),
        patrol.id,
        [RoutePointIn(position=HERE, at=start + timedelta(minutes=m)) for m in (10, 20, 30)],
        now=start + timedelta(minutes=31),
    )
    patrol = await check_out_patrol(await load_principal(volunteer), patrol.id, HERE, now=start + timedelta(minutes=45))
    report = await submit_report(await load_principal(volunteer), report_in())
    logged = await service(volunteer, minutes=60, ago=timedelta(hours=4))
    reasons = []
    for activity in (patrol, report, logged):
        entry = await load_entry((await verify_activity(verifier, activity.id)).award_entry_id or 0)
        reasons.append((entry.reason_zh, entry.reason_en))
    assert reasons == [
        (f"巡逻积分：{patrol.title}", f"Patrol points: {patrol.title}"),
        (f"随手报积分：{report.title}", f"Report points: {report.title}"),
        (f"志愿服务积分：{logged.title}", f"Service points: {logged.title}"),
    ]
