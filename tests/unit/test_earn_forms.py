"""web/earn_forms: what the earn forms send, read without a database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from campaigns.rules import ReportKind
from web import earn_forms as forms
from web.earn_forms import FormProblem


def refused(work: object) -> FormProblem:
    with pytest.raises(FormProblem) as caught:
        work()  # type: ignore[operator]
    return caught.value


def test_a_time_typed_on_the_page_is_china_time() -> None:
    moment = forms.china_local_time("2026-11-30T09:00", "started_at")
    assert moment.astimezone(UTC) == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    assert refused(lambda: forms.china_local_time("yesterday", "started_at")) == FormProblem(
        "started_at", "form_bad_time"
    )


def test_the_phones_clock_needs_a_zone_and_may_be_absent() -> None:
    assert forms.phone_time("") is None
    assert forms.phone_time("2026-11-30T01:00:00.000Z") == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    assert refused(lambda: forms.phone_time("2026-11-30T01:00")).field == "client_recorded_at"


def test_a_position_needs_both_coordinates_as_finite_numbers() -> None:
    place = forms.position("35.05", "118.34", "")
    assert (place.latitude, place.longitude, place.accuracy_m) == (35.05, 118.34, None)
    assert refused(lambda: forms.position("", "118.34", "")) == FormProblem("position", "form_no_position")
    assert refused(lambda: forms.position("nan", "118.34", "")).field == "position.latitude"
    assert refused(lambda: forms.position("35", "118", "inf")).field == "position.accuracy_m"


def test_text_ids_refs_kinds_and_ratings_are_read_or_named() -> None:
    assert forms.text("  扫雪 ", "title", max_chars=10) == "扫雪"
    assert refused(lambda: forms.text(" ", "title", max_chars=10)).key == "form_required"
    assert refused(lambda: forms.text("x" * 11, "title", max_chars=10)).key == "form_too_long"
    assert forms.optional_id("", "team_id") is None and forms.optional_id("7", "team_id") == 7
    assert refused(lambda: forms.optional_id("-1", "team_id")).key == "form_bad_choice"
    assert refused(lambda: forms.optional_id("9" * 12, "team_id")).key == "form_bad_choice"
    assert forms.client_ref("") is None and forms.client_ref("abc") == "abc"
    assert forms.report_kind("hazard") is ReportKind.HAZARD
    assert refused(lambda: forms.report_kind("fire")).field == "report_kind"
    assert forms.rating("5") == 5
    assert refused(lambda: forms.rating("6")).key == "form_pick_rating"
