"""``fengling fraud expire-reviews`` (the review-deadline job as a command)."""

from __future__ import annotations

from typer.testing import CliRunner

from admin.cli import app

runner = CliRunner()


def test_expire_reviews_runs_at_a_given_time_and_refuses_a_bad_one() -> None:
    ran = runner.invoke(app, ["fraud", "expire-reviews", "--now", "2030-01-07T09:00"])
    assert ran.exit_code == 0, ran.output
    assert "overdue reviews released or escalated: 0" in ran.output
    bad = runner.invoke(app, ["fraud", "expire-reviews", "--now", "next tuesday"])
    assert bad.exit_code == 2 and "--now must be an ISO time" in bad.output


def test_backtest_prints_what_would_change_and_refuses_a_bad_day() -> None:
    ran = runner.invoke(app, ["fraud", "backtest", "--since", "2026-01-01"])
    assert ran.exit_code == 0, ran.output
    assert "replayed 0, would change 0" in ran.output
    bad = runner.invoke(app, ["fraud", "backtest", "--since", "yesterday"])
    assert bad.exit_code == 2 and "--since must be a day" in bad.output
