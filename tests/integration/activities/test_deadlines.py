"""Response deadlines and escalation, on a frozen clock (every call gets ``now=``).

The tree is city → district → street → community → grid → building; items
happen at the building, so an unanswered one climbs building → grid →
community → … → city and then stays at the root.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from typer.testing import CliRunner

from activities.calendar import CHINA_ZONE
from activities.deadline_rules import DeadlinePolicy, accept_due, finish_due
from activities.deadlines import InvalidOverdueQuery, escalate_overdue, list_overdue
from activities.tables import Activity, Escalation
from admin.cli import app as cli_app
from community.members import register_member
from community.organisations import create_organisation
from community.roles import Level
from core.cursors import encode_cursor
from core.errors import InvalidCursor

POLICY = DeadlinePolicy()  # 1 / 3 / 5 working days, Monday to Friday only


def cst(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=CHINA_ZONE)


# 2026-11-20 is a Friday; 21/22 the weekend; 23 Monday.
FRIDAY_3PM = cst(2026, 11, 20, 15)
MONDAY_3PM = cst(2026, 11, 23, 15)


@dataclass(frozen=True)
class Tree:
    city: int
    district: int
    street: int
    community: int
    grid: int
    building: int
    member: int

    def upwards(self) -> list[int]:
        return [self.building, self.grid, self.community, self.street, self.district, self.city]


async def build_tree() -> Tree:
    city = await create_organisation(name_zh="临沂市", level=Level.CITY)
    district = await create_organisation(name_zh="兰山区", level=Level.DISTRICT, parent_id=city.id)
    street = await create_organisation(name_zh="金雀山街道", level=Level.STREET, parent_id=district.id)
    community = await create_organisation(name_zh="平安社区", level=Level.COMMUNITY, parent_id=street.id)
    grid = await create_organisation(name_zh="第一网格", level=Level.GRID, parent_id=community.id)
    building = await create_organisation(name_zh="1号楼", level=Level.BUILDING, parent_id=grid.id)
    member = await register_member(
        name="张秀英", phone="13800000001", password="fengling-volunteer", home_organisation_id=building.id
    )
    return Tree(city.id, district.id, street.id, community.id, grid.id, building.id, member.id)


@pytest.fixture
async def tree() -> Tree:
    return await build_tree()


async def add_activity(
    tree: Tree,
    *,
    due_at: datetime | None,
    kind: str = "report",
    status: str = "submitted",
    organisation: int | None = None,
    responsible: int | None = None,
    complex: bool = False,
    title: str = "消防通道被占用",
) -> int:
    """An activity row as the activity services leave it on entering a stage."""
    place = organisation or tree.building
    inserted = await Activity.insert(
        Activity(
            kind=kind,
            status=status,
            member=tree.member,
            organisation=place,
            report_kind="hazard" if kind == "report" else "",
            title=title,
            started_at=FRIDAY_3PM - timedelta(hours=1),
            submitted_at=FRIDAY_3PM,
            responsible_organisation=responsible or place,
            due_at=due_at,
            complex=complex,
            award_day="",
            award_week="",
        )
    ).run()
    return int(inserted[0]["id"])


async def row(activity_id: int) -> dict[str, Any]:
    return dict((await Activity.select().where(Activity.id == activity_id).run())[0])


async def escalations(activity_id: int) -> list[dict[str, Any]]:
    return list(await Escalation.select().where(Escalation.activity == activity_id).order_by(Escalation.id).run())


# --- escalation -------------------------------------------------------------------------------------


async def test_not_overdue_before_the_deadline_escalated_one_level_at_it(tree: Tree) -> None:
    """Submitted Friday 15:00, due Monday 15:00: nothing happens a second before;
    at 15:00 the building's item becomes the grid's, with a new 1-day deadline."""
    item = await add_activity(tree, due_at=accept_due(FRIDAY_3PM, policy=POLICY))
    assert await escalate_overdue(now=MONDAY_3PM - timedelta(seconds=1), policy=POLICY) == 0
    before = await row(item)
    assert (before["overdue"], before["escalations"], before["responsible_organisation"]) == (False, 0, tree.building)
    assert await escalations(item) == []

    assert await escalate_overdue(now=MONDAY_3PM, policy=POLICY) == 1
    after = await row(item)
    assert after["overdue"] is True and after["escalations"] == 1
    assert after["responsible_organisation"] == tree.grid
    assert after["due_at"] == cst(2026, 11, 24, 15)  # one more working day, counted from now
    [record] = await escalations(item)
    assert record["stage"] == "accept"
    assert (record["from_organisation"], record["to_organisation"]) == (tree.building, tree.grid)
    assert record["due_at"] == MONDAY_3PM and record["escalated_at"] == MONDAY_3PM


async def test_unanswered_item_climbs_one_level_per_missed_deadline_and_stays_at_the_root(tree: Tree) -> None:
    """Each missed day moves it one level: building → grid → … → city; at the
    root it stays, but each further miss is still recorded and counted."""
    item = await add_activity(tree, due_at=MONDAY_3PM)
    now = MONDAY_3PM
    levels = tree.upwards()
    for level, (lower, upper) in enumerate(pairwise(levels), start=1):
        # A little after the deadline: once, not twice, however late the job runs.
        assert await escalate_overdue(now=now + timedelta(minutes=5), policy=POLICY) == 1
        current = await row(item)
        assert current["responsible_organisation"] == upper and current["escalations"] == level
        assert (await escalations(item))[-1]["from_organisation"] == lower
        now = current["due_at"]
        assert now.astimezone(CHINA_ZONE).weekday() < 5  # deadlines land on working days
    assert await escalate_overdue(now=now, policy=POLICY) == 1
    at_root = await row(item)
    assert at_root["responsible_organisation"] == tree.city and at_root["escalations"] == len(levels)
    last = (await escalations(item))[-1]
    assert last["from_organisation"] == last["to_organisation"] == tree.city


async def test_complex_report_in_handling_gets_five_working_days(tree: Tree) -> None:
    """A complex report accepted Monday 10:00 is not late on Friday (day 4) nor
    at 9:59 the Monday after; at 10:00 it escalates with another 5 days."""
    accepted = cst(2026, 11, 23, 10)
    item = await add_activity(tree, status="assigned", complex=True, due_at=finish_due(accepted, complex=True))
    simple = await add_activity(tree, status="verified", due_at=finish_due(accepted, complex=False))
    assert await escalate_overdue(now=cst(2026, 11, 26, 9, 59), policy=POLICY) == 0
    assert await escalate_overdue(now=cst(2026, 11, 26, 10), policy=POLICY) == 1  # the simple one, 3 days
    assert (await row(simple))["due_at"] == cst(2026, 12, 1, 10)
    assert await escalate_overdue(now=cst(2026, 11, 30, 9, 59), policy=POLICY) == 0
    assert await escalate_overdue(now=cst(2026, 11, 30, 10), policy=POLICY) == 1
    escalated = await row(item)
    assert escalated["due_at"] == cst(2026, 12, 7, 10) and escalated["responsible_organisation"] == tree.grid
    assert [record["stage"] for record in await escalations(item)] == ["finish"]


CLOSED_OR_WAITING = [
    ("report", "rejected"),
    ("report", "closed"),
    ("report", "handled"),  # waiting for the reporter's rating
    ("patrol", "checked_in"),  # still under way
    ("service", "verified"),  # service logs and patrols end at verified
    ("patrol", "verified"),
    ("service", "rejected"),
]


async def test_items_without_an_open_stage_never_escalate(tree: Tree) -> None:
    """Even with a stale due_at long past, a finished or waiting-on-the-reporter item is left alone."""
    items = [await add_activity(tree, kind=k, status=status, due_at=FRIDAY_3PM) for k, status in CLOSED_OR_WAITING]
    assert await escalate_overdue(now=MONDAY_3PM + timedelta(days=30), policy=POLICY) == 0
    for item in items:
        assert (await row(item))["overdue"] is False
        assert await escalations(item) == []
    page = await list_overdue(tree.city, cursor=None, limit=100, now=MONDAY_3PM + timedelta(days=30))
    assert page.items == []


async def test_running_twice_at_the_same_now_escalates_once(tree: Tree) -> None:
    """Sequential re-runs and concurrent workers at one ``now`` escalate each item once."""
    items = [await add_activity(tree, due_at=MONDAY_3PM) for _ in range(3)]
    assert await escalate_overdue(now=MONDAY_3PM, policy=POLICY) == 3
    assert await escalate_overdue(now=MONDAY_3PM, policy=POLICY) == 0
    # The next day, four workers race over the same overdue items.
    next_day = cst(2026, 11, 24, 15)
    results = await asyncio.gather(*(escalate_overdue(now=next_day, policy=POLICY) for _ in range(4)))
    assert sum(results) == 3
    for item in items:
        current = await row(item)
        assert current["escalations"] == 2 and current["responsible_organisation"] == tree.community
        assert len(await escalations(item)) == 2


async def test_batches_cover_the_whole_backlog(tree: Tree) -> None:
    """More overdue items than one batch: every one is escalated in one run."""
    for _ in range(5):
        await add_activity(tree, due_at=MONDAY_3PM)
    await add_activity(tree, due_at=MONDAY_3PM + timedelta(days=1))  # not yet due
    assert await escalate_overdue(now=MONDAY_3PM, batch_size=2, policy=POLICY) == 5


def test_cli_escalate_with_a_frozen_now() -> None:
    """``fengling activities escalate --now`` escalates what is due at that time (China time if no zone)."""

    async def setup() -> int:
        tree = await build_tree()
        return await add_activity(tree, due_at=accept_due(FRIDAY_3PM))

    item = asyncio.run(setup())
    runner = CliRunner()
    early = runner.invoke(cli_app, ["activities", "escalate", "--now", "2026-11-23T14:59"])
    assert early.exit_code == 0, early.output
    assert "escalated 0" in early.output
    due = runner.invoke(cli_app, ["activities", "escalate", "--now", "2026-11-23T07:00:00+00:00"])
    assert due.exit_code == 0 and "escalated 1" in due.output, due.output
    assert asyncio.run(row(item))["escalations"] == 1
    bad = runner.invoke(cli_app, ["activities", "escalate", "--now", "next monday"])
    assert bad.exit_code == 2 and "--now must be an ISO time" in bad.output


# --- the overdue list -------------------------------------------------------------------------------


async def test_overdue_list_covers_the_subtree_and_what_is_escalated_to_it(tree: Tree) -> None:
    """A node lists overdue items that happened below it, and items that are
    now its (or its subtree's) responsibility even if they happened elsewhere;
    items not yet due and nodes elsewhere see nothing."""
    grid_two = (await create_organisation(name_zh="第二网格", level=Level.GRID, parent_id=tree.community)).id
    grid_three = (await create_organisation(name_zh="第三网格", level=Level.GRID, parent_id=tree.community)).id
    here = await add_activity(tree, due_at=MONDAY_3PM)
    # Happened in grid one, handed to grid two for handling (as the activity code may do).
    handed = await add_activity(tree, status="assigned", due_at=MONDAY_3PM, responsible=grid_two)
    await add_activity(tree, due_at=cst(2026, 11, 30, 15))  # due later: not overdue
    assert await escalate_overdue(now=MONDAY_3PM, policy=POLICY) == 2  # handed → community now

    after = cst(2026, 11, 23, 16)

    async def listed(organisation_id: int) -> set[int]:
        page = await list_overdue(organisation_id, cursor=None, limit=100, now=after)
        return {item.id for item in page.items}

    assert await listed(tree.building) == {here, handed}  # happened there
    assert await listed(tree.community) == {here, handed}
    assert await listed(tree.city) == {here, handed}
    assert await listed(grid_two) == set()  # no longer responsible: escalated to the community
    assert await listed(grid_three) == set()
    # Before the job runs, an item past due already counts as overdue for its node.
    late = await add_activity(tree, organisation=grid_three, due_at=cst(2026, 11, 23, 15, 30))
    assert await listed(grid_three) == {late}
    # Escalated to a node outside the place's own chain: listed there.
    away = await add_activity(tree, status="verified", due_at=MONDAY_3PM, responsible=grid_three)
    assert await listed(grid_three) == {late, away}

    page = await list_overdue(tree.community, cursor=None, limit=100, now=after, stage="finish")
    assert {item.id for item in page.items} == {handed, away}
    assert all(item.stage == "finish" for item in page.items)
    page = await list_overdue(tree.community, cursor=None, limit=100, now=after, kind="service")
    assert page.items == []


async def test_overdue_list_pages_oldest_deadline_first(tree: Tree) -> None:
    """Keyset pages of 2 walk the items in (due_at, id) order, each once, ties included."""
    dues = [MONDAY_3PM + timedelta(minutes=n) for n in (3, 1, 2, 1, 0)]
    ids = [await add_activity(tree, due_at=due) for due in dues]
    expected = [item for _, item in sorted(zip(dues, ids, strict=True))]
    seen: list[int] = []
    cursor: str | None = None
    for _ in range(10):
        page = await list_overdue(tree.grid, cursor=cursor, limit=2, now=cst(2026, 11, 23, 16))
        seen += [item.id for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected
    first = (await list_overdue(tree.grid, cursor=None, limit=1, now=cst(2026, 11, 23, 16))).items[0]
    assert first.due_at == MONDAY_3PM and first.title == "消防通道被占用" and first.kind == "report"
    assert first.organisation_id == first.responsible_organisation_id == tree.building


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "",
        _b64("overdue:1:2:3"),
        encode_cursor("statement", 1000, 1),  # another list's cursor
        encode_cursor("overdue", 1000, 2**31),  # id beyond the column
        encode_cursor("overdue", -1, 1),
        _b64(f"overdue:{2**62}:1"),  # beyond any datetime
        _b64("o:1000:1"),  # the codec this list had before core.cursors
        "%%%",
        "A" * 500,
    ],
)
async def test_forged_cursors_are_refused(cursor: str) -> None:
    """Anything the list did not hand out is InvalidCursor on ``cursor``, never a driver error."""
    with pytest.raises(InvalidCursor) as refused:
        await list_overdue(1, cursor=cursor, limit=10)
    assert refused.value.field == "cursor"


async def test_list_arguments_are_checked() -> None:
    """Page size 1-100 and known stage/kind names only."""
    for kwargs, field in (({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"stage": "x"}, "stage")):
        with pytest.raises(InvalidOverdueQuery) as refused:
            await list_overdue(1, cursor=None, **kwargs)
        assert refused.value.field == field
    with pytest.raises(InvalidOverdueQuery):
        await list_overdue(1, cursor=None, limit=10, kind="party")
