"""The second set of fraud rules on the verify path (issue #12): a thin or
fake patrol is held, a later report of the same problem by someone else is
paid as a confirmation while the first reporter keeps the full points,
and a verifier approving one volunteer at an unusual share is held. The
ledger verifies after each."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from activities.models import ActivityView, Position, Status
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
from activities.verification import verify_activity
from campaigns.rules import ReportKind
from community.access import load_principal
from core.clock import utc_now
from fraud.decisions import decisions_for
from fraud.models import DEFAULT_THRESHOLDS, Outcome, Subject
from tests.support.earning_helpers import World
from tests.support.marketplace_helpers import assert_ledger_ok, wallet

LAT, LON = 35.1041, 118.3564
M_LAT = 1 / 111_195  # a metre north, in degrees
M_LON = M_LAT / math.cos(math.radians(LAT))


def _at(east_m: float, north_m: float, accuracy: float) -> Position:
    return Position(latitude=LAT + north_m * M_LAT, longitude=LON + east_m * M_LON, accuracy_m=accuracy)


async def _patrol(member_id: int, start: datetime, route: list[RoutePointIn], minutes: int = 60) -> ActivityView:
    principal = await load_principal(member_id)
    patrol = await check_in_patrol(principal, PatrolCheckIn(position=_at(0, 0, 9.0)), now=start)
    if route:
        await add_route_points(principal, patrol.id, route, now=start + timedelta(minutes=minutes))
    return await check_out_patrol(principal, patrol.id, _at(60, 40, 13.0), now=start + timedelta(minutes=minutes))


async def _rule(activity_id: int, rule: str) -> Mapping[str, Any]:
    decision = (await decisions_for(Subject.ACTIVITY, activity_id))[-1]
    return next(result for result in decision.results if result["rule"] == rule)


async def test_a_patrol_without_a_route_is_held_and_a_walked_one_is_paid(world: World) -> None:
    await world.campaign()
    start = utc_now() - timedelta(hours=3)
    bare = await _patrol(world.volunteers[0], start, [])
    # A real walk: a point every 5 minutes, wandering, accuracy varying.
    walk = [
        RoutePointIn(
            position=_at(n * 30 + (n * 7) % 11, n * 12 - (n * 5) % 9, 5.0 + (n * 3) % 14),
            at=start + timedelta(minutes=5 * n),
        )
        for n in range(1, 12)
    ]
    walked = await _patrol(world.volunteers[1], start, walk)
    verifier = await load_principal(world.grid_worker)

    held = await verify_activity(verifier, bare.id)
    paid = await verify_activity(verifier, walked.id)

    assert held.status == Status.HELD and paid.status == Status.VERIFIED
    thin = await _rule(bare.id, "thin_patrol")
    assert thin["hit"] and thin["evidence"]["signatures"] == ["too_few_points"]
    assert not (await _rule(walked.id, "thin_patrol"))["hit"]
    assert await wallet(world.volunteers[0]) == Decimal("0.00")
    assert await wallet(world.volunteers[1]) == Decimal("5.00")
    await assert_ledger_ok()


async def test_a_mock_location_route_with_one_accuracy_value_is_held(world: World) -> None:
    await world.campaign()
    start = utc_now() - timedelta(hours=3)
    principal = await load_principal(world.volunteers[0])
    patrol = await check_in_patrol(principal, PatrolCheckIn(position=_at(0, 0, 10.0)), now=start)
    route = [
        RoutePointIn(position=_at(n * 30 + (n * 7) % 11, n * 12, 10.0), at=start + timedelta(minutes=5 * n))
        for n in range(1, 12)
    ]
    await add_route_points(principal, patrol.id, route, now=start + timedelta(minutes=60))
    done = await check_out_patrol(principal, patrol.id, _at(350, 140, 10.0), now=start + timedelta(minutes=60))

    held = await verify_activity(await load_principal(world.grid_worker), done.id)

    assert held.status == Status.HELD
    thin = await _rule(done.id, "thin_patrol")
    assert thin["evidence"]["signatures"] == ["repeated_accuracy"]


async def _report(member_id: int, east_m: float, minutes_ago: int, kind: ReportKind = ReportKind.HAZARD) -> int:
    now = utc_now()
    report = await submit_report(
        await load_principal(member_id),
        ReportIn(
            report_kind=kind,
            title="消防通道被占用",
            position=_at(east_m, 0, 15.0),
            occurred_at=now - timedelta(minutes=minutes_ago),
        ),
        now=now,
    )
    return report.id


async def test_a_later_report_of_the_same_problem_is_a_confirmation_and_the_first_keeps_full_credit(
    world: World,
) -> None:
    """A hazard is 3.00 points; a confirmation earns 30 % of it: 0.90."""
    await world.campaign()
    first_member, second_member = world.volunteers[0], world.volunteers[1]
    first = await _report(first_member, 0, 40)
    later = await _report(second_member, 35, 25)  # 35 m away, 15 minutes later
    other_kind = await _report(world.volunteers[2], 20, 20, ReportKind.TIP)
    verifier = await load_principal(world.grid_worker)

    # Verified in the other order: who came first is decided by when, not by verification.
    confirmed = await verify_activity(verifier, later)
    original = await verify_activity(verifier, first)
    tip = await verify_activity(verifier, other_kind)

    assert confirmed.status == Status.VERIFIED and confirmed.points_awarded == Decimal("0.90")
    assert confirmed.points_computed == Decimal("0.90") and not confirmed.capped
    assert original.points_awarded == Decimal("3.00") and tip.points_awarded == Decimal("2.00")
    assert await wallet(first_member) == Decimal("3.00")
    assert await wallet(second_member) == Decimal("0.90")
    duplicate = await _rule(later, "duplicate_report")
    assert duplicate["hit"] and duplicate["score"] == 0
    assert duplicate["evidence"]["first_activity_id"] == first
    assert not (await _rule(first, "duplicate_report"))["hit"]
    assert (await decisions_for(Subject.ACTIVITY, later))[0].outcome is Outcome.ALLOW
    await assert_ledger_ok()


async def test_a_report_far_away_or_long_after_is_paid_in_full(world: World) -> None:
    await world.campaign()
    await _report(world.volunteers[0], 0, 200)
    far = await _report(world.volunteers[1], DEFAULT_THRESHOLDS.duplicate_radius_m + 80, 190)
    late = await _report(world.volunteers[2], 10, 200 - DEFAULT_THRESHOLDS.duplicate_minutes - 5)
    verifier = await load_principal(world.grid_worker)
    assert (await verify_activity(verifier, far)).points_awarded == Decimal("3.00")
    assert (await verify_activity(verifier, late)).points_awarded == Decimal("3.00")


async def _logs(member_id: int, days: range, now: datetime, organisation_id: int | None = None) -> list[int]:
    """One hour of service on each of ``days`` days ago."""
    made = []
    for day in days:
        start = now - timedelta(days=day, hours=3)
        log = await log_service(
            await load_principal(member_id),
            ServiceLogIn(
                title=f"帮忙{day}",
                started_at=start,
                ended_at=start + timedelta(hours=1),
                organisation_id=organisation_id,
            ),
            now=now,
        )
        made.append(log.id)
    return made


async def test_a_verifier_approving_one_volunteer_at_an_unusual_share_is_held(world: World) -> None:
    """The building head approves only volunteer 0: from the eighth
    approval (over at least five days) the award is held. The grid worker
    approves volunteer 1 as often, but also the rest of the grid: no hit."""
    await world.campaign()
    now = utc_now()
    minimum = DEFAULT_THRESHOLDS.concentration_min
    # In the building, where the building head holds a post.
    favoured = await _logs(world.volunteers[0], range(1, minimum + 1), now, world.building)
    ordinary = await _logs(world.volunteers[1], range(1, minimum + 1), now)
    others = await _logs(world.volunteers[2], range(1, minimum + 3), now)
    head, worker = await load_principal(world.building_head), await load_principal(world.grid_worker)

    statuses = [(await verify_activity(head, log)).status for log in favoured]
    for log in others:
        await verify_activity(worker, log)
    ordinary_statuses = [(await verify_activity(worker, log)).status for log in ordinary]

    assert statuses == [Status.VERIFIED] * (minimum - 1) + [Status.HELD]
    concentration = await _rule(favoured[-1], "verifier_concentration")
    assert concentration["hit"] and concentration["evidence"]["pair_approvals"] == minimum
    assert ordinary_statuses == [Status.VERIFIED] * minimum
    assert not (await _rule(ordinary[-1], "verifier_concentration"))["hit"]
    assert await wallet(world.volunteers[0]) == Decimal("2.00") * (minimum - 1)
    await assert_ledger_ok()


async def _report_with_photo(member_id: int, sha256: str, phash: str, east_m: float) -> int:
    """A report whose photo has the given perceptual hash (as an upload
    computes it), a kilometre apart from the others unless placed nearby."""
    now = utc_now()
    await register_photo(sha256=sha256, content_type="image/jpeg", size_bytes=2048, member_id=member_id, phash=phash)
    report = await submit_report(
        await load_principal(member_id),
        ReportIn(
            report_kind=ReportKind.HAZARD,
            title="井盖缺失",
            position=_at(east_m, 0, 15.0),
            occurred_at=now - timedelta(minutes=5),
            photos=[sha256],
        ),
        now=now,
    )
    return report.id


async def test_a_near_copy_of_an_earlier_reports_photo_is_found_through_the_band_index(world: World) -> None:
    """The screening looks up only photos stored under a band key near the
    new photo's: a copy six bits away, two in one band, is still found, a
    different photo is not, and the evidence names the earlier report."""
    await world.campaign()
    verifier = await load_principal(world.grid_worker)
    original = 0x9F3A_61C4_0E5B_D278
    near = original
    for bit in (1, 9, 20, 33, 47, 60):  # six bits: two in each of two bands, one in each of the other two
        near ^= 1 << bit
    unrelated = original ^ 0xFFFF_FFFF_FFFF_FFFF
    first = await _report_with_photo(world.volunteers[0], "a" * 64, f"{original:016x}", east_m=0)
    other = await _report_with_photo(world.volunteers[1], "b" * 64, f"{unrelated:016x}", east_m=3000)
    await verify_activity(verifier, first)
    await verify_activity(verifier, other)
    copy = await _report_with_photo(world.volunteers[2], "c" * 64, f"{near:016x}", east_m=6000)

    held = await verify_activity(verifier, copy)

    assert not (await _rule(first, "near_duplicate_photo"))["hit"]
    assert not (await _rule(other, "near_duplicate_photo"))["hit"]
    found = await _rule(copy, "near_duplicate_photo")
    assert found["hit"] and held.status == Status.HELD
    assert found["evidence"]["matching_activity_id"] == first
    assert found["evidence"]["distance_bits"] == 6
    await assert_ledger_ok()
