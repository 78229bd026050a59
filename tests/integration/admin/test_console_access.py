"""Who gets into the operator console (``/admin``), and what it lets
through: one identity (Fengling's session), admins at a root of the tree
only, tables read-only, piccolo's CSRF check kept, a CSP of its own."""

from __future__ import annotations

import re
import time
from decimal import Decimal

import jwt
import pytest
from litestar import Litestar
from litestar.handlers import ASGIRouteHandler
from litestar.routes import ASGIRoute
from litestar.testing import AsyncTestClient

from admin.console import requires_console_operator
from admin.console_tables import LEDGER_TABLES, console_tables
from api.community.auth import SESSION_COOKIE, SESSION_VERSION_CLAIM
from api.security_headers import CSP
from community.accounts import issuance_code, wallet_code
from community.manual_points import AdjustmentDraft, adjust
from community.members import get_member
from community.roles import Role
from community.tables import AuditEvent, Member
from fengling_settings import get_settings
from ledger.chain import seal_pending
from ledger.tables import LedgerAccount, LedgerEntry, LedgerPosting
from tests.support.community_helpers import PASSWORD, add_member, build_tree, principal
from tests.support.console_helpers import act_as, act_as_with_password, csrf_headers, phone_of

Client = AsyncTestClient[Litestar]


def test_the_console_mount_is_guarded_and_not_in_the_openapi_document(app: Litestar) -> None:
    routes = [route for route in app.routes if isinstance(route, ASGIRoute) and route.path == "/admin"]
    assert len(routes) == 1
    handler = routes[0].route_handler
    assert isinstance(handler, ASGIRouteHandler)
    assert list(handler.resolve_guards()) == [requires_console_operator]
    schema = app.openapi_schema.to_schema()
    assert not [path for path in schema["paths"] if path.startswith("/admin")]


async def test_an_anonymous_browser_goes_to_our_login_page_and_comes_back(client: Client) -> None:
    await build_tree()
    page = await client.get("/admin/", headers={"accept": "text/html"})
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/admin/"
    api = await client.get("/admin/api/tables/")
    assert api.status_code == 401
    assert api.headers["content-type"].startswith("application/problem+json")
    assert api.json()["instance"] == "/admin/api/tables/"


async def test_members_who_are_not_root_admins_get_403(client: Client) -> None:
    tree = await build_tree()
    district_admin = await add_member("区管理员", "13900000011", tree.district, Role.ADMIN)
    for member_id in (tree.volunteer, tree.organiser, tree.grid_worker, district_admin):
        await act_as(client, member_id)
        page = await client.get("/admin/", headers={"accept": "text/html"})
        assert page.status_code == 403
        assert page.headers["content-type"].startswith("text/html")
        for path in ("/admin/api/tables/", "/admin/api/tables/ledger_entry/"):
            response = await client.get(path)
            assert response.status_code == 403, (member_id, path)
            assert response.json()["instance"] == path


async def test_a_root_admin_gets_in_as_themself(client: Client) -> None:
    tree = await build_tree()
    await act_as(client, tree.admin)
    assert (await client.get("/admin")).headers["location"] == "/admin/"
    page = await client.get("/admin/")
    assert page.status_code == 200
    assert '<div id="app">' in page.text
    user = await client.get("/admin/api/user/")
    assert user.json() == {"username": "系统管理员", "user_id": str(tree.admin)}
    tables = (await client.get("/admin/api/tables/")).json()
    assert {table._meta.tablename for table in LEDGER_TABLES} <= set(tables)
    assert "community_audit_event" in tables
    members = (await client.get("/admin/api/tables/community_member/")).json()
    assert members["rows"]
    assert all("password_hash" not in row for row in members["rows"])


async def test_piccolos_own_login_and_password_change_do_not_exist(client: Client) -> None:
    tree = await build_tree()
    await act_as(client, tree.admin)
    headers = await csrf_headers(client)
    login = await client.post("/admin/public/login/", json={"username": "x", "password": "y"}, headers=headers)
    change = await client.post("/admin/api/change-password/", json={}, headers=headers)
    assert (login.status_code, change.status_code) == (404, 404)


async def test_a_session_that_ended_ends_the_console_too(client: Client) -> None:
    tree = await build_tree()
    await act_as(client, tree.admin)
    headers = await csrf_headers(client)
    refused = await client.post("/admin/public/logout/")
    assert refused.status_code == 403  # no CSRF pair: still logged in
    assert (await client.get("/admin/api/user/")).status_code == 200
    out = await client.post("/admin/public/logout/", headers=headers)
    assert out.status_code == 200
    token_cookie_cleared = "fengling_session=" in out.headers.get("set-cookie", "")
    assert token_cookie_cleared
    # The old token itself no longer works anywhere (its session version ended).
    assert (await client.get("/admin/api/user/")).status_code == 401


async def some_ledger_rows(admin_id: int, organiser_id: int, volunteer_id: int, community_id: int) -> None:
    """An entry with its postings, a hold (a pending request), a chain
    block and audit rows: a row in every read-only table."""
    for actor, four_eyes in ((admin_id, False), (organiser_id, True)):
        await adjust(
            await principal(actor),
            AdjustmentDraft(
                debit_account=issuance_code(community_id),
                credit_account=wallet_code(volunteer_id),
                amount=Decimal("5.00"),
                reason_zh="测试",
            ),
            idempotency_key=f"rows-{actor}",
            four_eyes=four_eyes,
        )
    await seal_pending(everything=True)


async def ledger_state() -> tuple[int, int, int, list[dict[str, object]]]:
    accounts = await LedgerAccount.select(LedgerAccount.code, LedgerAccount.balance_minor).run()
    return (
        await LedgerEntry.count().run(),
        await LedgerPosting.count().run(),
        await AuditEvent.count().run(),
        sorted(accounts, key=lambda row: str(row["code"])),
    )


@pytest.mark.parametrize("table", [table._meta.tablename for table in LEDGER_TABLES] + ["community_audit_event"])
async def test_writes_to_ledger_and_audit_tables_are_refused(client: Client, table: str) -> None:
    tree = await build_tree()
    await some_ledger_rows(tree.admin, tree.organiser, tree.volunteer, tree.community)
    await act_as(client, tree.admin)
    headers = await csrf_headers(client)
    before = await ledger_state()
    rows = (await client.get(f"/admin/api/tables/{table}/")).json()["rows"]
    assert rows, f"{table} has no row to try"
    row_id = rows[0]["id"]
    attempts = [
        await client.post(f"/admin/api/tables/{table}/", json={"id": 999}, headers=headers),
        await client.put(f"/admin/api/tables/{table}/{row_id}/", json={}, headers=headers),
        await client.patch(f"/admin/api/tables/{table}/{row_id}/", json={"balance_minor": 10**6}, headers=headers),
        await client.delete(f"/admin/api/tables/{table}/{row_id}/", headers=headers),
        await client.delete(f"/admin/api/tables/{table}/", headers=headers),
    ]
    assert [response.status_code for response in attempts] == [405] * 5
    assert await ledger_state() == before


async def test_a_write_without_the_csrf_pair_is_refused_by_the_console(client: Client) -> None:
    tree = await build_tree()
    await act_as(client, tree.admin)
    await csrf_headers(client)
    response = await client.post("/admin/api/forms/unlock-phone/", json={"phone": "13900000004"})
    assert response.status_code == 403
    assert await AuditEvent.count().where(AuditEvent.action == "member.unlock").run() == 0


async def test_the_console_has_its_own_csp_and_the_pages_keep_theirs(client: Client) -> None:
    tree = await build_tree()
    await act_as(client, tree.admin)
    console = (await client.get("/admin/")).headers["content-security-policy"]
    assert "style-src 'self' 'unsafe-inline'" in console
    assert "script-src 'self';" in console
    assert (await client.get("/login")).headers["content-security-policy"] == CSP


async def test_logging_in_from_the_console_redirect_comes_back_to_the_console(client: Client) -> None:
    tree = await build_tree()
    to_login = await client.get("/admin/", headers={"accept": "text/html"})
    form = await client.get(to_login.headers["location"])
    assert '<input type="hidden" name="next" value="/admin/">' in form.text
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert csrf
    phone = await phone_of(tree.admin)
    logged_in = await client.post(
        "/login", data={"phone": phone, "password": PASSWORD, "next": "/admin/", "_csrf_token": csrf.group(1)}
    )
    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == "/admin/"
    assert (await client.get("/admin/")).status_code == 200


async def test_an_expired_session_opens_nothing_in_the_console(client: Client) -> None:
    """Expiry is the token's own: the same signed token, one second past its
    ``exp``, is a 401 on the console's API and a trip to the login page."""
    tree = await build_tree()
    member = await get_member(tree.admin)
    claims = {
        "sub": str(tree.admin),
        "iat": int(time.time()) - 120,
        "exp": int(time.time()) - 1,
        SESSION_VERSION_CLAIM: member.session_version,
    }
    secret = get_settings().secret_key
    fresh = {**claims, "exp": int(time.time()) + 60}
    client.cookies.set(SESSION_COOKIE, jwt.encode(fresh, secret, algorithm="HS256"))
    assert (await client.get("/admin/api/user/")).status_code == 200  # the same token, unexpired, gets in
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, jwt.encode(claims, secret, algorithm="HS256"))
    assert (await client.get("/admin/api/user/")).status_code == 401
    assert (await client.get("/admin/", headers={"accept": "text/html"})).headers["location"] == "/login?next=/admin/"


@pytest.mark.usefixtures("demo")
async def test_every_console_table_lists_the_demo_rows_it_holds(client: Client) -> None:
    """Every column of every shown table survives JSON (the chain's binary
    columns did not: they are left out), with the demo's rows in them."""
    admin = await Member.select(Member.id).where(Member.phone == "13800000004").first().run()
    assert admin is not None
    await act_as_with_password(client, int(admin["id"]), "fengling-admin")
    filled = 0
    for config in console_tables():
        table = config.table_class._meta.tablename
        response = await client.get(f"/admin/api/tables/{table}/?__readable=true")
        assert response.status_code == 200, (table, response.text)
        filled += bool(response.json()["rows"])
    assert filled >= 15
