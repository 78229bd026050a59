"""What a member has done, read from the ledger and the activities: the
inputs of the pure rules in ``levels.py`` and ``badge_rules.py``.

- **Lifetime earned points**: the member's wallet postings of awards and
  bonuses (``leaderboards.earnings.COUNTED_KINDS``, as the boards count
  them) plus those of their reversals (negative). Spending, holds and
  manual adjustments are other kinds: they never count.
- **Verified hours**: minutes of service logs and patrols that were
  verified (or went on: see ``COUNTED_STATUSES``). Held and rejected work
  does not count.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from activities.models import Kind, Status
from activities.tables import Activity
from leaderboards.earnings import COUNTED_KINDS, REVERSAL_KIND
from ledger.tables import LedgerPosting
from recognition.badge_rules import Event, EventKind, done_on

COUNTED_STATUSES = (Status.VERIFIED, Status.ASSIGNED, Status.HANDLED, Status.CLOSED)
TIMED_KINDS = (Kind.SERVICE, Kind.PATROL)

_KINDS = ", ".join(f"'{kind}'" for kind in sorted(COUNTED_KINDS))
_EARNED_SQL = (
    "SELECT COALESCE(SUM(p.amount_minor), 0) AS earned FROM ledger_posting AS p "  # noqa: S608 -- constants only; the code is bound
    "JOIN ledger_account AS a ON a.id = p.account "
    "JOIN ledger_entry AS e ON e.id = p.entry "
    "LEFT JOIN ledger_entry AS r ON r.id = e.reverses "
    f"WHERE a.code = {{}} AND (e.kind IN ({_KINDS}) OR (e.kind = '{REVERSAL_KIND}' AND r.kind IN ({_KINDS})))"
)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def earned_points_minor(member_id: int) -> int:
    rows = await LedgerPosting.raw(_EARNED_SQL, f"volunteer:{member_id}:wallet").run()
    return int(rows[0]["earned"]) if rows else 0


async def _counted_activities(member_id: int, *columns: Any) -> list[dict[str, Any]]:
    return list(
        await Activity.select(*columns)
        .where((Activity.member == member_id) & Activity.status.is_in([status.value for status in COUNTED_STATUSES]))
        .run()
    )


async def verified_minutes(member_id: int) -> int:
    rows = await _counted_activities(member_id, Activity.kind, Activity.minutes)
    return sum(int(row["minutes"] or 0) for row in rows if row["kind"] in {kind.value for kind in TIMED_KINDS})


def events_of(rows: Sequence[dict[str, Any]]) -> list[Event]:
    """The counted events of a member's activity rows (see ``badge_rules``)."""
    events: list[Event] = []
    for row in rows:
        if row["verified_at"] is None:
            continue
        kind = EventKind(row["kind"])
        events.append(
            Event(
                at=_aware(row["verified_at"]),
                activity_id=int(row["id"]),
                kind=kind,
                minutes=int(row["minutes"] or 0) if kind in (EventKind.SERVICE, EventKind.PATROL) else 0,
                done_on=done_on(_aware(row["started_at"])),
            )
        )
        if kind is EventKind.REPORT and row["useful"] and row["handled_at"] is not None:
            events.append(Event(at=_aware(row["handled_at"]), activity_id=int(row["id"]), kind=EventKind.USEFUL))
    return events


async def events_for(member_id: int) -> list[Event]:
    rows = await _counted_activities(
        member_id,
        Activity.id,
        Activity.kind,
        Activity.minutes,
        Activity.verified_at,
        Activity.started_at,
        Activity.useful,
        Activity.handled_at,
    )
    return events_of(rows)
