"""The pure rules of grab-order patrol tasks (activities/claim_rules.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from activities.claim_rules import (
    GrabOrder,
    check_check_in,
    check_claimable,
    check_grab_order,
    check_in_open,
    check_releasable,
    is_no_show,
    multiplied,
    releasable,
)
from activities.errors import ClaimRefused, InvalidActivity
from activities.models import ClaimStatus, PatrolTaskRecord

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def task(
    *, starts_in: timedelta = timedelta(hours=2), hours: int = 3, slots: int | None = 3, active: bool = True
) -> PatrolTaskRecord:
    start = NOW + starts_in
    return PatrolTaskRecord(
        id=7,
        organisation_id=3,
        title_zh="夜巡",
        title_en="",
        description="",
        active=active,
        created_at=NOW - timedelta(days=1),
        starts_at=start if slots is not None else None,
        ends_at=start + timedelta(hours=hours) if slots is not None else None,
        slots=slots,
        slots_taken=0,
    )


def order(**changes: object) -> GrabOrder:
    values: dict[str, object] = {
        "starts_at": NOW + timedelta(hours=1),
        "ends_at": NOW + timedelta(hours=4),
        "slots": 5,
        "multiplier": Decimal("1.50"),
    }
    values.update(changes)
    return GrabOrder(**values)  # type: ignore[arg-type]


def test_a_well_formed_grab_order_gives_its_multiplier_in_hundredths() -> None:
    assert check_grab_order(order(), now=NOW) == 150
    assert check_grab_order(order(multiplier=Decimal("1")), now=NOW) == 100


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"slots": 0}, "slots"),
        ({"slots": 501}, "slots"),
        ({"ends_at": NOW + timedelta(minutes=30)}, "ends_at"),  # before it starts
        ({"ends_at": NOW + timedelta(hours=26)}, "ends_at"),  # longer than a day
        ({"starts_at": NOW - timedelta(hours=3), "ends_at": NOW - timedelta(hours=1)}, "ends_at"),  # over
        ({"starts_at": NOW + timedelta(days=61), "ends_at": NOW + timedelta(days=61, hours=1)}, "starts_at"),
        ({"multiplier": Decimal("1.005")}, "points_multiplier"),
        ({"multiplier": Decimal("0.50")}, "points_multiplier"),
        ({"multiplier": Decimal("6.00")}, "points_multiplier"),
        ({"multiplier": Decimal("NaN")}, "points_multiplier"),
    ],
)
def test_a_malformed_grab_order_is_refused_naming_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidActivity) as refused:
        check_grab_order(order(**changes), now=NOW)
    assert refused.value.field == field


def test_a_task_without_slots_is_not_claimed_but_simply_checked_in() -> None:
    with pytest.raises(ClaimRefused) as refused:
        check_claimable(task(slots=None), has_live_claim=False, now=NOW)
    assert refused.value.code == "task_not_grab_order"


@pytest.mark.parametrize(
    ("open_task", "has_claim", "code"),
    [
        (task(active=False), False, "task_closed"),
        (task(starts_in=timedelta(hours=-4), hours=3), False, "task_closed"),
        (task(), True, "task_already_claimed"),
    ],
)
def test_what_no_free_slot_could_make_right_is_refused(open_task: PatrolTaskRecord, has_claim: bool, code: str) -> None:
    with pytest.raises(ClaimRefused) as refused:
        check_claimable(open_task, has_live_claim=has_claim, now=NOW)
    assert refused.value.code == code


def test_an_open_task_may_be_claimed_even_after_its_window_started() -> None:
    check_claimable(task(starts_in=timedelta(hours=-1)), has_live_claim=False, now=NOW)


def test_a_claim_is_given_back_only_before_the_window_and_only_while_merely_claimed() -> None:
    check_releasable(task(), ClaimStatus.CLAIMED, now=NOW)
    for status in (ClaimStatus.CHECKED_IN, ClaimStatus.RELEASED, ClaimStatus.NO_SHOW):
        with pytest.raises(ClaimRefused):
            check_releasable(task(), status, now=NOW)
    with pytest.raises(ClaimRefused) as started:
        check_releasable(task(starts_in=timedelta(0)), ClaimStatus.CLAIMED, now=NOW)
    assert started.value.code == "claim_not_releasable"


def test_check_in_needs_the_claim_and_the_window_with_half_an_hour_early_allowed() -> None:
    check_check_in(task(starts_in=timedelta(minutes=30)), ClaimStatus.CLAIMED, now=NOW)
    for status, opens_in, code in (
        (None, timedelta(0), "task_not_claimed"),
        (ClaimStatus.RELEASED, timedelta(0), "task_not_claimed"),
        (ClaimStatus.CLAIMED, timedelta(minutes=31), "task_not_started"),
        (ClaimStatus.CLAIMED, timedelta(hours=-3), "task_closed"),
    ):
        with pytest.raises(ClaimRefused) as refused:
            check_check_in(task(starts_in=opens_in), status, now=NOW)
        assert refused.value.code == code


@pytest.mark.parametrize(
    ("status", "starts_in"),
    [
        (ClaimStatus.CLAIMED, timedelta(hours=2)),
        (ClaimStatus.CLAIMED, timedelta(0)),
        (ClaimStatus.CHECKED_IN, timedelta(hours=2)),
        (ClaimStatus.RELEASED, timedelta(hours=2)),
        (None, timedelta(hours=2)),
    ],
)
def test_the_phone_offers_a_release_exactly_when_the_rule_allows_one(
    status: ClaimStatus | None, starts_in: timedelta
) -> None:
    allowed = status is not None
    if status is not None:
        try:
            check_releasable(task(starts_in=starts_in), status, now=NOW)
        except ClaimRefused:
            allowed = False
    assert releasable(task(starts_in=starts_in), status, now=NOW) is allowed


@pytest.mark.parametrize(
    ("starts_in", "hours", "open_now"),
    [
        (timedelta(minutes=31), 3, False),
        (timedelta(minutes=30), 3, True),
        (timedelta(hours=-1), 3, True),
        (timedelta(hours=-3), 3, False),
    ],
)
def test_the_check_in_opens_half_an_hour_early_and_closes_with_the_window(
    starts_in: timedelta, hours: int, open_now: bool
) -> None:
    assert check_in_open(task(starts_in=starts_in, hours=hours), now=NOW) is open_now
    if open_now:
        check_check_in(task(starts_in=starts_in, hours=hours), ClaimStatus.CLAIMED, now=NOW)


def test_a_withdrawn_task_or_one_without_slots_never_opens_a_check_in() -> None:
    assert not check_in_open(task(starts_in=timedelta(0), active=False), now=NOW)
    assert not check_in_open(task(slots=None), now=NOW)


def test_a_no_show_is_a_claim_unused_when_the_window_ended() -> None:
    ended = NOW - timedelta(minutes=1)
    assert is_no_show(ended, ClaimStatus.CLAIMED, now=NOW)
    assert not is_no_show(ended, ClaimStatus.CHECKED_IN, now=NOW)
    assert not is_no_show(NOW + timedelta(minutes=1), ClaimStatus.CLAIMED, now=NOW)
    assert not is_no_show(None, ClaimStatus.CLAIMED, now=NOW)


@pytest.mark.parametrize(
    ("points", "pct", "expected"),
    [
        ("5.00", 100, "5.00"),
        ("5.00", 150, "7.50"),
        ("3.33", 125, "4.16"),
        ("0.01", 250, "0.02"),
        ("5.00", 500, "25.00"),
    ],
)
def test_the_multiplier_scales_an_award_rounding_once_half_to_even(points: str, pct: int, expected: str) -> None:
    result = multiplied(Decimal(points), pct)
    assert result == Decimal(expected) and result.as_tuple().exponent == -2
