"""Sessions end when they should: a token issued before a password reset,
a password change, a removed role, a deactivation or a logout answers 401.
Tokens whose subject cannot be a member id answer 401, never 500.

Logout signs the member out on every device (tokens are not tracked one by
one; the member's session version moves on)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.security.jwt import JWTAuth, Token
from litestar.testing import AsyncTestClient

from community.access import Principal
from community.members import authenticate, bump_session_version, get_member, grant_role
from community.roles import Role
from community.session_cache import SESSIONS
from community.tables import AuditEvent, Member
from core.database import in_write_transaction
from fengling_settings import get_settings
from tests.support.community_helpers import PASSWORD, Tree, add_member, build_tree
from tests.support.marketplace_helpers import assert_same, snapshot_everything

Client = AsyncTestClient[Litestar]
ADMIN_PHONE = "13900000001"
ORGANISER_PHONE = "13900000002"
GRID_WORKER_PHONE = "13900000003"
VOLUNTEER_PHONE = "13900000004"


@pytest.fixture
async def tree() -> Tree:
    return await build_tree()


async def _token(client: Client, phone: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={"phone": phone, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _me(client: Client, headers: dict[str, str]) -> int:
    return (await client.get("/api/v1/me", headers=headers)).status_code


async def _actions(action: str) -> int:
    found: int = await AuditEvent.count().where(AuditEvent.action == action).run()
    return found


async def test_logout_ends_every_session_of_that_member_only(client: Client, tree: Tree) -> None:
    phone_one = await _token(client, VOLUNTEER_PHONE)
    phone_two = await _token(client, VOLUNTEER_PHONE)
    other = await _token(client, ORGANISER_PHONE)
    response = await client.post("/api/v1/auth/logout", headers=phone_one)
    assert response.status_code == 204
    assert await _me(client, phone_one) == 401
    assert await _me(client, phone_two) == 401  # the other device too
    assert await _me(client, other) == 200
    assert await _me(client, await _token(client, VOLUNTEER_PHONE)) == 200  # logging in again works
    assert (await client.post("/api/v1/auth/logout")).status_code == 401


async def test_a_password_change_returns_a_fresh_token_and_ends_the_old_ones(client: Client, tree: Tree) -> None:
    old = await _token(client, VOLUNTEER_PHONE)
    other_device = await _token(client, VOLUNTEER_PHONE)
    changed = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "a-new-password-2"},
        headers=old,
    )
    assert changed.status_code == 200, changed.text
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert await _me(client, fresh) == 200
    assert await _me(client, old) == 401 and await _me(client, other_device) == 401
    assert await authenticate(VOLUNTEER_PHONE, "a-new-password-2") is not None
    assert await authenticate(VOLUNTEER_PHONE, PASSWORD) is None
    assert await _actions("member.password_change") == 1


async def test_a_wrong_current_password_or_a_short_new_one_changes_nothing(client: Client, tree: Tree) -> None:
    headers = await _token(client, VOLUNTEER_PHONE)
    before = await snapshot_everything()
    wrong = await client.post(
        "/api/v1/me/password",
        json={"current_password": "not-my-password", "new_password": "a-new-password-2"},
        headers=headers,
    )
    assert wrong.status_code == 422 and wrong.json()["code"] == "wrong_password"
    assert wrong.json()["field"] == "current_password"
    short = await client.post(
        "/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "short"}, headers=headers
    )
    assert short.status_code == 422 and short.json()["field"] == "new_password"
    assert_same(before, await snapshot_everything())
    assert await _me(client, headers) == 200


async def test_wrong_current_passwords_count_against_the_login_lockout(client: Client, tree: Tree) -> None:
    headers = await _token(client, VOLUNTEER_PHONE)
    body = {"current_password": "not-my-password", "new_password": "a-new-password-2"}
    for _ in range(5):
        assert (await client.post("/api/v1/me/password", json=body, headers=headers)).status_code == 422
    locked = await client.post("/api/v1/me/password", json={**body, "current_password": PASSWORD}, headers=headers)
    assert locked.status_code == 429 and "retry-after" in locked.headers
    assert await authenticate(VOLUNTEER_PHONE, PASSWORD) is not None  # unchanged


async def test_a_reset_by_an_organiser_ends_the_members_sessions(client: Client, tree: Tree) -> None:
    volunteer = await _token(client, VOLUNTEER_PHONE)
    organiser = await _token(client, ORGANISER_PHONE)
    reset = await client.post(f"/api/v1/members/{tree.volunteer}/invitations", headers=organiser)
    assert reset.status_code == 201, reset.text
    assert await _me(client, volunteer) == 401
    accepted = await client.post(
        "/api/v1/auth/invitations/accept",
        json={"phone": VOLUNTEER_PHONE, "code": reset.json()["code"], "password": "after-reset-3"},
    )
    assert accepted.status_code == 200
    assert await _me(client, await _token(client, VOLUNTEER_PHONE, "after-reset-3")) == 200


async def test_an_organiser_cannot_reset_an_admin_higher_up_over_http(client: Client, tree: Tree) -> None:
    high = await add_member("街道管理员", "13900000011", tree.grid1, Role.VOLUNTEER)
    await grant_role(high, tree.street, Role.ADMIN)
    high_token = await _token(client, "13900000011")
    organiser = await _token(client, ORGANISER_PHONE)
    before = await snapshot_everything()
    for path in ("invitations", "deactivate"):
        refused = await client.post(f"/api/v1/members/{high}/{path}", headers=organiser)
        assert refused.status_code == 403 and refused.json()["code"] == "outranks_you", refused.text
    assert_same(before, await snapshot_everything())
    assert await _me(client, high_token) == 200


async def test_removing_a_role_ends_the_members_sessions(client: Client, tree: Tree) -> None:
    grid_worker = await _token(client, GRID_WORKER_PHONE)
    organiser = await _token(client, ORGANISER_PHONE)
    removed = await client.delete(
        f"/api/v1/organisations/{tree.grid1}/posts/{tree.grid_worker}/grid_worker", headers=organiser
    )
    assert removed.status_code == 204, removed.text
    assert await _me(client, grid_worker) == 401


async def test_deactivation_ends_sessions_is_audited_and_never_of_oneself(client: Client, tree: Tree) -> None:
    volunteer = await _token(client, VOLUNTEER_PHONE)
    organiser = await _token(client, ORGANISER_PHONE)
    before = await snapshot_everything()
    own = await client.post(f"/api/v1/members/{tree.organiser}/deactivate", headers=organiser)
    assert own.status_code == 403 and own.json()["code"] == "own_account"
    outside = await client.post(f"/api/v1/members/{tree.outsider}/deactivate", headers=organiser)
    assert outside.status_code == 404 and outside.json()["code"] == "member_not_found"
    as_volunteer = await client.post(f"/api/v1/members/{tree.neighbour}/deactivate", headers=volunteer)
    assert as_volunteer.status_code == 403
    assert_same(before, await snapshot_everything())
    done = await client.post(f"/api/v1/members/{tree.volunteer}/deactivate", headers=organiser)
    assert done.status_code == 200 and done.json()["active"] is False
    assert await _me(client, volunteer) == 401
    login = await client.post("/api/v1/auth/login", json={"phone": VOLUNTEER_PHONE, "password": PASSWORD})
    assert login.status_code == 401
    assert await _actions("member.deactivate") == 1


def _forged(app: Litestar, subject: str, **extras: Any) -> dict[str, str]:
    """A correctly signed token with any subject, as only a key holder (or a
    bug) could make."""
    jwt_auth: JWTAuth[Principal, Token] = app.state.jwt_auth
    token = jwt_auth.create_token(identifier=subject, token_expiration=timedelta(minutes=5), token_extras=extras)
    return {"Authorization": f"Bearer {token}"}


OUT_OF_RANGE = [str(2**63), str(2**64 + 1), str(2**31), "-1", "0", "abc", "1e3", "０１", " 1", "9" * 30]


@pytest.mark.parametrize("subject", OUT_OF_RANGE)
async def test_a_token_subject_out_of_range_is_401_never_500(client: Client, app: Litestar, subject: str) -> None:
    response = await client.get("/api/v1/me", headers=_forged(app, subject, sv=0))
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_token_without_the_current_session_version_is_refused(
    client: Client, app: Litestar, tree: Tree
) -> None:
    member = await get_member(tree.volunteer)
    assert await _me(client, _forged(app, str(tree.volunteer), sv=member.session_version)) == 200
    assert await _me(client, _forged(app, str(tree.volunteer))) == 401  # issued before versions existed
    assert await _me(client, _forged(app, str(tree.volunteer), sv=str(member.session_version))) == 401
    assert await _me(client, _forged(app, str(tree.volunteer), sv=True)) == 401
    await in_write_transaction(lambda: bump_session_version(tree.volunteer))
    assert await _me(client, _forged(app, str(tree.volunteer), sv=member.session_version)) == 401


async def test_a_session_version_edited_behind_the_services_back_holds_until_the_cached_member_expires(
    client: Client, app: Litestar, tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bound of community/session_cache.py: a change that no service
    announced (a row edited by hand) is in force once the process's cached
    member is older than FENGLING_PRINCIPAL_CACHE_SECONDS."""
    member = await get_member(tree.volunteer)
    headers = _forged(app, str(tree.volunteer), sv=member.session_version)
    assert await _me(client, headers) == 200
    await Member.update({Member.session_version: 5}).where(Member.id == tree.volunteer).run()
    assert await _me(client, headers) == 200  # nobody announced it: the cached member stands
    later = time.monotonic() + get_settings().principal_cache_seconds
    monkeypatch.setattr(SESSIONS, "_clock", lambda: later)
    assert await _me(client, headers) == 401
