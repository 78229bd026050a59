"""GET /api/v1/organisations/{id}/overdue: who may read a node's overdue
items (managers over it, post holders at it or above; 404 for everyone
else), paging, and refusals as problem+json.

Its own small tree (not the demo, which grows): 临沂市 (admin) → 兰山区 →
金雀山街道 → 平安社区 (organizer, shop staff) → 第一网格 (volunteer, grid
worker) → 1号楼, and a second grid beside the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from activities.calendar import CHINA_ZONE
from activities.deadline_rules import DeadlinePolicy
from activities.deadlines import escalate_overdue
from activities.tables import Activity
from community.members import register_member
from community.organisations import create_organisation
from community.roles import Level, Role
from core.cursors import encode_cursor

# A Monday long past: the API lists against the real clock, so these items are overdue.
MONDAY_3PM = datetime(2025, 11, 17, 15, tzinfo=CHINA_ZONE)
PASSWORD = "fengling-overdue"
# role → phone of the member holding it (at the node named in the module docstring).
PHONES = {
    Role.VOLUNTEER: "13900000001",
    Role.SHOP_STAFF: "13900000002",
    Role.ORGANIZER: "13900000003",
    Role.ADMIN: "13900000004",
    Role.GRID_WORKER: "13900000005",
}


@dataclass(frozen=True)
class Nodes:
    city: int
    street: int
    community: int
    grid: int
    building: int
    grid_two: int
    volunteer: int


@pytest.fixture
async def nodes() -> Nodes:
    city = (await create_organisation(name_zh="临沂市", level=Level.CITY)).id
    district = (await create_organisation(name_zh="兰山区", level=Level.DISTRICT, parent_id=city)).id
    street = (await create_organisation(name_zh="金雀山街道", level=Level.STREET, parent_id=district)).id
    community = (await create_organisation(name_zh="平安社区", level=Level.COMMUNITY, parent_id=street)).id
    grid = (await create_organisation(name_zh="第一网格", level=Level.GRID, parent_id=community)).id
    building = (await create_organisation(name_zh="1号楼", level=Level.BUILDING, parent_id=grid)).id
    grid_two = (await create_organisation(name_zh="第二网格", level=Level.GRID, parent_id=community)).id
    homes = {
        Role.VOLUNTEER: grid,
        Role.SHOP_STAFF: community,
        Role.ORGANIZER: community,
        Role.ADMIN: city,
        Role.GRID_WORKER: grid,
    }
    members = {
        role: await register_member(
            name=role.value, phone=PHONES[role], password=PASSWORD, home_organisation_id=home, roles=(role,)
        )
        for role, home in homes.items()
    }
    return Nodes(city, street, community, grid, building, grid_two, members[Role.VOLUNTEER].id)


async def _activity(
    nodes: Nodes, organisation: int, due_at: datetime, *, status: str = "submitted", title: str = "路灯损坏"
) -> int:
    inserted = await Activity.insert(
        Activity(
            kind="report",
            status=status,
            member=nodes.volunteer,
            organisation=organisation,
            report_kind="hazard",
            title=title,
            started_at=due_at - timedelta(days=1),
            submitted_at=due_at - timedelta(days=1),
            responsible_organisation=organisation,
            due_at=due_at,
            award_day="",
            award_week="",
        )
    ).run()
    return int(inserted[0]["id"])


async def _login(client: AsyncTestClient[Litestar], role: Role) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={"phone": PHONES[role], "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _url(organisation_id: int) -> str:
    return f"/api/v1/organisations/{organisation_id}/overdue"


async def test_managers_and_post_holders_read_their_nodes_others_get_404(
    client: AsyncTestClient[Litestar], nodes: Nodes
) -> None:
    """Organizer of the community: community and below, not the street above.
    Grid worker: the grid and its building, not the community. Volunteers and
    shop staff hold no verifying role: 404, as for a node that does not exist."""
    organizer = await _login(client, Role.ORGANIZER)
    admin = await _login(client, Role.ADMIN)
    worker = await _login(client, Role.GRID_WORKER)
    volunteer = await _login(client, Role.VOLUNTEER)
    shop_staff = await _login(client, Role.SHOP_STAFF)
    allowed = [
        (organizer, nodes.community),
        (organizer, nodes.grid),
        (organizer, nodes.building),
        (admin, nodes.city),
        (admin, nodes.building),
        (worker, nodes.grid),
        (worker, nodes.building),
    ]
    for headers, node in allowed:
        response = await client.get(_url(node), headers=headers)
        assert response.status_code == 200, (node, response.text)
        assert response.json() == {"items": [], "next_cursor": None}
    refused = [
        (organizer, nodes.street),
        (worker, nodes.community),
        (worker, nodes.grid_two),
        (volunteer, nodes.grid),
        (shop_staff, nodes.community),
        (admin, 999_999),
    ]
    for headers, node in refused:
        response = await client.get(_url(node), headers=headers)
        assert response.status_code == 404, (node, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "organisation_not_found"
    assert (await client.get(_url(nodes.grid))).status_code == 401
    assert (await client.get(_url(2**31), headers=admin)).status_code == 422


async def test_overdue_items_listed_most_urgent_first_with_escalation_state(
    client: AsyncTestClient[Litestar], nodes: Nodes
) -> None:
    """Items escalated by the job show who answers now and their fresh
    deadline, which orders the list (most urgent first); pages follow the
    cursor; the grid worker sees the grid's items, not the second grid's."""
    first = await _activity(nodes, nodes.building, MONDAY_3PM, title="消防通道被占用")
    second = await _activity(nodes, nodes.building, MONDAY_3PM + timedelta(hours=1))
    elsewhere = await _activity(nodes, nodes.grid_two, MONDAY_3PM - timedelta(hours=1), status="verified")
    await _activity(nodes, nodes.building, datetime(2099, 1, 5, 9, tzinfo=CHINA_ZONE))  # not due
    await _activity(nodes, nodes.building, MONDAY_3PM, status="closed")  # done: never listed
    assert await escalate_overdue(now=MONDAY_3PM, policy=DeadlinePolicy()) == 2  # elsewhere, first

    organizer = await _login(client, Role.ORGANIZER)
    response = await client.get(_url(nodes.community), headers=organizer, params={"limit": 2})
    assert response.status_code == 200, response.text
    page = response.json()
    # second: due Mon 16:00 (not escalated yet); first: escalated, due Tue 15:00;
    # elsewhere: a report in handling, escalated with 3 more working days (Thu).
    assert [item["id"] for item in page["items"]] == [second, first]
    escalated = page["items"][1]
    assert escalated["title"] == "消防通道被占用" and escalated["stage"] == "accept" and escalated["overdue"]
    assert escalated["escalations"] == 1 and escalated["organisation_id"] == nodes.building
    assert escalated["responsible_organisation_id"] == nodes.grid
    more = {"limit": 2, "cursor": page["next_cursor"]}
    rest = await client.get(_url(nodes.community), headers=organizer, params=more)
    assert [item["id"] for item in rest.json()["items"]] == [elsewhere]
    assert rest.json()["items"][0]["responsible_organisation_id"] == nodes.community
    assert rest.json()["next_cursor"] is None

    worker = await _login(client, Role.GRID_WORKER)
    mine = await client.get(_url(nodes.grid), headers=worker)
    assert [item["id"] for item in mine.json()["items"]] == [second, first]
    finishing = await client.get(_url(nodes.community), headers=organizer, params={"stage": "finish"})
    assert [item["id"] for item in finishing.json()["items"]] == [elsewhere]
    assert (await client.get(_url(nodes.community), headers=organizer, params={"kind": "patrol"})).json()["items"] == []


BAD_QUERIES: list[tuple[dict[str, str], str]] = [
    ({"cursor": "forged"}, "cursor"),
    ({"cursor": encode_cursor("overdue", 1, 99999999999)}, "cursor"),  # id beyond int4
    ({"cursor": encode_cursor("overdue", -5, 1)}, "cursor"),
    ({"cursor": "x" * 101}, "cursor"),
    ({"limit": "101"}, "limit"),
    ({"limit": "0"}, "limit"),
    ({"stage": "later"}, "stage"),
    ({"kind": "party"}, "kind"),
]


async def test_bad_queries_are_422_problems(client: AsyncTestClient[Litestar], nodes: Nodes) -> None:
    """Forged cursors, page sizes over 100 and unknown filters: 422 naming the parameter, never a 500."""
    worker = await _login(client, Role.GRID_WORKER)
    for params, field in BAD_QUERIES:
        response = await client.get(_url(nodes.grid), headers=worker, params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["field"] == field, params
