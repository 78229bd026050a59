"""Per-issuing-organisation thresholds: ``DEFAULT_THRESHOLDS`` with the
organisation's stored overrides on top (``fraud_threshold``).

Changing them never touches a stored decision: each decision keeps a copy
of the thresholds it was judged with.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields, replace
from datetime import datetime
from typing import Any

from core.clock import utc_now
from fraud.errors import InvalidThresholds
from fraud.models import DEFAULT_THRESHOLDS, Thresholds
from fraud.photo_bands import MAX_FINDABLE_DISTANCE
from fraud.tables import FraudThreshold

_NAMES = frozenset(item.name for item in fields(Thresholds))
# Every threshold is a count, a score, minutes, days, km/h or hundredths: none is negative,
# and none sensibly exceeds this (a bound so a typo cannot disable a rule by overflow).
THRESHOLD_MAX = 10_000_000


def apply_overrides(base: Thresholds, overrides: Mapping[str, Any]) -> Thresholds:
    """``base`` with ``overrides`` applied (pure); unknown keys or values
    that are not whole numbers in range are refused."""
    unknown = sorted(set(overrides) - _NAMES)
    if unknown:
        raise InvalidThresholds(f"unknown thresholds: {', '.join(unknown)}", field="overrides")
    for name, value in overrides.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= THRESHOLD_MAX:
            raise InvalidThresholds(f"{name} must be a whole number from 0 to {THRESHOLD_MAX}", field=name)
    chosen = replace(base, **overrides)
    if chosen.photo_max_distance > MAX_FINDABLE_DISTANCE:
        raise InvalidThresholds(
            f"photo_max_distance must be at most {MAX_FINDABLE_DISTANCE}: the photo index finds near duplicates"
            f" up to {MAX_FINDABLE_DISTANCE} bits apart (fraud.photo_bands)",
            field="photo_max_distance",
        )
    if chosen.deny_score < chosen.review_score:
        raise InvalidThresholds("deny_score cannot be below review_score", field="deny_score")
    return chosen


async def thresholds_for(issuer_id: int | None) -> Thresholds:
    """The thresholds an issuing organisation judges with (one query)."""
    if issuer_id is None:
        return DEFAULT_THRESHOLDS
    rows = await FraudThreshold.select(FraudThreshold.overrides).where(FraudThreshold.organisation == issuer_id).run()
    if not rows:
        return DEFAULT_THRESHOLDS
    return apply_overrides(DEFAULT_THRESHOLDS, json.loads(rows[0]["overrides"]))


async def set_overrides(issuer_id: int, overrides: Mapping[str, Any], *, now: datetime | None = None) -> Thresholds:
    """Store an issuing organisation's overrides (replacing earlier ones).
    Run inside the caller's transaction, after its policy check."""
    chosen = apply_overrides(DEFAULT_THRESHOLDS, overrides)
    text = json.dumps(dict(overrides), sort_keys=True)
    moment = now or utc_now()
    exists = await FraudThreshold.exists().where(FraudThreshold.organisation == issuer_id).run()
    if exists:
        await (
            FraudThreshold.update({FraudThreshold.overrides: text, FraudThreshold.updated_at: moment})
            .where(FraudThreshold.organisation == issuer_id)
            .run()
        )
    else:
        await FraudThreshold.insert(FraudThreshold(organisation=issuer_id, overrides=text, updated_at=moment)).run()
    return chosen
