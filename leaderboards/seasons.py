"""Seasons (四季竞赛): an organiser's competition over dates on a node.

Who may do what (checked here, inside each writing transaction, with the
audit row in the same transaction):

- **see** a season (get, list): whoever may see its node
  (``community.access.can_see_organisation``); anyone else gets
  ``SeasonNotFound``, as for a season that does not exist;
- **create, update, delete**: managers (organisers, admins) of the node or
  above (``community.policy.managed_organisation``: 404 for a node one
  cannot see, 403 for one seen but not managed).

What may change (``season_rules``): the name any time; the dates and the
season itself (delete) only before its first day (409 ``season_started``).
A frozen season's board is stored (``freezing.py``) and reads come from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from community import audit
from community.access import Principal, can_see_organisation
from community.organisations import ancestor_ids
from community.policy import managed_organisation
from core.clock import utc_now
from core.database import in_write_transaction, lock_row
from leaderboards.errors import InvalidSeason, SeasonNotFound, SeasonStarted
from leaderboards.models import SeasonRecord
from leaderboards.periods import SeasonDates, china_date
from leaderboards.season_rules import SeasonRuleBroken, SeasonSpan, check_dates, check_name, has_started
from leaderboards.tables import Season

_COLUMNS = (
    Season.id,
    Season.name_zh,
    Season.name_en,
    Season.organisation,
    Season.first_day,
    Season.last_day,
    Season.created_by,
    Season.created_at,
    Season.frozen_at,
)


@dataclass(frozen=True, slots=True)
class SeasonDraft:
    name_zh: str
    name_en: str
    organisation_id: int
    first_day: date
    last_day: date


@dataclass(frozen=True, slots=True)
class SeasonChange:
    """What an update sets; None leaves a field as it is."""

    name_zh: str | None = None
    name_en: str | None = None
    first_day: date | None = None
    last_day: date | None = None

    @property
    def moves_dates(self) -> bool:
        return self.first_day is not None or self.last_day is not None


def _as_date(value: Any) -> date:
    return (
        value.date()
        if isinstance(value, datetime)
        else value
        if isinstance(value, date)
        else date.fromisoformat(str(value))
    )


def _record(row: dict[str, Any]) -> SeasonRecord:
    return SeasonRecord(
        id=int(row["id"]),
        name_zh=str(row["name_zh"]),
        name_en=str(row["name_en"]),
        organisation_id=int(row["organisation"]),
        first_day=_as_date(row["first_day"]),
        last_day=_as_date(row["last_day"]),
        created_by=None if row["created_by"] is None else int(row["created_by"]),
        created_at=row["created_at"],
        frozen_at=row["frozen_at"],
    )


def _invalid(error: SeasonRuleBroken) -> InvalidSeason:
    return InvalidSeason(str(error), field=error.field)


def _not_found(season_id: int) -> SeasonNotFound:
    return SeasonNotFound(f"no season {season_id} visible to you", field="season_id")


async def find_season(season_id: int) -> SeasonRecord | None:
    rows = await Season.select(*_COLUMNS).where(Season.id == season_id).run()
    return _record(rows[0]) if rows else None


async def unfrozen_seasons() -> list[SeasonRecord]:
    rows = await Season.select(*_COLUMNS).where(Season.frozen_at.is_null()).run()
    return [_record(row) for row in rows]


async def open_season_spans() -> list[SeasonSpan]:
    """The seasons the feed still places awards in: every one not frozen."""
    return [
        SeasonSpan(SeasonDates(record.id, record.first_day, record.last_day), record.organisation_id)
        for record in await unfrozen_seasons()
    ]


async def visible_season(principal: Principal, season_id: int) -> SeasonRecord:
    season = await find_season(season_id)
    if season is None or not await can_see_organisation(principal, season.organisation_id):
        raise _not_found(season_id)
    return season


async def list_seasons(principal: Principal, *, organisation_id: int | None = None) -> list[SeasonRecord]:
    """Seasons on nodes the principal may see (optionally one node's),
    latest first. Seasons are few (a handful a year per node)."""
    query = Season.select(*_COLUMNS).order_by(Season.first_day, ascending=False).order_by(Season.id, ascending=False)
    if organisation_id is not None:
        query = query.where(Season.organisation == organisation_id)
    seasons = [_record(row) for row in await query.run()]
    seen: dict[int, bool] = {}
    for node in {season.organisation_id for season in seasons}:
        seen[node] = await can_see_organisation(principal, node)
    return [season for season in seasons if seen[season.organisation_id]]


async def running_season_over(organisation_id: int, now: datetime | None = None) -> SeasonRecord | None:
    """The season running today (China time) on the node or a node above
    it, the one that started last (then the highest id); None if none."""
    today = china_date(now or utc_now())
    chain = await ancestor_ids(organisation_id)
    rows = await Season.select(*_COLUMNS).where(Season.organisation.is_in(chain)).run()
    running = [season for season in map(_record, rows) if season.first_day <= today <= season.last_day]
    return max(running, key=lambda season: (season.first_day, season.id), default=None)


def _audit_detail(season: SeasonRecord) -> dict[str, Any]:
    return {
        "name_zh": season.name_zh,
        "organisation_id": season.organisation_id,
        "first_day": season.first_day.isoformat(),
        "last_day": season.last_day.isoformat(),
    }


async def create_season(principal: Principal, draft: SeasonDraft, *, now: datetime | None = None) -> SeasonRecord:
    today = china_date(now or utc_now())
    try:
        name_zh, name_en = check_name(draft.name_zh, draft.name_en)
        check_dates(draft.first_day, draft.last_day, today)
    except SeasonRuleBroken as error:
        raise _invalid(error) from None

    async def work() -> int:
        await managed_organisation(principal, draft.organisation_id)
        rows = (
            await Season.insert(
                Season(
                    name_zh=name_zh,
                    name_en=name_en,
                    organisation=draft.organisation_id,
                    first_day=draft.first_day,
                    last_day=draft.last_day,
                    created_by=principal.member_id,
                )
            )
            .returning(Season.id)
            .run()
        )
        season_id = int(rows[0]["id"])
        await audit.record(
            principal.ref,
            "leaderboards.season_create",
            f"season:{season_id}",
            name_zh=name_zh,
            organisation_id=draft.organisation_id,
            first_day=draft.first_day.isoformat(),
            last_day=draft.last_day.isoformat(),
        )
        return season_id

    season_id = await in_write_transaction(work)
    created = await find_season(season_id)
    assert created is not None  # committed just now; seasons are deleted only by this module
    return created


async def _locked_managed(principal: Principal, season_id: int) -> SeasonRecord:
    await lock_row(Season, season_id)
    season = await visible_season(principal, season_id)
    await managed_organisation(principal, season.organisation_id)
    return season


async def update_season(
    principal: Principal, season_id: int, change: SeasonChange, *, now: datetime | None = None
) -> SeasonRecord:
    """The name any time; the dates only before the first day (both checked
    again as a new season's would be)."""
    now = now or utc_now()

    async def work() -> None:
        season = await _locked_managed(principal, season_id)
        try:
            name_zh, name_en = check_name(
                season.name_zh if change.name_zh is None else change.name_zh,
                season.name_en if change.name_en is None else change.name_en,
            )
        except SeasonRuleBroken as error:
            raise _invalid(error) from None
        first_day = change.first_day or season.first_day
        last_day = change.last_day or season.last_day
        if change.moves_dates and (first_day, last_day) != (season.first_day, season.last_day):
            if has_started(season.first_day, now):
                raise SeasonStarted(f"season {season_id} has begun: its dates are fixed", field="first_day")
            try:
                check_dates(first_day, last_day, china_date(now))
            except SeasonRuleBroken as error:
                raise _invalid(error) from None
        await (
            Season.update(
                {
                    Season.name_zh: name_zh,
                    Season.name_en: name_en,
                    Season.first_day: first_day,
                    Season.last_day: last_day,
                }
            )
            .where(Season.id == season_id)
            .run()
        )
        await audit.record(
            principal.ref,
            "leaderboards.season_update",
            f"season:{season_id}",
            before=_audit_detail(season),
            name_zh=name_zh,
            name_en=name_en,
            first_day=first_day.isoformat(),
            last_day=last_day.isoformat(),
        )

    await in_write_transaction(work)
    updated = await find_season(season_id)
    if updated is None:
        raise _not_found(season_id)
    return updated


async def delete_season(principal: Principal, season_id: int, *, now: datetime | None = None) -> None:
    """Only before its first day: nothing has been fed to its boards yet."""
    now = now or utc_now()

    async def work() -> None:
        season = await _locked_managed(principal, season_id)
        if has_started(season.first_day, now):
            raise SeasonStarted(f"season {season_id} has begun and is kept", field="season_id")
        await Season.delete().where(Season.id == season_id).run()
        await audit.record(principal.ref, "leaderboards.season_delete", f"season:{season_id}", **_audit_detail(season))

    await in_write_transaction(work)
