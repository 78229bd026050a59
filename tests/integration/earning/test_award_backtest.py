"""The backtest replays past awards too, reloading their context as at the
time they were verified."""

from __future__ import annotations

from datetime import timedelta

from admin.fraud_backtest import backtest
from community.access import load_principal
from core.clock import utc_now
from fraud.models import Outcome, Subject
from fraud.shadow import update_settings
from tests.integration.earning.test_fraud_holds import _held_world
from tests.support.earning_helpers import World


async def test_a_held_award_would_be_allowed_under_a_higher_cooling_off_amount(world: World) -> None:
    since = utc_now() - timedelta(minutes=5)
    _, activity_id, _ = await _held_world(world)
    [same] = await backtest(since)
    assert same.stored.subject is Subject.ACTIVITY and same.stored.subject_id == activity_id
    assert not same.changed and same.hits_now() == ["cooling_off"]
    organiser = await load_principal(world.organizer)
    await update_settings(organiser, world.community, overrides={"cooling_award_minor": 10_000}, shadow={})
    [replay] = await backtest(since)
    assert replay.changed and (replay.stored.outcome, replay.now.outcome) == (Outcome.REVIEW, Outcome.ALLOW)
