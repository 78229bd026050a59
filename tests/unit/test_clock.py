"""``core.clock.as_of``: the one clock set for a block (the demo seed's
history), and back to the real time after it, also after an error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.clock import as_of, utc_now

MOMENT = datetime(2026, 10, 5, 20, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_as_of_sets_the_clock_in_utc_for_the_block_only() -> None:
    with as_of(MOMENT):
        assert utc_now() == MOMENT and utc_now().tzinfo == UTC
        with as_of(MOMENT + timedelta(days=1)):
            assert utc_now() == MOMENT + timedelta(days=1)
        assert utc_now() == MOMENT
    assert abs(utc_now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_the_clock_comes_back_after_an_error_and_naive_moments_are_refused() -> None:
    with pytest.raises(RuntimeError), as_of(MOMENT):
        raise RuntimeError("boom")
    assert utc_now() != MOMENT
    with pytest.raises(ValueError, match="aware"), as_of(datetime(2026, 10, 5)):  # noqa: DTZ001 (the point)
        pass
