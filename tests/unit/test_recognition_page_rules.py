"""What the stars-and-badges page shows of a level (pure)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from recognition.levels import star_level
from web.recognition_pages import level_view

pytestmark = pytest.mark.unit


def test_progress_is_the_lesser_of_the_two_measures_and_full_at_the_top() -> None:
    halfway_points = level_view(star_level(1_500, 5 * 60))  # 2★ needs 30 points (15 earned) and 5 h (met)
    assert (halfway_points.stars, halfway_points.next_stars, halfway_points.progress_pct) == (1, 2, 50)
    assert halfway_points.points_needed == Decimal("15.00") and halfway_points.hours_needed == Decimal("0.0")
    top = level_view(star_level(100_000, 200 * 60))
    assert (top.stars, top.next_stars, top.progress_pct) == (5, None, 100)


def test_hours_show_with_one_decimal_place() -> None:
    view = level_view(star_level(0, 95))
    assert view.hours == Decimal("1.6") and view.hours_needed == Decimal("3.4")
