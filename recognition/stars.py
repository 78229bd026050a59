"""A member's star level, and the issuing organisations' thresholds.

The level is computed on each read from the ledger and the activities
(``counting.py``) with the pure rule (``levels.star_level``): nothing is
stored, so it can never disagree with the ledger, and spending (which
never counts) cannot lower it. The thresholds are those of the issuing
organisation over the member's home (``community.organisations.
issuing_organisation_for``), or the defaults when it has set none.

``set_thresholds`` replaces an issuing organisation's five thresholds in
one writing transaction with its audit row (``recognition.thresholds``);
managers of the organisation only (``policy.managed_issuer``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from community import audit
from community.access import Principal
from community.organisations import issuing_organisation_for
from core.database import in_write_transaction
from recognition.counting import earned_points_minor, verified_minutes
from recognition.errors import InvalidThresholds
from recognition.levels import DEFAULT_THRESHOLDS, Level, Threshold, ThresholdsRefused, check_thresholds, star_level
from recognition.policy import managed_issuer, readable_issuer
from recognition.tables import StarThreshold


@dataclass(frozen=True, slots=True)
class Thresholds:
    organisation_id: int | None  # the issuing organisation; None: no issuer above
    levels: tuple[Threshold, ...]
    defaults: bool  # the organisation has set none of its own


@dataclass(frozen=True, slots=True)
class MemberLevel:
    member_id: int
    level: Level
    thresholds: Thresholds


async def thresholds_of(organisation_id: int | None) -> Thresholds:
    if organisation_id is None:
        return Thresholds(None, DEFAULT_THRESHOLDS, defaults=True)
    rows = (
        await StarThreshold.select(StarThreshold.stars, StarThreshold.points_minor, StarThreshold.hours)
        .where(StarThreshold.organisation == organisation_id)
        .order_by(StarThreshold.stars)
        .run()
    )
    if not rows:
        return Thresholds(organisation_id, DEFAULT_THRESHOLDS, defaults=True)
    levels = tuple(Threshold(int(row["stars"]), int(row["points_minor"]), int(row["hours"])) for row in rows)
    return Thresholds(organisation_id, levels, defaults=False)


async def level_of(member_id: int, home_organisation_id: int) -> MemberLevel:
    issuer = await issuing_organisation_for(home_organisation_id)
    thresholds = await thresholds_of(issuer.id if issuer is not None else None)
    level = star_level(await earned_points_minor(member_id), await verified_minutes(member_id), thresholds.levels)
    return MemberLevel(member_id=member_id, level=level, thresholds=thresholds)


async def my_level(principal: Principal) -> MemberLevel:
    return await level_of(principal.member_id, principal.home_organisation_id)


async def read_thresholds(principal: Principal, organisation_id: int) -> Thresholds:
    await readable_issuer(principal, organisation_id)
    return await thresholds_of(organisation_id)


async def set_thresholds(principal: Principal, organisation_id: int, levels: Sequence[Threshold]) -> Thresholds:
    try:
        checked = check_thresholds(levels)
    except ThresholdsRefused as error:
        raise InvalidThresholds(str(error), field=error.field) from None

    async def work() -> None:
        await managed_issuer(principal, organisation_id)
        before = await thresholds_of(organisation_id)
        await StarThreshold.delete().where(StarThreshold.organisation == organisation_id).run()
        await StarThreshold.insert(
            *(
                StarThreshold(
                    organisation=organisation_id,
                    stars=level.stars,
                    points_minor=level.points_minor,
                    hours=level.hours,
                    changed_by=principal.member_id,
                )
                for level in checked
            )
        ).run()
        await audit.record(
            principal.ref,
            "recognition.thresholds",
            f"organisation:{organisation_id}",
            levels=[[level.stars, level.points_minor, level.hours] for level in checked],
            previous=None if before.defaults else [[lv.stars, lv.points_minor, lv.hours] for lv in before.levels],
        )

    await in_write_transaction(work, retry_unique=True)
    return await thresholds_of(organisation_id)
