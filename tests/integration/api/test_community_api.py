"""Community over HTTP: the tree, posts, members and their invitations,
phone masking, teams and the CSV import. Each test builds the small tree of
``tests/support/community_helpers.py`` (临沂市 → … → 平安社区 → 第一网格 /
第二网格, and 邻里社区 beside it, one person per role) rather than the demo:
it is a fraction of the demo's cost on PostgreSQL and does not change when
the demo grows."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from community.tables import AuditEvent, Invitation
from core.clock import utc_now
from tests.support.community_helpers import PASSWORD, Tree, build_tree, counts, member_csv

Client = AsyncTestClient[Litestar]
ADMIN_PHONE = "13900000001"
ORGANISER_PHONE = "13900000002"
GRID_WORKER_PHONE = "13900000003"
VOLUNTEER_PHONE = "13900000004"
NEIGHBOUR_PHONE = "13900000005"
OUTSIDER_PHONE = "13900000006"
VOLUNTEER_MASKED = "139****0004"


@pytest.fixture
async def tree() -> Tree:
    return await build_tree()


async def _login(client: Client, phone: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={"phone": phone, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _is_problem(response: object, status: int, code: str) -> bool:
    assert getattr(response, "status_code", None) == status, getattr(response, "text", "")
    assert response.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    assert response.json()["code"] == code, response.json()  # type: ignore[attr-defined]
    return True


async def _actions(target_ref: str) -> list[str]:
    rows = (
        await AuditEvent.select(AuditEvent.action)
        .where(AuditEvent.target_ref == target_ref)
        .order_by(AuditEvent.id)
        .run()
    )
    return [row["action"] for row in rows]


# --- organisations -----------------------------------------------------------


async def test_an_organiser_adds_nodes_below_only_and_only_an_admin_makes_an_issuer(client: Client, tree: Tree) -> None:
    d = tree
    organiser = await _login(client, ORGANISER_PHONE)
    url = "/api/v1/organisations"
    grid = await client.post(
        url, json={"parent_id": d.community, "level": "grid", "name_zh": "第三网格"}, headers=organiser
    )
    assert grid.status_code == 201, grid.text
    assert grid.json()["parent_id"] == d.community and grid.json()["issues_points"] is False
    assert await _actions(f"org:{grid.json()['id']}") == ["organisation.create"]
    lane = await client.post(
        url, json={"parent_id": grid.json()["id"], "level": "lane", "name_zh": "幸福弄"}, headers=organiser
    )
    assert lane.status_code == 201
    street = await client.post(
        url, json={"parent_id": d.community, "level": "street", "name_zh": "错"}, headers=organiser
    )
    assert _is_problem(street, 422, "invalid_organisation_data") and street.json()["field"] == "level"
    issuer = {"parent_id": d.community, "level": "grid", "name_zh": "发行网格", "issues_points": True}
    assert _is_problem(await client.post(url, json=issuer, headers=organiser), 403, "forbidden")
    admin = await _login(client, ADMIN_PHONE)
    assert (await client.post(url, json=issuer, headers=admin)).status_code == 201
    elsewhere = {"parent_id": d.other_community, "level": "grid", "name_zh": "越权网格"}
    assert (await client.post(url, json=elsewhere, headers=organiser)).status_code in (403, 404)
    volunteer = await _login(client, VOLUNTEER_PHONE)
    assert _is_problem(await client.post(url, json=elsewhere, headers=volunteer), 403, "forbidden")


async def test_members_read_the_tree_they_live_in_and_nothing_beside_it(client: Client, tree: Tree) -> None:
    d = tree
    volunteer = await _login(client, VOLUNTEER_PHONE)
    assert (await client.get(f"/api/v1/organisations/{d.city}", headers=volunteer)).json()["level"] == "city"
    assert _is_problem(
        await client.get(f"/api/v1/organisations/{d.grid2}", headers=volunteer), 404, "organisation_not_found"
    )
    organiser = await _login(client, ORGANISER_PHONE)
    children = await client.get(f"/api/v1/organisations/{d.community}/children", headers=organiser)
    assert {d.grid1, d.grid2} <= {o["id"] for o in children.json()["organisations"]}
    assert {o["parent_id"] for o in children.json()["organisations"]} == {d.community}
    seen: list[int] = []
    cursor = ""
    for _ in range(10):
        page = (
            await client.get(f"/api/v1/organisations/{d.community}/subtree?limit=2{cursor}", headers=organiser)
        ).json()
        assert len(page["organisations"]) <= 2
        seen += [o["id"] for o in page["organisations"]]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == sorted(set(seen)) and {d.community, d.grid1, d.grid2} <= set(seen)
    assert d.other_community not in seen


async def test_list_cursors_are_opaque_and_only_their_own_list_takes_them(client: Client, tree: Tree) -> None:
    """The subtree, children and member lists hand out opaque strings
    (``core/cursors.py``); a forged cursor, a bare id or another list's
    cursor is a 422 naming ``cursor``, and an id out of range in the path
    is a 422 before anything is looked up."""
    d = tree
    organiser = await _login(client, ORGANISER_PHONE)
    subtree = (await client.get(f"/api/v1/organisations/{d.community}/subtree?limit=1", headers=organiser)).json()
    members = (await client.get(f"/api/v1/members?organisation_id={d.grid1}&limit=1", headers=organiser)).json()
    children = (await client.get(f"/api/v1/organisations/{d.community}/children?limit=1", headers=organiser)).json()
    for cursor in (subtree["next_cursor"], members["next_cursor"], children["next_cursor"]):
        assert isinstance(cursor, str) and not cursor.isdigit()
    following = await client.get(
        f"/api/v1/members?organisation_id={d.grid1}&limit=1&cursor={members['next_cursor']}", headers=organiser
    )
    assert following.status_code == 200
    assert [m["id"] for m in following.json()["members"]] != [m["id"] for m in members["members"]]
    for wrong in (str(d.grid1), "not-a-cursor", subtree["next_cursor"]):
        answer = await client.get(f"/api/v1/members?organisation_id={d.grid1}&cursor={wrong}", headers=organiser)
        assert _is_problem(answer, 422, "invalid_cursor") and answer.json()["field"] == "cursor"
    wrong_list = await client.get(
        f"/api/v1/organisations/{d.community}/subtree?cursor={children['next_cursor']}", headers=organiser
    )
    assert _is_problem(wrong_list, 422, "invalid_cursor")
    for path in ("/api/v1/organisations/2147483648", "/api/v1/organisations/0/subtree", "/api/v1/members/2147483648"):
        assert _is_problem(await client.get(path, headers=organiser), 422, "validation_error")


# --- posts -------------------------------------------------------------------


async def test_posts_are_granted_listed_and_revoked_with_audit_rows(client: Client, tree: Tree) -> None:
    d = tree
    organiser = await _login(client, ORGANISER_PHONE)
    posts = f"/api/v1/organisations/{d.grid1}/posts"
    granted = await client.post(posts, json={"member_id": d.volunteer, "role": "building_head"}, headers=organiser)
    assert granted.status_code == 200, granted.text
    assert {"organisation_id": d.grid1, "role": "building_head"} in granted.json()["roles"]
    listed = (await client.get(f"{posts}?role=building_head", headers=organiser)).json()
    assert [(h["member_id"], h["phone"], h["role_name_zh"]) for h in listed] == [
        (d.volunteer, VOLUNTEER_PHONE, "楼栋长")
    ]
    # A post holder sees the holders, with masked phones.
    worker = await _login(client, GRID_WORKER_PHONE)
    as_worker = (await client.get(f"{posts}?role=building_head", headers=worker)).json()
    assert as_worker[0]["phone"] == VOLUNTEER_MASKED
    revoked = await client.delete(f"{posts}/{d.volunteer}/building_head", headers=organiser)
    assert revoked.status_code == 204
    assert _is_problem(
        await client.delete(f"{posts}/{d.volunteer}/building_head", headers=organiser), 404, "grant_not_found"
    )
    assert _is_problem(await client.delete(f"{posts}/{d.volunteer}/captain", headers=organiser), 422, "invalid_role")
    assert await _actions(f"member:{d.volunteer}") == ["post.grant", "post.revoke"]
    rows = (
        await AuditEvent.select(AuditEvent.actor_ref)
        .where((AuditEvent.action == "post.grant") & (AuditEvent.target_ref == f"member:{d.volunteer}"))
        .run()
    )
    assert rows == [{"actor_ref": f"member:{d.organiser}"}]
    # Volunteers see no post list.
    volunteer = await _login(client, VOLUNTEER_PHONE)
    assert (await client.get(posts, headers=volunteer)).status_code == 404


async def test_organisers_delegate_downwards_admins_grant_managers_nobody_changes_themself(
    client: Client, tree: Tree
) -> None:
    d = tree
    organiser = await _login(client, ORGANISER_PHONE)
    at_grid = await client.post(
        f"/api/v1/organisations/{d.grid1}/posts",
        json={"member_id": d.volunteer, "role": "organizer"},
        headers=organiser,
    )
    assert at_grid.status_code == 200
    peer = await client.post(
        f"/api/v1/organisations/{d.community}/posts",
        json={"member_id": d.grid_worker, "role": "organizer"},
        headers=organiser,
    )
    assert _is_problem(peer, 403, "forbidden")
    admin_role = await client.post(
        f"/api/v1/organisations/{d.grid1}/posts", json={"member_id": d.grid_worker, "role": "admin"}, headers=organiser
    )
    assert _is_problem(admin_role, 403, "forbidden")
    admin = await _login(client, ADMIN_PHONE)
    by_admin = await client.post(
        f"/api/v1/organisations/{d.community}/posts",
        json={"member_id": d.grid_worker, "role": "organizer"},
        headers=admin,
    )
    assert by_admin.status_code == 200
    myself = await client.delete(
        f"/api/v1/organisations/{d.community}/posts/{d.organiser}/organizer", headers=organiser
    )
    assert _is_problem(myself, 403, "forbidden")
    outsider = await client.post(
        f"/api/v1/organisations/{d.grid1}/posts", json={"member_id": d.outsider, "role": "lane_head"}, headers=organiser
    )
    assert _is_problem(outsider, 404, "member_not_found")


# --- members and invitations ---------------------------------------------------


async def test_register_invite_accept_then_log_in(client: Client, tree: Tree) -> None:
    d = tree
    organiser = await _login(client, ORGANISER_PHONE)
    created = await client.post(
        "/api/v1/members",
        json={
            "name": "刘桂兰",
            "phone": "137 1234 5678",
            "organisation_id": d.grid1,
            "roles": ["volunteer", "lane_head"],
        },
        headers=organiser,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    code = body["invitation"]["code"]
    assert body["member"]["phone"] == "13712345678" and body["member"]["has_password"] is False
    assert len(code) == 8
    phone = "13712345678"
    refused = await client.post("/api/v1/auth/login", json={"phone": phone, "password": PASSWORD})
    assert _is_problem(refused, 401, "bad_credentials")
    wrong = await client.post(
        "/api/v1/auth/invitations/accept", json={"phone": phone, "code": "ZZZZZZZZ", "password": PASSWORD}
    )
    assert _is_problem(wrong, 400, "invitation_invalid")
    assert wrong.json()["title"] == "邀请码无效、已使用或已过期"
    accepted = await client.post(
        "/api/v1/auth/invitations/accept", json={"phone": phone, "code": code, "password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["id"] == body["member"]["id"]
    assert (await client.post("/api/v1/auth/login", json={"phone": phone, "password": PASSWORD})).status_code == 200
    reused = await client.post(
        "/api/v1/auth/invitations/accept", json={"phone": phone, "code": code, "password": "another-password"}
    )
    assert _is_problem(reused, 400, "invitation_invalid")


async def test_an_expired_code_and_a_reinvitation(client: Client, tree: Tree) -> None:
    d = tree
    organiser = await _login(client, ORGANISER_PHONE)
    created = await client.post(
        "/api/v1/members", json={"name": "过期", "phone": "13712345670", "organisation_id": d.grid1}, headers=organiser
    )
    member_id = created.json()["member"]["id"]
    await (
        Invitation.update({Invitation.expires_at: utc_now() - timedelta(minutes=1)})
        .where(Invitation.member == member_id)
        .run()
    )
    accept = {"phone": "13712345670", "code": created.json()["invitation"]["code"], "password": PASSWORD}
    assert _is_problem(await client.post("/api/v1/auth/invitations/accept", json=accept), 400, "invitation_invalid")
    again = await client.post(f"/api/v1/members/{member_id}/invitations", headers=organiser)
    assert again.status_code == 201
    accept["code"] = again.json()["code"]
    assert (await client.post("/api/v1/auth/invitations/accept", json=accept)).status_code == 200
    # Only managers re-invite, and only their own members.
    worker = await _login(client, GRID_WORKER_PHONE)
    assert (await client.post(f"/api/v1/members/{member_id}/invitations", headers=worker)).status_code == 403
    outsider_invite = await client.post(f"/api/v1/members/{d.outsider}/invitations", headers=organiser)
    assert _is_problem(outsider_invite, 404, "member_not_found")


async def test_wrong_codes_lock_acceptance_for_that_phone(client: Client, tree: Tree) -> None:
    d = tree
    organiser = await _login(client, ORGANISER_PHONE)
    created = await client.post(
        "/api/v1/members", json={"name": "锁定", "phone": "13712345671", "organisation_id": d.grid1}, headers=organiser
    )
    code = created.json()["invitation"]["code"]
    for _ in range(5):  # FENGLING_LOGIN_MAX_FAILURES default
        wrong = await client.post(
            "/api/v1/auth/invitations/accept", json={"phone": "13712345671", "code": "ZZZZZZZZ", "password": PASSWORD}
        )
        assert wrong.status_code == 400
    locked = await client.post(
        "/api/v1/auth/invitations/accept", json={"phone": "13712345671", "code": code, "password": PASSWORD}
    )
    assert _is_problem(locked, 429, "invitation_locked") and int(locked.headers["retry-after"]) > 0


async def test_registration_needs_a_manager_of_that_node(client: Client, tree: Tree) -> None:
    d = tree
    body = {"name": "某人", "phone": "13712345672", "organisation_id": d.other_community}
    organiser = await _login(client, ORGANISER_PHONE)
    assert (await client.post("/api/v1/members", json=body, headers=organiser)).status_code in (403, 404)
    volunteer = await _login(client, VOLUNTEER_PHONE)
    assert (await client.post("/api/v1/members", json=body, headers=volunteer)).status_code == 403
    body["organisation_id"] = d.grid1
    taken = await client.post("/api/v1/members", json={**body, "phone": VOLUNTEER_PHONE}, headers=organiser)
    assert _is_problem(taken, 409, "phone_taken")
    manager_role = await client.post("/api/v1/members", json={**body, "roles": ["organizer"]}, headers=organiser)
    assert _is_problem(manager_role, 422, "invalid_role")


# --- visibility and phone masking ------------------------------------------------


async def test_phones_are_whole_for_organisers_and_self_masked_for_post_holders(client: Client, tree: Tree) -> None:
    d = tree
    url = f"/api/v1/members/{d.volunteer}"
    organiser = await _login(client, ORGANISER_PHONE)
    seen = (await client.get(url, headers=organiser)).json()
    assert seen["phone"] == VOLUNTEER_PHONE and seen["phone_masked"] is False
    worker = await _login(client, GRID_WORKER_PHONE)
    masked = (await client.get(url, headers=worker)).json()
    assert masked["phone"] == VOLUNTEER_MASKED and masked["phone_masked"] is True
    volunteer = await _login(client, VOLUNTEER_PHONE)
    assert (await client.get(url, headers=volunteer)).json()["phone"] == VOLUNTEER_PHONE
    # A volunteer next door, and one in another community: as if absent.
    assert _is_problem(await client.get(url, headers=await _login(client, NEIGHBOUR_PHONE)), 404, "member_not_found")
    assert _is_problem(await client.get(url, headers=await _login(client, OUTSIDER_PHONE)), 404, "member_not_found")
    assert _is_problem(await client.get(f"/api/v1/members/{d.outsider}", headers=organiser), 404, "member_not_found")
    assert _is_problem(await client.get("/api/v1/members/999999", headers=organiser), 404, "member_not_found")


async def test_member_lists_mask_phones_for_post_holders_and_refuse_volunteers(client: Client, tree: Tree) -> None:
    d = tree
    url = f"/api/v1/members?organisation_id={d.grid1}"
    organiser = await _login(client, ORGANISER_PHONE)
    whole = (await client.get(url, headers=organiser)).json()["members"]
    assert {VOLUNTEER_PHONE, GRID_WORKER_PHONE} <= {m["phone"] for m in whole}
    assert not any(m["phone_masked"] or "*" in m["phone"] for m in whole)
    worker = await _login(client, GRID_WORKER_PHONE)
    masked = {m["id"]: m["phone"] for m in (await client.get(url, headers=worker)).json()["members"]}
    assert masked[d.volunteer] == VOLUNTEER_MASKED and masked[d.grid_worker] == GRID_WORKER_PHONE  # own stays whole
    assert all("*" in phone for member_id, phone in masked.items() if member_id != d.grid_worker)
    # Searching by digits must not reveal numbers to a post holder.
    assert (await client.get(f"{url}&q=13900000004", headers=worker)).json()["members"] == []
    assert len((await client.get(f"{url}&q=13900000004", headers=organiser)).json()["members"]) == 1
    assert d.volunteer in [m["id"] for m in (await client.get(f"{url}&q=秀英", headers=worker)).json()["members"]]
    workers = (await client.get(f"{url}&role=grid_worker", headers=organiser)).json()["members"]
    assert d.grid_worker in [m["id"] for m in workers] and d.volunteer not in [m["id"] for m in workers]
    page = (await client.get(f"{url}&limit=1", headers=organiser)).json()
    assert len(page["members"]) == 1 and page["next_cursor"] is not None
    volunteer = await _login(client, VOLUNTEER_PHONE)
    assert _is_problem(await client.get(url, headers=volunteer), 404, "organisation_not_found")
    other = f"/api/v1/members?organisation_id={d.other_community}"
    assert (await client.get(other, headers=organiser)).status_code == 404


# --- teams -------------------------------------------------------------------------


async def test_teams_are_created_listed_staffed_and_led(client: Client, tree: Tree) -> None:
    d = tree
    organiser = await _login(client, ORGANISER_PHONE)
    created = await client.post(
        "/api/v1/teams",
        json={"organisation_id": d.community, "name_zh": "平安巡逻队", "kind": "patrol", "leader_id": d.volunteer},
        headers=organiser,
    )
    assert created.status_code == 201, created.text
    team = created.json()
    assert team["kind_name_zh"] == "治安巡逻队" and team["leader_id"] == d.volunteer and team["member_count"] == 1
    team_url = f"/api/v1/teams/{team['id']}"
    added = await client.post(f"{team_url}/members", json={"member_id": d.neighbour}, headers=organiser)
    assert added.status_code == 200 and added.json()["member_count"] == 2
    outsider = await client.post(f"{team_url}/members", json={"member_id": d.outsider}, headers=organiser)
    assert _is_problem(outsider, 404, "member_not_found")
    led = await client.put(f"{team_url}/leader", json={"member_id": d.neighbour}, headers=organiser)
    assert led.status_code == 200 and led.json()["leader_id"] == d.neighbour
    not_in_team = await client.put(f"{team_url}/leader", json={"member_id": d.grid_worker}, headers=organiser)
    assert _is_problem(not_in_team, 409, "team_membership_refused")
    assert (await client.delete(f"{team_url}/members/{d.volunteer}", headers=organiser)).status_code == 204
    await client.post(
        "/api/v1/teams",
        json={"organisation_id": d.community, "name_zh": "助老队", "kind": "elderly_care"},
        headers=organiser,
    )
    volunteer = await _login(client, VOLUNTEER_PHONE)
    listed = (await client.get(f"/api/v1/teams?organisation_id={d.community}&kind=patrol", headers=volunteer)).json()
    assert team["id"] in [t["id"] for t in listed] and {t["kind"] for t in listed} == {"patrol"}
    every = (await client.get(f"/api/v1/teams?organisation_id={d.community}", headers=volunteer)).json()
    assert {"patrol", "elderly_care"} <= {t["kind"] for t in every}
    # The roster: whole for the organiser, hidden from a volunteer who left the team.
    roster = (await client.get(team_url, headers=organiser)).json()["members"]
    assert [(m["member_id"], m["phone"]) for m in roster] == [(d.neighbour, NEIGHBOUR_PHONE)]
    assert (await client.get(team_url, headers=volunteer)).json()["members"] == []
    neighbour = await _login(client, NEIGHBOUR_PHONE)
    assert [m["phone"] for m in (await client.get(team_url, headers=neighbour)).json()["members"]] == [NEIGHBOUR_PHONE]
    outsider_headers = await _login(client, OUTSIDER_PHONE)
    assert _is_problem(await client.get(team_url, headers=outsider_headers), 404, "team_not_found")
    assert (
        await client.post(f"{team_url}/members", json={"member_id": d.volunteer}, headers=volunteer)
    ).status_code == 403
    assert await _actions(f"team:{team['id']}") == [
        "team.create",
        "team.member.add",
        "team.leader",
        "team.member.add",
        "team.leader",
        "team.member.remove",
    ]


# --- CSV import -----------------------------------------------------------------------


async def test_csv_import_over_http(client: Client, tree: Tree) -> None:
    d = tree
    organiser = await _login(client, ORGANISER_PHONE)
    url = f"/api/v1/organisations/{d.community}/members/import"
    bad = member_csv(
        [["甲", "13700000001", "第一网格"], ["乙", "12345", ""], ["丙", "13700000001", ""]],
        header=("姓名", "手机号", "网格"),
    )
    before = await counts()
    refused = await client.post(url, files={"file": ("members.csv", bad, "text/csv")}, headers=organiser)
    assert _is_problem(refused, 422, "import_rows_invalid")
    assert [(e["line"], e["field"]) for e in refused.json()["errors"]] == [(3, "phone"), (4, "phone")]
    assert await counts() == before
    dry = await client.post(
        f"{url}?dry_run=true&skip_bad_rows=true", files={"file": ("m.csv", bad, "text/csv")}, headers=organiser
    )
    assert dry.status_code == 200 and dry.json()["valid_rows"] == 1 and dry.json()["written"] is False
    assert await counts() == before
    skipped = await client.post(
        f"{url}?skip_bad_rows=true", files={"file": ("m.csv", bad, "text/csv")}, headers=organiser
    )
    assert skipped.status_code == 201, skipped.text
    created = skipped.json()["created"]
    assert [(m["line"], m["organisation_id"]) for m in created] == [(2, d.grid1)]
    assert len(skipped.json()["errors"]) == 2
    event = await AuditEvent.select().where(AuditEvent.action == "members.import").first().run()
    assert event is not None and event["actor_ref"] == f"member:{d.organiser}"
    detail = event["detail"] if isinstance(event["detail"], dict) else json.loads(event["detail"])
    assert detail["created"] == 1 and detail["skipped_lines"] == [3, 4]
    accepted = await client.post(
        "/api/v1/auth/invitations/accept",
        json={"phone": "13700000001", "code": created[0]["invitation_code"], "password": PASSWORD},
    )
    assert accepted.status_code == 200
    gbk = member_csv([["王建国", "13700000002"]], header=("姓名", "电话"), encoding="gbk")
    ok = await client.post(url, files={"file": ("gbk.csv", gbk, "text/csv")}, headers=organiser)
    assert ok.status_code == 201 and ok.json()["created"][0]["name"] == "王建国"


async def test_csv_import_limits_and_permissions(client: Client, tree: Tree) -> None:
    d = tree
    organiser = await _login(client, ORGANISER_PHONE)
    url = f"/api/v1/organisations/{d.community}/members/import"
    huge = b"x" * (2 * 1024 * 1024 + 10)
    assert _is_problem(
        await client.post(url, files={"file": ("big.csv", huge, "text/csv")}, headers=organiser),
        413,
        "import_file_too_large",
    )
    headerless = member_csv([["甲", "13700000001"]], header=("名称", "号码"))
    unreadable = await client.post(url, files={"file": ("x.csv", headerless, "text/csv")}, headers=organiser)
    assert _is_problem(unreadable, 422, "import_file_invalid")
    volunteer = await _login(client, VOLUNTEER_PHONE)
    good = member_csv([["甲", "13700000001"]])
    assert (await client.post(url, files={"file": ("m.csv", good, "text/csv")}, headers=volunteer)).status_code == 403
    other = f"/api/v1/organisations/{d.other_community}/members/import"
    assert (await client.post(other, files={"file": ("m.csv", good, "text/csv")}, headers=organiser)).status_code in (
        403,
        404,
    )
    no_file = await client.post(url, data={"x": "y"}, headers=organiser, files={})
    assert no_file.status_code in (400, 415, 422)
    assert no_file.headers["content-type"].startswith("application/problem+json")


async def test_openapi_tags_the_community_routes(client: Client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    assert "community" in {tag["name"] for tag in schema["tags"]}
    for path in (
        "/api/v1/organisations",
        "/api/v1/organisations/{organisation_id}/posts",
        "/api/v1/organisations/{organisation_id}/members/import",
        "/api/v1/members",
        "/api/v1/auth/invitations/accept",
        "/api/v1/teams/{team_id}/leader",
    ):
        assert path in schema["paths"], path
