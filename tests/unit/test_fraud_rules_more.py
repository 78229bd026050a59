"""fraud/rules, the second set: thin or fake patrols, duplicate reports
(confirmations), verifier–volunteer concentration and cashing out, each
with its planted case, an honest neighbour and the edge; and the registry
that decides which rules judge awards and which judge orders. No database."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from activities.earning import Earned, Work, owed
from activities.models import Kind
from campaigns.rules import EarningRules, ReportKind
from fraud.models import (
    DEFAULT_THRESHOLDS,
    AwardFact,
    Fix,
    Funding,
    HistoryNeeded,
    OrderFacts,
    Outcome,
    PatrolFacts,
    PriorReport,
    ReportFacts,
    ScreeningContext,
    ShopRedemption,
    Subject,
    VerifierFacts,
)
from fraud.rules import (
    RULES_BY_SUBJECT,
    all_rules,
    cashing_out,
    confirmation_pct_of,
    decide,
    duplicate_report,
    main_funders,
    rules_for,
    thin_patrol,
    verifier_approvals_worth_counting,
    verifier_concentration,
)
from fraud.thresholds import apply_overrides

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
T = DEFAULT_THRESHOLDS
LAT, LON = 35.1041, 118.3564
M_LAT = 1 / 111_195  # one metre north in degrees
M_LON = M_LAT / math.cos(math.radians(LAT))  # one metre east


def context(**fields: Any) -> ScreeningContext:
    base = ScreeningContext(
        subject=Subject.ACTIVITY,
        subject_id=10,
        member_id=4,
        member_joined_at=NOW - timedelta(days=400),
        amount=Decimal("5.00"),
        moment=NOW,
        verifier_id=7,
    )
    return replace(base, **fields)


def at(east_m: float, north_m: float, minute: float, accuracy: float | None = 8.0) -> Fix:
    return Fix(LAT + north_m * M_LAT, LON + east_m * M_LON, accuracy, NOW + timedelta(minutes=minute), "route", True)


def walk(points: int, minutes: int, *, seed: int = 1) -> tuple[Fix, ...]:
    """An honest phone: a wandering street walk, GPS noise, varying accuracy."""
    rng = random.Random(seed)
    east = north = 0.0
    fixes = []
    for n in range(points):
        east += rng.uniform(-5, 40)
        north += rng.uniform(-10, 30)
        fixes.append(
            at(
                east + rng.gauss(0, 4),
                north + rng.gauss(0, 4),
                n * minutes / max(1, points - 1),
                round(rng.uniform(4, 25), 1),
            )
        )
    return tuple(fixes)


def patrol(route: tuple[Fix, ...], minutes: int = 60) -> ScreeningContext:
    return context(patrol=PatrolFacts(minutes=minutes, route=route), positions=route)


# Thin or fake patrols --------------------------------------------------------


def test_an_honest_patrol_walk_is_not_thin() -> None:
    result = thin_patrol(patrol(walk(13, 60)), T)
    assert not result.hit and result.evidence["points"] == 13


def test_a_long_patrol_with_two_points_is_thin() -> None:
    result = thin_patrol(patrol((at(0, 0, 0, 9.0), at(300, 200, 90, 14.0)), minutes=90), T)
    assert result.hit and result.evidence["signatures"] == ["too_few_points"]
    assert result.evidence["points_expected"] == 9
    assert "轨迹点过少" in result.reason_zh and "too few" in result.reason_en


def test_points_on_a_perfect_line_are_fake() -> None:
    line = tuple(at(n * 25.0, n * 10.0, n * 5, 5.0 + n) for n in range(13))
    result = thin_patrol(patrol(line), T)
    assert result.hit and "straight_line" in result.evidence["signatures"]


def test_a_straight_street_walked_with_gps_noise_is_not_a_line() -> None:
    rng = random.Random(5)
    street = tuple(at(n * 25.0 + rng.gauss(0, 4), rng.gauss(0, 4), n * 5, 5.0 + n) for n in range(13))
    assert not thin_patrol(patrol(street), T).hit


def test_equal_axis_aligned_steps_are_a_grid() -> None:
    steps = [(1, 0), (1, 0), (0, 1), (0, 1), (-1, 0), (0, 1), (1, 0), (1, 0), (0, -1), (1, 0), (0, 1), (1, 0)]
    east = north = 0.0
    route = [at(0, 0, 0, 6.0)]
    for n, (dx, dy) in enumerate(steps, start=1):
        east, north = east + dx * 50, north + dy * 50
        route.append(at(east, north, n * 5, 6.0 + n % 3))
    result = thin_patrol(patrol(tuple(route)), T)
    assert result.hit and result.evidence["signatures"] == ["grid"]


def test_one_accuracy_value_on_every_point_is_the_mock_location_signature() -> None:
    mocked = tuple(replace(fix, accuracy_m=10.0) for fix in walk(13, 60))
    result = thin_patrol(patrol(mocked), T)
    assert result.hit and result.evidence["signatures"] == ["repeated_accuracy"]
    assert "模拟定位" in result.reason_zh


def test_a_frozen_position_is_fake_and_a_short_patrol_is_not_judged() -> None:
    frozen = tuple(at(0, 0, n * 5, 5.0 + n) for n in range(13))
    assert "frozen" in thin_patrol(patrol(frozen), T).evidence["signatures"]
    # Edge: below patrol_check_minutes nothing is judged; at it, it is.
    sparse = (at(100, 0, 19, 12.0),)
    assert not thin_patrol(patrol(sparse, minutes=T.patrol_check_minutes - 1), T).hit
    assert thin_patrol(patrol(sparse, minutes=T.patrol_check_minutes), T).hit


def test_exactly_the_expected_number_of_points_is_enough() -> None:
    route = walk(6, 60)  # 60 minutes at one point per 10 minutes
    assert not thin_patrol(patrol(route), T).hit
    assert thin_patrol(patrol(route[:5]), T).evidence["signatures"] == ["too_few_points"]


def test_non_patrols_are_not_judged_as_patrols() -> None:
    assert not thin_patrol(context(), T).hit


# Duplicate report → confirmation -----------------------------------------------


def report(*nearby: PriorReport, minute: float = 0) -> ScreeningContext:
    facts = ReportFacts(ReportKind.HAZARD.value, LAT, LON, NOW + timedelta(minutes=minute), nearby)
    return context(report=facts)


def prior(activity_id: int, member_id: int, east_m: float, minutes_before: float) -> PriorReport:
    return PriorReport(activity_id, member_id, LAT, LON + east_m * M_LON, NOW - timedelta(minutes=minutes_before))


def test_a_later_report_of_the_same_thing_nearby_is_a_confirmation() -> None:
    result = duplicate_report(report(prior(3, 9, 40, 20), prior(5, 8, 60, 10)), T)
    assert result.hit and result.score == 0  # not fraud
    assert result.evidence["first_activity_id"] == 3  # the earliest keeps the credit
    assert result.evidence["distance_m"] == 40.0
    assert result.evidence["confirmation_pct"] == T.confirmation_pct
    assert "确认" in result.reason_zh


def test_the_first_report_and_reports_far_or_long_before_are_not_confirmations() -> None:
    assert not duplicate_report(report(), T).hit
    assert not duplicate_report(report(prior(3, 9, T.duplicate_radius_m + 5, 5)), T).hit
    assert not duplicate_report(report(prior(3, 9, 10, T.duplicate_minutes + 1)), T).hit
    # The member's own earlier report is not a confirmation of someone else's.
    assert not duplicate_report(report(prior(3, 4, 10, 5)), T).hit


def test_the_edges_of_radius_and_window_count_and_a_tie_goes_to_the_lower_id() -> None:
    assert duplicate_report(report(prior(3, 9, T.duplicate_radius_m - 0.5, T.duplicate_minutes)), T).hit
    same_time_before = duplicate_report(report(prior(3, 9, 10, 0)), T)
    assert same_time_before.hit  # id 3 < 10: it came first
    same_time_after = duplicate_report(report(prior(11, 9, 10, 0)), T)
    assert not same_time_after.hit


def test_a_confirmation_earns_its_share_of_the_report_points() -> None:
    verdict = decide(report(prior(3, 9, 40, 20)), T)
    assert verdict.outcome is Outcome.ALLOW
    pct = confirmation_pct_of(verdict)
    assert pct == 30
    rules = EarningRules.model_validate({"report_points": {"hazard": "3.00"}})
    full = owed(Work(kind=Kind.REPORT, minutes=0, report_kind=ReportKind.HAZARD), rules, Earned())
    share = owed(
        Work(kind=Kind.REPORT, minutes=0, report_kind=ReportKind.HAZARD, confirmation_pct=pct), rules, Earned()
    )
    assert (full.awarded, share.awarded) == (Decimal("3.00"), Decimal("0.90"))
    assert confirmation_pct_of(decide(report(), T)) is None


# Verifier–volunteer concentration ----------------------------------------------


def approvals(pair: int, member: int, verifier: int, reverse: int = 0, days: int = 9) -> ScreeningContext:
    return context(verifications=VerifierFacts(pair, member, verifier, reverse, days))


def test_a_verifier_who_approves_mostly_one_volunteer_is_flagged() -> None:
    result = verifier_concentration(approvals(pair=9, member=10, verifier=11), T)
    assert result.hit and result.evidence["concentrated"] and not result.evidence["mutual"]
    assert result.evidence["pair_approvals"] == 10


def test_a_grid_worker_approving_the_whole_grid_is_normal() -> None:
    # All of this volunteer's approvals, but a small share of the verifier's.
    assert not verifier_concentration(approvals(pair=20, member=20, verifier=300), T).hit


def test_concentration_needs_the_minimum_count() -> None:
    just_below = approvals(
        pair=T.concentration_min - 2, member=T.concentration_min - 2, verifier=T.concentration_min - 2
    )
    assert not verifier_concentration(just_below, T).hit
    at_minimum = approvals(
        pair=T.concentration_min - 1, member=T.concentration_min - 1, verifier=T.concentration_min - 1
    )
    assert verifier_concentration(at_minimum, T).hit


def test_a_days_queue_verified_together_is_no_concentration() -> None:
    """Eight reports of one offline day, all verified by the grid worker
    early in the programme: many approvals, but one day of activity."""
    one_day = approvals(pair=8, member=8, verifier=10, days=1)
    assert not verifier_concentration(one_day, T).hit
    days = T.concentration_min_days
    assert not verifier_concentration(approvals(pair=8, member=8, verifier=10, days=days - 1), T).hit
    assert verifier_concentration(approvals(pair=8, member=8, verifier=10, days=days), T).hit


def test_two_members_verifying_each_other_are_flagged() -> None:
    result = verifier_concentration(approvals(pair=2, member=40, verifier=200, reverse=3), T)
    assert result.hit and result.evidence["mutual"]
    assert "互相核实" in result.reason_zh
    assert not verifier_concentration(approvals(pair=2, member=40, verifier=200, reverse=2), T).hit


@given(
    pair=st.integers(0, 400),
    extra_member=st.integers(0, 400),
    verifier=st.integers(0, 200_000),
    reverse=st.integers(0, 12),
    days=st.integers(1, 30),
    pct=st.integers(0, 100),
)
def test_counting_the_verifiers_approvals_only_as_far_as_decides_changes_no_verdict(
    pair: int, extra_member: int, verifier: int, reverse: int, days: int, pct: int
) -> None:
    """The screening counts a busy verifier's approvals only up to
    ``verifier_approvals_worth_counting``: the rule must decide exactly as
    it would on the whole count."""
    thresholds = apply_overrides(T, {"concentration_verifier_pct": pct})
    member = pair + extra_member
    enough = verifier_approvals_worth_counting(pair, [pct])
    counted = min(verifier, enough)
    whole = verifier_concentration(approvals(pair, member, verifier, reverse, days), thresholds)
    capped_facts = VerifierFacts(pair, member, counted, reverse, days, verifier_approvals_capped=counted >= enough)
    capped = verifier_concentration(context(verifications=capped_facts), thresholds)
    assert (capped.hit, capped.score, capped.reason_zh) == (whole.hit, whole.score, whole.reason_zh)


def test_a_busy_verifiers_share_is_given_as_an_upper_bound_when_counting_stopped_early() -> None:
    enough = verifier_approvals_worth_counting(9, [T.concentration_verifier_pct])
    assert enough == 10 * 100 // T.concentration_verifier_pct
    facts = VerifierFacts(9, 10, enough, 0, 9, verifier_approvals_capped=True)
    result = verifier_concentration(context(verifications=facts), T)
    assert not result.hit
    assert "verifier_share_pct" not in result.evidence
    assert result.evidence["verifier_share_pct_at_most"] < T.concentration_verifier_pct


def test_the_lowest_of_the_enforced_and_shadow_thresholds_sets_how_far_to_count() -> None:
    assert verifier_approvals_worth_counting(9, [50, 25]) == 40
    assert verifier_approvals_worth_counting(9, [0]) == 1


# Cashing out (orders) ----------------------------------------------------------


def order(
    amount: str, balance: str, awards: tuple[AwardFact, ...] = (), others: tuple[ShopRedemption, ...] = ()
) -> ScreeningContext:
    return context(
        subject=Subject.ORDER,
        subject_id=50,
        amount=Decimal(amount),
        verifier_id=None,
        order=OrderFacts(shop_id=2, balance_before=Decimal(balance), recent_awards=awards, shop_redemptions=others),
    )


def award(hours_ago: float, amount: str, verifier: int | None) -> AwardFact:
    return AwardFact(NOW - timedelta(hours=hours_ago), Decimal(amount), verifier)


def redemption(
    member: int, funders: dict[int, str], *, amount: str = "95.00", balance: str = "100.00"
) -> ShopRedemption:
    funding = tuple(Funding(verifier, Decimal(points)) for verifier, points in funders.items())
    return ShopRedemption(member * 10, member, NOW - timedelta(days=3), Decimal(amount), Decimal(balance), funding)


def test_a_whole_balance_redeemed_right_after_a_burst_of_awards_is_cashing_out() -> None:
    burst = tuple(award(hours, "20.00", 7 + int(hours) % 3) for hours in (1, 3, 5, 8, 12))
    result = cashing_out(order("98.00", "100.00", burst), T)
    assert result.hit and result.evidence["drain"] and not result.evidence["ring"]
    assert "立即兑换" in result.reason_zh


def test_a_member_spending_savings_or_part_of_a_fresh_balance_is_not() -> None:
    old = tuple(award(24 * days, "20.00", 7) for days in (3, 9, 15, 20, 26))
    assert not cashing_out(order("98.00", "100.00", old), T).hit  # earned over weeks
    fresh = tuple(award(hours, "20.00", 7) for hours in (1, 3, 5, 8, 12))
    assert not cashing_out(order("40.00", "100.00", fresh), T).hit  # not the whole balance
    few = tuple(award(hours, "20.00", 7) for hours in (1, 3, 5))
    assert not cashing_out(order("98.00", "100.00", few), T).hit  # below drain_awards


def test_wallets_funded_by_the_same_few_verifiers_emptied_at_one_shop_are_a_ring() -> None:
    mine = tuple(award(24 * days, "25.00", 7 + n % 2) for n, days in enumerate((2, 6, 10, 14)))
    ring = tuple(redemption(member, {7: "60.00", 8: "40.00"}) for member in (21, 22, 23, 24))
    result = cashing_out(order("95.00", "100.00", mine, ring), T)
    assert result.hit and result.evidence["ring"]
    assert result.evidence["funders"] == [7, 8] and result.evidence["ring_wallets"] == [21, 22, 23, 24]


def test_a_ring_needs_enough_wallets_the_same_funders_and_emptied_balances() -> None:
    mine = tuple(award(24 * days, "25.00", 7) for days in (2, 6, 10, 14))
    three = tuple(redemption(member, {7: "100.00"}) for member in (21, 22, 23))
    assert not cashing_out(order("95.00", "100.00", mine, three), T).hit  # 4 wallets < 5
    others_funded = tuple(redemption(member, {30 + member: "100.00"}) for member in (21, 22, 23, 24))
    assert not cashing_out(order("95.00", "100.00", mine, others_funded), T).hit
    partial = tuple(redemption(member, {7: "100.00"}, amount="30.00") for member in (21, 22, 23, 24))
    assert not cashing_out(order("95.00", "100.00", mine, partial), T).hit


def test_main_funders_are_the_few_verifiers_covering_most_of_the_points() -> None:
    spread = [Funding(verifier, Decimal("10.00")) for verifier in range(1, 6)]
    assert main_funders(spread, T) is None
    assert main_funders([Funding(7, Decimal("90.00")), Funding(8, Decimal("10.00"))], T) == frozenset({7})
    assert main_funders([], T) is None


def test_without_history_an_order_leaving_money_in_the_wallet_is_judged_and_one_draining_it_asks_for_it() -> None:
    """The placement screens first without the wallet's awards and the
    shop's redemptions: enough for an order that does not drain the wallet
    (neither a drain after a burst nor a ring without one), which says so
    in its evidence; one that drains it raises ``HistoryNeeded``."""
    part = replace(
        order("40.00", "100.00"), order=OrderFacts(shop_id=2, balance_before=Decimal("100.00"), history_loaded=False)
    )
    result = cashing_out(part, T)
    assert not result.hit
    assert result.evidence["history"] == "not read: the order does not drain the wallet"
    assert result.evidence["balance_before"] == "100.00" and result.evidence["shop_id"] == 2
    whole = replace(part, amount=Decimal("98.00"))
    with pytest.raises(HistoryNeeded):
        cashing_out(whole, T)


def test_an_award_is_never_judged_as_cashing_out() -> None:
    assert not cashing_out(context(), T).hit


# Which rules judge what --------------------------------------------------------


def test_orders_are_judged_by_every_rule_registered_for_orders() -> None:
    assert cashing_out in rules_for(Subject.ORDER) and cashing_out not in rules_for(Subject.ACTIVITY)
    burst = tuple(award(hours, "20.00", 7) for hours in (1, 3, 5, 8, 12))
    verdict = decide(order("98.00", "100.00", burst), T)
    assert [result.rule for result in verdict.results] == [rule.__name__ for rule in RULES_BY_SUBJECT[Subject.ORDER]]
    assert verdict.outcome is Outcome.REVIEW and {hit.rule for hit in verdict.hits} == {"cashing_out"}
    assert set(all_rules()) == set(RULES_BY_SUBJECT[Subject.ACTIVITY]) | set(RULES_BY_SUBJECT[Subject.ORDER])


def test_the_new_rules_take_the_organisations_thresholds() -> None:
    generous = apply_overrides(T, {"confirmation_pct": 50, "patrol_minutes_per_point": 45, "cashout_wallets": 4})
    confirmation = duplicate_report(report(prior(3, 9, 40, 20)), generous)
    assert confirmation.evidence["confirmation_pct"] == 50 and "50%" in confirmation.reason_zh
    sparse = patrol((at(0, 0, 0, 9.0), at(300, 200, 60, 14.0)))
    assert thin_patrol(sparse, T).hit and not thin_patrol(sparse, generous).hit
    mine = tuple(award(24 * days, "25.00", 7) for days in (2, 6, 10, 14))
    three = tuple(redemption(member, {7: "100.00"}) for member in (21, 22, 23))
    assert not cashing_out(order("95.00", "100.00", mine, three), T).hit
    assert cashing_out(order("95.00", "100.00", mine, three), generous).hit
