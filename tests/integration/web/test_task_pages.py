"""巡逻任务 · 抢单 on the phone over HTTP (no browser), on SQLite and on
PostgreSQL: the list (my claims on top, open tasks with slots left, China
time), a claim and its release, the plain-words refusals (full, already
claimed, window passed, started), who may use the pages, and the patrol
check-in that counts for the claimed task, from a plain form and from the
outbox. The browser journey is in ``tests/browser/test_tasks_in_browser.py``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from activities.tables import PatrolTask
from core.clock import utc_now
from tests.integration.api.conftest import login_headers
from tests.integration.web.test_pages import csrf_from, log_in_page

Client = AsyncTestClient[Litestar]
HERE = {"latitude": "35.05", "longitude": "118.34", "accuracy_m": "8"}
DEMO_CLAIMED = "明晚护学岗巡逻"  # the demo volunteer holds a slot (1 of 4)
DEMO_OPEN = "周末夜巡：学府巷"  # 6 slots, x1.5
OTHER_GRID = "第三网格 晚间巡逻"  # a sibling grid's: not near the demo volunteer
pytestmark = pytest.mark.usefixtures("demo")


async def api_tasks(client: Client, role: str = "volunteer") -> list[dict[str, Any]]:
    listing = await client.get("/api/v1/patrol-tasks", headers=await login_headers(client, role))
    assert listing.status_code == 200, listing.text
    tasks: list[dict[str, Any]] = listing.json()
    return tasks


async def task_named(client: Client, title: str) -> dict[str, Any]:
    return next(task for task in await api_tasks(client) if task["title_zh"] == title)


async def put_up_task(client: Client, title: str, *, starts_in: timedelta, slots: int = 3) -> int:
    """A grab-order task at the demo volunteer's grid, put up by the organiser."""
    grid = (await task_named(client, DEMO_CLAIMED))["organisation_id"]
    starts = utc_now() + starts_in
    created = await client.post(
        "/api/v1/patrol-tasks",
        json={
            "organisation_id": grid,
            "title_zh": title,
            "area": "幸福街",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "slots": slots,
        },
        headers=await login_headers(client, "organizer"),
    )
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def card(page: str, task_id: int) -> str:
    """One task's card on the page."""
    match = re.search(rf'<li class="card task" id="task-{task_id}">(.*?)</li>', page, re.S)
    assert match, f"task {task_id} is not on the page"
    return match.group(1)


def section(page: str, heading_id: str) -> str:
    start = page.index(f'id="{heading_id}"')
    end = page.find("</section>", start)
    return page[start:end]


async def test_the_page_shows_my_claim_on_top_and_the_open_tasks_near_me_with_slots_left(client: Client) -> None:
    await log_in_page(client)
    page = await client.get("/earn/tasks")
    assert page.status_code == 200
    claimed, grabbable = await task_named(client, DEMO_CLAIMED), await task_named(client, DEMO_OPEN)
    mine = section(page.text, "tasks-mine")
    assert DEMO_CLAIMED in mine and DEMO_OPEN not in mine
    mine_card = card(page.text, claimed["id"])
    assert "已抢到，等签到" in mine_card and "还剩 3 个（共 4 个）" in mine_card and "北京时间" in mine_card
    assert "取消抢单" in mine_card and "/claim" not in mine_card
    open_card = card(section(page.text, "tasks-open"), grabbable["id"])
    assert "还剩 6 个（共 6 个）" in open_card and "× 1.5 倍" in open_card and "平安路—幸福街—学府巷" in open_card
    assert "还没抢" in open_card and f'action="/earn/tasks/{grabbable["id"]}/claim"' in open_card
    assert OTHER_GRID not in page.text
    # Reachable from home, the earn menu and the patrol page.
    for path in ("/", "/earn", "/earn/patrol"):
        assert 'href="/earn/tasks"' in (await client.get(path)).text, path


async def test_grabbing_a_slot_and_giving_it_back_moves_the_task_and_the_count(client: Client) -> None:
    await log_in_page(client)
    task = await task_named(client, DEMO_OPEN)
    page = await client.get("/earn/tasks")
    claimed = await client.post(f"/earn/tasks/{task['id']}/claim", data={"_csrf_token": csrf_from(page.text)})
    assert claimed.status_code == 303
    assert claimed.headers["location"] == f"/earn/tasks?n=task_claimed#task-{task['id']}"
    after = (await client.get("/earn/tasks?n=task_claimed")).text
    assert "抢到了！" in after
    assert "还剩 5 个（共 6 个）" in card(section(after, "tasks-mine"), task["id"])
    assert (await task_named(client, DEMO_OPEN))["my_claim"] == "claimed"
    released = await client.post(f"/earn/tasks/{task['id']}/release", data={"_csrf_token": csrf_from(after)})
    assert released.status_code == 303 and released.headers["location"] == "/earn/tasks?n=task_released"
    again = (await client.get("/earn/tasks?n=task_released")).text
    assert "已取消，名额留给别人了" in again
    assert "还剩 6 个（共 6 个）" in card(section(again, "tasks-open"), task["id"])
    assert (await task_named(client, DEMO_OPEN))["my_claim"] == "released"


async def test_a_full_task_says_so_in_plain_words_and_takes_no_slot(client: Client) -> None:
    task_id = await put_up_task(client, "一个名额的夜巡", starts_in=timedelta(hours=5), slots=1)
    await log_in_page(client)
    page = await client.get("/earn/tasks")
    assert "一个名额的夜巡" in section(page.text, "tasks-open")
    taken = await client.post(
        f"/api/v1/patrol-tasks/{task_id}/claim", headers=await login_headers(client, "grid_worker")
    )
    assert taken.status_code == 201, taken.text
    refused = await client.post(f"/earn/tasks/{task_id}/claim", data={"_csrf_token": csrf_from(page.text)})
    assert refused.status_code == 409
    assert "名额已满" in refused.text and "flash-error" in refused.text
    assert "一个名额的夜巡" not in refused.text  # no longer listed: no slot left
    claims = await client.get(
        f"/api/v1/patrol-tasks/{task_id}/claims", headers=await login_headers(client, "organizer")
    )
    assert [claim["status"] for claim in claims.json()] == ["claimed"]


async def test_a_second_claim_and_a_claim_after_the_window_are_refused_in_plain_words(client: Client) -> None:
    await log_in_page(client)
    page = await client.get("/earn/tasks")
    token = csrf_from(page.text)
    mine = await task_named(client, DEMO_CLAIMED)
    twice = await client.post(f"/earn/tasks/{mine['id']}/claim", data={"_csrf_token": token})
    assert twice.status_code == 409 and "您已经抢到这个任务了" in twice.text
    task_id = await put_up_task(client, "已经结束的夜巡", starts_in=timedelta(hours=1))
    now = utc_now()
    await PatrolTask.update({PatrolTask.starts_at: now - timedelta(hours=3), PatrolTask.ends_at: now}).where(
        PatrolTask.id == task_id
    )
    late = await client.post(f"/earn/tasks/{task_id}/claim", data={"_csrf_token": token})
    assert late.status_code == 409 and "时间已经过了" in late.text
    assert (await task_named(client, "已经结束的夜巡"))["my_claim"] is None


async def test_a_started_task_can_no_longer_be_given_back(client: Client) -> None:
    task_id = await put_up_task(client, "马上开始的夜巡", starts_in=timedelta(hours=1))
    await log_in_page(client)
    page = await client.get("/earn/tasks")
    assert (await client.post(f"/earn/tasks/{task_id}/claim", data={"_csrf_token": csrf_from(page.text)})).is_redirect
    await PatrolTask.update({PatrolTask.starts_at: utc_now() - timedelta(minutes=5)}).where(PatrolTask.id == task_id)
    page = await client.get("/earn/tasks")
    assert "取消抢单" not in card(page.text, task_id) and "去巡逻签到" in card(page.text, task_id)
    refused = await client.post(f"/earn/tasks/{task_id}/release", data={"_csrf_token": csrf_from(page.text)})
    assert refused.status_code == 409 and "任务已经开始，不能取消了" in refused.text
    assert (await task_named(client, "马上开始的夜巡"))["my_claim"] == "claimed"


async def test_the_pages_need_a_session_a_csrf_token_and_hide_what_is_not_mine(client: Client) -> None:
    anonymous = await client.get("/earn/tasks")
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login"
    assert (await client.post("/earn/tasks/1/claim")).status_code in {303, 403}
    await log_in_page(client)
    grabbable = await task_named(client, DEMO_OPEN)
    assert (await client.post(f"/earn/tasks/{grabbable['id']}/claim")).status_code == 403  # no CSRF token
    assert (await task_named(client, DEMO_OPEN))["my_claim"] is None
    token = csrf_from((await client.get("/earn/tasks")).text)
    # A sibling grid's task answers like a missing one; a claim I do not hold is not found.
    other_grid = next(t for t in await api_tasks(client, "organizer") if t["title_zh"] == OTHER_GRID)
    for task_id in (other_grid["id"], 2**31 - 1):
        missing = await client.post(f"/earn/tasks/{task_id}/claim", data={"_csrf_token": token})
        assert missing.status_code == 404 and "页面不存在" in missing.text, task_id
    not_held = await client.post(f"/earn/tasks/{grabbable['id']}/release", data={"_csrf_token": token})
    assert not_held.status_code == 404
    # Bad ids in the path: a clear 4xx, never a 500.
    for path in ("/earn/tasks/abc/claim", "/earn/tasks/0/claim", "/earn/tasks/99999999999/release"):
        assert 400 <= (await client.post(path, data={"_csrf_token": token})).status_code < 500, path


async def test_a_member_who_cannot_earn_is_not_offered_tasks_and_is_refused_a_claim(client: Client) -> None:
    await log_in_page(client, "organizer")
    page = await client.get("/earn/tasks")
    assert page.status_code == 200
    assert "附近暂时没有可以抢的巡逻任务" in page.text and "/claim" not in page.text
    grabbable = await task_named(client, DEMO_OPEN)
    token = csrf_from((await client.get("/me")).text)
    refused = await client.post(f"/earn/tasks/{grabbable['id']}/claim", data={"_csrf_token": token})
    assert refused.status_code == 403 and "只给本片区的志愿者" in refused.text


async def test_the_patrol_check_in_counts_for_the_claimed_task_whose_window_is_open(client: Client) -> None:
    task_id = await put_up_task(client, "今晚的护学岗", starts_in=timedelta(minutes=10))
    await log_in_page(client)
    tasks = await client.get("/earn/tasks")
    await client.post(f"/earn/tasks/{task_id}/claim", data={"_csrf_token": csrf_from(tasks.text)})
    patrol = await client.get("/earn/patrol")
    assert "本次巡逻计入任务：<strong>今晚的护学岗</strong>" in patrol.text
    assert f'name="patrol_task_id" value="{task_id}"' in patrol.text
    # The demo's own claim (tomorrow evening) is not offered: its window is not open.
    assert DEMO_CLAIMED not in patrol.text
    checked_in = await client.post(
        "/earn/patrol/check-in",
        data={**HERE, "patrol_task_id": str(task_id), "_csrf_token": csrf_from(patrol.text)},
    )
    assert checked_in.status_code == 303, checked_in.text
    walking = await client.get("/earn/patrol")
    assert "本次巡逻计入任务：<strong>今晚的护学岗</strong>" in walking.text
    assert 'name="patrol_task_id"' not in walking.text  # the claim is used: nothing more to link
    claims = await client.get(
        f"/api/v1/patrol-tasks/{task_id}/claims", headers=await login_headers(client, "organizer")
    )
    [claim] = claims.json()
    assert claim["status"] == "checked_in" and claim["activity_id"] is not None
    assert "已签到巡逻" in card((await client.get("/earn/tasks")).text, task_id)


async def test_a_plain_check_in_for_a_task_not_grabbed_comes_back_in_plain_words_and_records_nothing(
    client: Client,
) -> None:
    task_id = await put_up_task(client, "没抢到的夜巡", starts_in=timedelta(minutes=10))
    await log_in_page(client)
    patrol = await client.get("/earn/patrol")
    refused = await client.post(
        "/earn/patrol/check-in",
        data={**HERE, "patrol_task_id": str(task_id), "_csrf_token": csrf_from(patrol.text)},
    )
    assert refused.status_code == 422
    assert "没有提交成功：您没有抢到这个任务，这次巡逻不能计入它。" in refused.text
    assert 'id="walking" hidden' in refused.text  # no patrol was started


async def test_an_outbox_check_in_carries_the_task_and_a_retry_is_one_patrol(client: Client) -> None:
    task_id = await put_up_task(client, "离线签到的夜巡", starts_in=timedelta(minutes=20))
    await log_in_page(client)
    tasks = await client.get("/earn/tasks")
    await client.post(f"/earn/tasks/{task_id}/claim", data={"_csrf_token": csrf_from(tasks.text)})
    headers = {"X-Fengling-Outbox": "1", "X-CSRFToken": csrf_from(tasks.text)}
    fields = {
        **HERE,
        "patrol_task_id": str(task_id),
        "client_ref": "phone-task-1",
        "client_recorded_at": utc_now().isoformat(),
    }
    first = await client.post("/earn/patrol/check-in", data=fields, headers=headers)
    assert first.status_code == 200, first.text
    again = await client.post("/earn/patrol/check-in", data=fields, headers=headers)
    assert again.json() == {**first.json(), "replayed": True}
    claims = await client.get(
        f"/api/v1/patrol-tasks/{task_id}/claims", headers=await login_headers(client, "organizer")
    )
    assert [(c["status"], c["activity_id"]) for c in claims.json()] == [("checked_in", first.json()["activity_id"])]
    # A bad task id from the phone: a problem naming the field, never a 500.
    bad = await client.post(
        "/earn/patrol/check-in", data={**fields, "patrol_task_id": "x1", "client_ref": "phone-task-2"}, headers=headers
    )
    assert bad.status_code == 422 and bad.json()["field"] == "patrol_task_id"


async def test_the_tasks_page_is_in_english_for_an_english_member(client: Client) -> None:
    await log_in_page(client)
    page = await client.get("/me")
    await client.post(
        "/me/preferences", data={"preferred_language": "en", "elder_mode": "0", "_csrf_token": csrf_from(page.text)}
    )
    english = (await client.get("/earn/tasks")).text
    assert "My tasks" in english and "Grab a slot" in english and "China time" in english and "left of" in english


# Who may do what on the pages, per demo role: the pages are not in the
# OpenAPI document (``include_in_schema=False``), so the API's authorisation
# matrix cannot list them; this table is their matrix. "same": a task at the
# volunteer's grid; "foreign": a sibling grid's; "not held": a task nobody
# claimed; "own": the demo volunteer's own claim.
ROLES = ("anonymous", "volunteer", "grid_worker", "shop_staff", "organizer", "admin")
EXPECT: dict[str, dict[str, int]] = {
    "list": {"anonymous": 303, **dict.fromkeys(ROLES[1:], 200)},
    # Who cannot earn sees the task but may not grab it (403, the reason in words).
    "claim same": {"anonymous": 303, "volunteer": 303, "grid_worker": 303, **dict.fromkeys(ROLES[3:], 403)},
    # A sibling grid's task is hidden from the grid's members (404 like a missing
    # one); those above both grids see it and still may not grab it.
    "claim foreign": {"anonymous": 303, "volunteer": 404, "grid_worker": 404, **dict.fromkeys(ROLES[3:], 403)},
    "release not held": {"anonymous": 303, **dict.fromkeys(ROLES[1:], 404)},
    "release own": {"anonymous": 303, "volunteer": 303, **dict.fromkeys(ROLES[2:], 404)},
}


async def test_each_role_gets_the_answer_the_policy_asks_for_and_refusals_change_nothing(client: Client) -> None:
    same = await put_up_task(client, "十个名额的夜巡", starts_in=timedelta(hours=6), slots=10)
    organiser = await login_headers(client, "organizer")
    by_title = {task["title_zh"]: task["id"] for task in await api_tasks(client, "organizer")}
    targets = {
        "same": same,
        "foreign": by_title[OTHER_GRID],
        "not held": by_title[DEMO_OPEN],
        "own": by_title[DEMO_CLAIMED],
    }

    async def claims(task_id: int) -> list[tuple[int, str]]:
        listed = await client.get(f"/api/v1/patrol-tasks/{task_id}/claims", headers=organiser)
        return [(claim["member_id"], claim["status"]) for claim in listed.json()]

    failures = []
    for role in ROLES:
        client.cookies.clear()
        if role == "anonymous":
            token = csrf_from((await client.get("/login")).text)
        else:
            await log_in_page(client, role)
            token = csrf_from((await client.get("/me")).text)
        cells = [("list", "GET", "/earn/tasks", None)] + [
            (f"{verb} {target}", "POST", f"/earn/tasks/{targets[target]}/{verb}", targets[target])
            for verb, target in (("claim", "same"), ("claim", "foreign"), ("release", "not held"), ("release", "own"))
        ]
        for cell, method, path, task_id in cells:
            before = await claims(task_id) if task_id else None
            if method == "GET":
                response = await client.get(path)
            else:
                response = await client.post(path, data={"_csrf_token": token})
            expected = EXPECT[cell][role]
            if response.status_code != expected:
                failures.append(f"{cell} as {role}: {response.status_code}, expected {expected}")
            if expected == 303 and role == "anonymous" and response.headers.get("location") != "/login":
                failures.append(f"{cell} as {role}: not sent to the login page")
            if expected >= 400 and task_id and await claims(task_id) != before:
                failures.append(f"{cell} as {role}: a refusal changed the claims")
            if expected >= 400 and "text/html" not in response.headers.get("content-type", ""):
                failures.append(f"{cell} as {role}: a refusal is not a page")
    assert not failures, "\n".join(failures)
