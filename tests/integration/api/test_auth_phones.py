"""Login and invitation lockouts count per person, not per spelling, and
count before they evaluate.

- ``+8613900000004``, ``139-0000-0004``, `` 139 0000 0004`` and full-width
  digits are one phone number: one member, one failure counter.
- 25 wrong guesses sent at once are answered with exactly 5 evaluations
  (``FENGLING_LOGIN_MAX_FAILURES``); the rest get 429 with Retry-After
  without the password or code being looked at. On PostgreSQL this runs
  against real Redis (``FENGLING_TEST_REDIS_URL``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

import api.community.members
import community.invitations
import community.members
import community.passwords
from community.invitations import invite_member
from community.tables import Member
from tests.support.community_helpers import PASSWORD, Tree, build_tree, principal

Client = AsyncTestClient[Litestar]
VOLUNTEER_PHONE = "13900000004"
ORGANISER_PHONE = "13900000002"
SPELLINGS = ["+8613900000004", "139-0000-0004", " 139 0000 0004", "13９00000004", "0086 139 0000 0004"]
MAX_FAILURES = 5


@pytest.fixture
async def tree() -> Tree:
    return await build_tree()


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password verification ``authenticate`` makes, in order."""
    seen: list[str] = []
    real = community.passwords.verify_password

    async def counting(stored: str | None, password: str) -> bool:
        seen.append(password)
        return await real(stored, password)

    monkeypatch.setattr(community.members, "verify_password", counting)
    return seen


async def _login(client: Client, phone: str, password: str) -> Any:
    return await client.post("/api/v1/auth/login", json={"phone": phone, "password": password})


async def test_every_spelling_of_a_phone_shares_one_login_counter(
    client: Client, tree: Tree, verifications: list[str]
) -> None:
    for spelling in SPELLINGS:
        assert (await _login(client, spelling, "wrong-password")).status_code == 401
    locked = await _login(client, VOLUNTEER_PHONE, PASSWORD)
    assert locked.status_code == 429 and locked.json()["code"] == "login_locked"
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60
    assert len(verifications) == MAX_FAILURES  # the locked attempt was not evaluated
    other = await _login(client, ORGANISER_PHONE, PASSWORD)
    assert other.status_code == 200


async def test_a_full_width_number_is_the_same_person_never_a_second_identity(client: Client, tree: Tree) -> None:
    full_width = "13９00000004"
    response = await _login(client, full_width, PASSWORD)
    assert response.status_code == 200, response.text
    assert response.json()["member"]["id"] == tree.volunteer
    organiser = {"Authorization": f"Bearer {(await _login(client, ORGANISER_PHONE, PASSWORD)).json()['access_token']}"}
    members_before = await Member.count().run()
    again = await client.post(
        "/api/v1/members",
        json={"name": "张秀英", "phone": full_width, "organisation_id": tree.grid1},
        headers=organiser,
    )
    assert again.status_code == 409 and again.json()["code"] == "phone_taken", again.text
    assert await Member.count().run() == members_before


async def test_an_organiser_searches_by_full_width_or_dashed_digits(client: Client, tree: Tree) -> None:
    login = await _login(client, ORGANISER_PHONE, PASSWORD)
    organiser = {"Authorization": f"Bearer {login.json()['access_token']}"}
    full_width = "".join(chr(ord(digit) + 0xFEE0) for digit in VOLUNTEER_PHONE)
    for query in (full_width, "139-0000-0004", "0000 0004"):
        page = await client.get(
            "/api/v1/members", params={"organisation_id": tree.community, "q": query}, headers=organiser
        )
        assert page.status_code == 200, page.text
        assert [m["id"] for m in page.json()["members"]] == [tree.volunteer], query


async def test_a_success_resets_the_counter(client: Client, tree: Tree) -> None:
    for _ in range(2):
        for _ in range(MAX_FAILURES - 1):
            assert (await _login(client, VOLUNTEER_PHONE, "wrong-password")).status_code == 401
        assert (await _login(client, "+86 139 0000 0004", PASSWORD)).status_code == 200


async def test_25_concurrent_wrong_passwords_evaluate_exactly_5(
    client: Client, tree: Tree, verifications: list[str]
) -> None:
    responses = await asyncio.gather(
        *(_login(client, SPELLINGS[n % len(SPELLINGS)], f"guess-{n:02d}") for n in range(25))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [401] * MAX_FAILURES + [429] * (25 - MAX_FAILURES)
    assert len(verifications) == MAX_FAILURES
    assert all(int(r.headers["retry-after"]) > 0 for r in responses if r.status_code == 429)
    # Still locked for the right password too: the lock is on the phone.
    assert (await _login(client, VOLUNTEER_PHONE, PASSWORD)).status_code == 429


async def test_25_concurrent_wrong_invitation_codes_evaluate_exactly_5(
    client: Client, tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    invited = await invite_member(
        await principal(tree.organiser), name="刘桂兰", phone="13712345678", home_organisation_id=tree.grid1
    )
    evaluated: list[str] = []
    real = community.invitations.accept_invitation

    async def counting(**kwargs: Any) -> Any:
        evaluated.append(kwargs["code"])
        return await real(**kwargs)

    monkeypatch.setattr(api.community.members, "accept_invitation", counting)
    wrong = "2" * 8 if invited.invitation.code != "2" * 8 else "3" * 8
    spellings = ["13712345678", "+86 137-1234-5678", "13７12345678"]
    responses = await asyncio.gather(
        *(
            client.post(
                "/api/v1/auth/invitations/accept",
                json={"phone": spellings[n % 3], "code": wrong, "password": "new-password-1"},
            )
            for n in range(25)
        )
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [400] * MAX_FAILURES + [429] * (25 - MAX_FAILURES)
    assert len(evaluated) == MAX_FAILURES
    locked = await client.post(
        "/api/v1/auth/invitations/accept",
        json={"phone": "13712345678", "code": invited.invitation.code, "password": "new-password-1"},
    )
    assert locked.status_code == 429 and locked.json()["code"] == "invitation_locked"
    assert int(locked.headers["retry-after"]) > 0
