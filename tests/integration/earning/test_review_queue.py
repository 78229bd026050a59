"""Working the review queue (issue #12): sorted by score and deadline,
filtered by rule, grid and campaign; "take next" locks the best free case
(two reviewers at once: different cases, or one gets none); per-rule
statistics from the labels."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta
from decimal import Decimal

from community.access import load_principal
from community.members import grant_role
from community.roles import Role
from core.clock import utc_now
from fraud.cases import QueueFilter, QueueSort, close_case, get_case, open_case, open_cases_for, take_next_case
from fraud.decisions import record_decision
from fraud.models import DEFAULT_THRESHOLDS, CaseStatus, Label, Outcome, RuleResult, Subject, Verdict
from fraud.statistics import statistics_for
from tests.support.earning_helpers import World
from tests.support.marketplace_helpers import fast_member

_subjects = itertools.count(1000)


async def _case(
    world: World,
    *,
    score: int,
    rules: tuple[str, ...],
    due_in_hours: int,
    organisation: int | None = None,
    campaign: int | None = None,
    member: int | None = None,
) -> int:
    """A held case as the verify step opens one (decision, then case)."""
    now = utc_now()
    results = tuple(RuleResult(rule, True, score // len(rules), "理由", "why") for rule in rules)
    verdict = Verdict(Outcome.REVIEW, score, results, "test", DEFAULT_THRESHOLDS)
    subject_id = next(_subjects)
    member_id = member or world.volunteers[0]
    decision_id = await record_decision(
        verdict,
        subject=Subject.ACTIVITY,
        subject_id=subject_id,
        member_id=member_id,
        issuer_id=world.community,
        now=now,
    )
    return await open_case(
        decision_id=decision_id,
        subject=Subject.ACTIVITY,
        subject_id=subject_id,
        member_id=member_id,
        verifier_id=world.grid_worker,
        organisation_id=organisation or world.grid,
        hold_id=0,
        amount=Decimal("60.00"),
        reason_zh=verdict.reason_zh(),
        reason_en=verdict.reason_en(),
        due_at=now + timedelta(hours=due_in_hours),
        now=now,
        score=score,
        rules=verdict.hit_rules(),
        campaign_id=campaign,
    )


async def _ids(world: World, chosen: QueueFilter | None = None) -> list[int]:
    return [case.id for case in await open_cases_for(await load_principal(world.organizer), chosen=chosen)]


async def test_the_queue_is_sorted_by_score_then_deadline_and_filtered(world: World) -> None:
    low_soon = await _case(world, score=50, rules=("burst",), due_in_hours=1, campaign=7)
    high_late = await _case(world, score=110, rules=("burst", "cooling_off"), due_in_hours=48)
    high_soon = await _case(world, score=110, rules=("impossible_travel",), due_in_hours=5)
    elsewhere = await _case(world, score=60, rules=("thin_patrol",), due_in_hours=2, organisation=world.other_grid)
    assert await _ids(world) == [high_soon, high_late, elsewhere, low_soon]
    assert await _ids(world, QueueFilter(sort=QueueSort.DEADLINE)) == [low_soon, elsewhere, high_soon, high_late]
    assert await _ids(world, QueueFilter(rule="burst")) == [high_late, low_soon]
    assert await _ids(world, QueueFilter(organisation_id=world.other_grid)) == [elsewhere]
    assert await _ids(world, QueueFilter(campaign_id=7)) == [low_soon]
    # The verifier never sees the cases they verified.
    assert await open_cases_for(await load_principal(world.grid_worker)) == []


async def test_take_next_locks_the_best_free_case_then_the_next_then_none(world: World) -> None:
    low = await _case(world, score=50, rules=("burst",), due_in_hours=1)
    high = await _case(world, score=110, rules=("burst", "cooling_off"), due_in_hours=48)
    reviewer = await load_principal(world.organizer)
    first = await take_next_case(reviewer)
    assert first is not None and first.id == high and first.taken_by == world.organizer
    second = await take_next_case(reviewer)
    assert second is not None and second.id == low
    assert await take_next_case(reviewer) is None
    # A lock that ran out frees the case again.
    later = utc_now() + timedelta(hours=1)
    again = await take_next_case(reviewer, now=later)
    assert again is not None and again.id == high


async def _second_organiser(world: World) -> int:
    second = await fast_member(world.community, "第二组织者")
    await grant_role(second, world.community, Role.ORGANIZER)
    return second


async def test_two_reviewers_taking_next_at_once_get_different_cases(world: World) -> None:
    cases = {await _case(world, score=50 + n, rules=("burst",), due_in_hours=1) for n in range(2)}
    second = await _second_organiser(world)
    both = await asyncio.gather(
        take_next_case(await load_principal(world.organizer)), take_next_case(await load_principal(second))
    )
    assert all(case is not None for case in both)
    assert {case.id for case in both if case is not None} == cases
    assert {case.taken_by for case in both if case is not None} == {world.organizer, second}


async def test_two_reviewers_taking_next_of_one_case_one_gets_none(world: World) -> None:
    only = await _case(world, score=50, rules=("burst",), due_in_hours=1)
    second = await _second_organiser(world)
    both = await asyncio.gather(
        take_next_case(await load_principal(world.organizer)), take_next_case(await load_principal(second))
    )
    taken = [case for case in both if case is not None]
    assert len(taken) == 1 and taken[0].id == only
    assert (await get_case(only)).taken_by == taken[0].taken_by


async def test_statistics_count_hits_precision_from_labels_and_the_median_time_to_decide(world: World) -> None:
    reviewer = await load_principal(world.organizer)
    labelled = [
        (await _case(world, score=50, rules=("burst",), due_in_hours=1), Label.FRAUD, 30),
        (await _case(world, score=50, rules=("burst",), due_in_hours=1), Label.FRAUD, 60),
        (await _case(world, score=50, rules=("burst",), due_in_hours=1), Label.LEGITIMATE, 90),
        (await _case(world, score=110, rules=("burst", "cooling_off"), due_in_hours=1), Label.UNCLEAR, 600),
    ]
    await _case(world, score=50, rules=("thin_patrol",), due_in_hours=1)  # open: a hit, no label yet
    for case_id, label, minutes in labelled:
        case = await get_case(case_id)
        await close_case(
            case,
            status=CaseStatus.REJECTED if label is Label.FRAUD else CaseStatus.APPROVED,
            reviewer_id=world.organizer,
            label=label,
            note="看过",
            now=case.created_at + timedelta(minutes=minutes),
        )
    rows = {row.rule: row for row in await statistics_for(reviewer)}
    burst = rows["burst"]
    assert (burst.hits, burst.labelled_fraud, burst.labelled_legitimate, burst.labelled_unclear) == (4, 2, 1, 1)
    assert burst.precision == Decimal("0.667")
    assert burst.median_minutes_to_decide == Decimal("75.0")
    assert rows["thin_patrol"].hits == 1 and rows["thin_patrol"].precision is None
    assert rows["cooling_off"].hits == 1 and rows["cooling_off"].precision is None
    assert rows["impossible_travel"].hits == 0
    # A volunteer manages nothing: every count is zero.
    nobody = await statistics_for(await load_principal(world.volunteers[1]))
    assert {row.rule for row in nobody} == set(rows) and all(row.hits == 0 for row in nobody)
