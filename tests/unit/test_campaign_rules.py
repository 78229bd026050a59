"""Campaign decisions without a database: the budget rule, which campaign an
activity earns from, and the campaign record built from its row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from campaigns.applicability import check_applicable, nearest_default
from campaigns.errors import BudgetExhausted, CampaignClosed, CampaignNotApplicable, InvalidCampaignData
from campaigns.models import CampaignRecord, CampaignStatus, CampaignWithBudget
from campaigns.rules import check_budget, parse_rules

START = datetime(2026, 11, 1, tzinfo=UTC)
# building 6 → grid 5 → community 4 → street 3: an activity's chain, nearest first
CHAIN = [6, 5, 4, 3]


def row(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": 7,
        "organisation": 4,
        "title_zh": "平安巡逻月",
        "title_en": "",
        "description_zh": "",
        "starts_at": START,
        "ends_at": None,
        "is_default": 1,  # SQLite hands booleans back as integers
        "status": "open",
        "rules": '{"service_per_hour": {"default": "2.00"}, "daily_cap": "8.00"}',
        "created_by": 2,
        "created_at": START,
        "closed_at": None,
        "closed_by": None,
    }
    return values | overrides


def campaign(**overrides: Any) -> CampaignRecord:
    return CampaignRecord.from_row(row(**overrides))


def test_an_award_that_fits_the_budget_exactly_is_allowed() -> None:
    check_budget(7, available=Decimal("2.00"), amount=Decimal("2.00"))


def test_an_award_beyond_the_budget_is_refused_whole_naming_the_campaign() -> None:
    with pytest.raises(BudgetExhausted) as refused:
        check_budget(7, available=Decimal("1.99"), amount=Decimal("2.00"))
    assert refused.value.field == "campaign_id"
    assert "campaign 7 has 1.99 points left; this award needs 2.00" in refused.value.message


def test_a_row_becomes_a_typed_record_in_one_place() -> None:
    record = campaign()
    assert record.status is CampaignStatus.OPEN and record.is_open and record.is_default is True
    assert record.organisation_id == 4 and record.budget_account == "campaign:7:budget"
    assert record.rules.service_rate(None) == Decimal("2.00") and record.rules.daily_cap == Decimal("8.00")


def test_stored_rules_the_code_does_not_understand_are_refused_naming_the_field() -> None:
    with pytest.raises(InvalidCampaignData) as refused:
        parse_rules({"patrol_points": "-1.00"})
    assert refused.value.field == "rules" and refused.value.message.startswith("rules.patrol_points")


def test_a_record_with_its_budget_keeps_every_field() -> None:
    record = campaign()
    shown = CampaignWithBudget.of(record, Decimal("12.50"))
    assert shown.budget == Decimal("12.50") and shown.title_zh == record.title_zh and shown.rules == record.rules


def test_a_campaign_covers_from_its_start_up_to_but_not_including_its_end() -> None:
    ending = campaign(ends_at=START + timedelta(days=30))
    assert ending.covers(START) and ending.covers(START + timedelta(days=29))
    assert not ending.covers(START + timedelta(days=30)) and not ending.covers(START - timedelta(seconds=1))
    assert campaign().covers(START + timedelta(days=3650))  # open-ended


def test_a_named_campaign_applies_at_or_below_its_organisation_while_it_runs() -> None:
    check_applicable(campaign(), CHAIN, START + timedelta(days=1))


@pytest.mark.parametrize(
    ("overrides", "moment", "error"),
    [
        ({"status": "closed"}, START, CampaignClosed),
        ({"organisation": 9}, START, CampaignNotApplicable),  # another branch of the tree
        ({}, START - timedelta(days=1), CampaignNotApplicable),  # before it starts
    ],
)
def test_a_named_campaign_that_does_not_apply_is_refused(
    overrides: dict[str, Any], moment: datetime, error: type[Exception]
) -> None:
    with pytest.raises(error):
        check_applicable(campaign(**overrides), CHAIN, moment)


def test_without_a_name_the_nearest_running_open_default_wins() -> None:
    community = campaign(id=1, organisation=4)
    grid = campaign(id=2, organisation=5)
    assert nearest_default([community, grid], CHAIN, START) == grid
    assert nearest_default([community], CHAIN, START) == community


def test_defaults_that_are_closed_not_running_or_not_defaults_are_passed_over() -> None:
    candidates = [
        campaign(id=1, organisation=6, status="closed"),
        campaign(id=2, organisation=5, starts_at=START + timedelta(days=1)),
        campaign(id=3, organisation=5, is_default=0),
        campaign(id=4, organisation=3),
    ]
    chosen = nearest_default(candidates, CHAIN, START)
    assert chosen is not None and chosen.id == 4
    assert nearest_default([], CHAIN, START) is None
