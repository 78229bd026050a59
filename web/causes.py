"""What caused a statement line, from its entry's ``cause_ref``
(``activity:<id>``, ``order:<id>``, ``adjustment:<id>``,
``settlement:<shop>:<period>``…), as a page names it and where it links.

An activity's label says which kind of activity it is (service record,
patrol, report): the kind is read from the activity rows, for a whole page
of lines in one query (``causes_for``). Naming and linking are pure
(``cause_of``, ``describe``). The pages a cause links to are the member's
own (``/orders/<id>``, ``/activities/<id>``): another member's answers 404.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from activities.models import Kind
from activities.tables import Activity

ACTIVITY, ORDER, ADJUSTMENT = "activity", "order", "adjustment"
# cause_ref prefixes a statement line names.
SHOWN_CAUSES = (ACTIVITY, ORDER, ADJUSTMENT)
# The label of each activity kind (catalog keys), and of an activity whose kind is unknown.
ACTIVITY_LABELS = {
    Kind.SERVICE.value: "cause_service",
    Kind.PATROL.value: "cause_patrol",
    Kind.REPORT.value: "cause_report",
}
ACTIVITY_LABEL = "cause_activity"


@dataclass(frozen=True, slots=True)
class Cause:
    """A line's cause as shown: the catalog key of its label (filled with
    ``id``), and the page that shows it (None: nothing to open)."""

    label: str
    id: int
    href: str | None


def cause_of(cause_ref: str) -> tuple[str | None, int | None]:
    """(kind, id) for a cause a line names, else (None, None)."""
    kind, _, rest = cause_ref.partition(":")
    if kind not in SHOWN_CAUSES or not rest.isdigit() or rest.startswith("0"):
        return None, None
    return kind, int(rest)


def order_href(order_id: int) -> str:
    return f"/orders/{order_id}"


def activity_href(activity_id: int) -> str:
    return f"/activities/{activity_id}"


def describe(cause_ref: str, activity_kinds: dict[int, str]) -> Cause | None:
    """The cause of a line; ``activity_kinds`` maps activity ids to their kind."""
    kind, cause_id = cause_of(cause_ref)
    if kind is None or cause_id is None:
        return None
    if kind == ORDER:
        return Cause("cause_order", cause_id, order_href(cause_id))
    if kind == ADJUSTMENT:
        return Cause("cause_adjustment", cause_id, None)
    label = ACTIVITY_LABELS.get(activity_kinds.get(cause_id, ""), ACTIVITY_LABEL)
    return Cause(label, cause_id, activity_href(cause_id))


def activity_ids(cause_refs: Iterable[str]) -> list[int]:
    found = {cause_id for kind, cause_id in map(cause_of, cause_refs) if kind == ACTIVITY and cause_id is not None}
    return sorted(found)


async def activity_kinds(ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await Activity.select(Activity.id, Activity.kind).where(Activity.id.is_in(ids)).run()
    return {int(row["id"]): str(row["kind"]) for row in rows}


async def causes_for(cause_refs: Iterable[str]) -> dict[str, Cause | None]:
    """Every cause_ref's cause, reading the activities' kinds in one query."""
    refs = list(cause_refs)
    kinds = await activity_kinds(activity_ids(refs))
    return {ref: describe(ref, kinds) for ref in refs}
