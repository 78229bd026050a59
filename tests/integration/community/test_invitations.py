"""Invitations: a registered member sets their password with a one-time
code; wrong, expired, used and voided codes all get the same refusal; a
member who has not accepted cannot log in."""

from __future__ import annotations

from datetime import timedelta

import pytest

from community.errors import InvalidMemberData, InvalidRole, InvitationInvalid, PhoneTaken
from community.invitations import (
    CODE_ALPHABET,
    CODE_LENGTH,
    accept_invitation,
    code_digest,
    invite_member,
    issue_invitation,
)
from community.members import authenticate, get_member
from community.passwords import _DUMMY_HASH, verify_password
from community.roles import Role
from community.tables import AuditEvent, Invitation
from core.clock import utc_now
from ledger.accounts import find_balance
from tests.support.community_helpers import PASSWORD, Tree, principal

NEW_PHONE = "13712345678"


async def _invite(tree: Tree) -> tuple[int, str]:
    invited = await invite_member(
        await principal(tree.organiser), name="刘桂兰", phone=NEW_PHONE, home_organisation_id=tree.grid1
    )
    return invited.member.id, invited.invitation.code


async def test_a_registered_member_has_no_password_a_wallet_and_a_code_stored_only_as_its_hash(tree: Tree) -> None:
    member_id, code = await _invite(tree)
    assert len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)
    member = await get_member(member_id)
    assert not member.has_password and [g.role for g in member.grants] == [Role.VOLUNTEER]
    assert await find_balance(f"volunteer:{member_id}:wallet") is not None
    rows = await Invitation.select().where(Invitation.member == member_id).run()
    assert len(rows) == 1 and rows[0]["code_sha256"] == code_digest(code)
    assert code not in str(rows[0])
    assert rows[0]["expires_at"] - rows[0]["created_at"] == timedelta(days=14)
    actions = await AuditEvent.select(AuditEvent.action).where(AuditEvent.target_ref == f"member:{member_id}").run()
    assert [row["action"] for row in actions] == ["member.register", "member.invite"]


async def test_an_invited_member_cannot_log_in_until_they_accept(tree: Tree) -> None:
    member_id, code = await _invite(tree)
    assert await authenticate(NEW_PHONE, PASSWORD) is None
    assert await authenticate(NEW_PHONE, "") is None
    # The dummy password used to even out timing opens nothing either.
    assert await authenticate(NEW_PHONE, "fengling-dummy-password-for-timing") is None
    assert await verify_password("", "fengling-dummy-password-for-timing") is False
    assert await verify_password(_DUMMY_HASH, "fengling-dummy-password-for-timing") is True  # the hash itself is fine
    accepted = await accept_invitation(phone=NEW_PHONE, code=code.lower()[:4] + "-" + code[4:], password=PASSWORD)
    assert accepted.id == member_id and accepted.has_password
    logged_in = await authenticate(NEW_PHONE, PASSWORD)
    assert logged_in is not None and logged_in.id == member_id


async def test_a_used_code_is_refused_the_second_time(tree: Tree) -> None:
    _, code = await _invite(tree)
    await accept_invitation(phone=NEW_PHONE, code=code, password=PASSWORD)
    with pytest.raises(InvitationInvalid):
        await accept_invitation(phone=NEW_PHONE, code=code, password="another-password-1")
    assert await authenticate(NEW_PHONE, PASSWORD) is not None


async def test_an_expired_code_is_refused(tree: Tree) -> None:
    member_id, code = await _invite(tree)
    await (
        Invitation.update({Invitation.expires_at: utc_now() - timedelta(seconds=1)})
        .where(Invitation.member == member_id)
        .run()
    )
    with pytest.raises(InvitationInvalid):
        await accept_invitation(phone=NEW_PHONE, code=code, password=PASSWORD)


async def test_wrong_code_wrong_phone_and_garbage_get_the_same_refusal(tree: Tree) -> None:
    _, code = await _invite(tree)
    other = "2" * CODE_LENGTH if code != "2" * CODE_LENGTH else "3" * CODE_LENGTH
    attempts = [
        (NEW_PHONE, other),
        ("13900000004", code),  # someone else's phone
        ("13811112222", code),  # nobody's phone
        ("not a phone", code),
        (NEW_PHONE, "short"),
    ]
    messages = set()
    for phone, attempt in attempts:
        with pytest.raises(InvitationInvalid) as refused:
            await accept_invitation(phone=phone, code=attempt, password=PASSWORD)
        messages.add((refused.value.code, refused.value.message, refused.value.field))
    assert len(messages) == 1


async def test_a_too_short_password_is_named_and_does_not_use_the_code(tree: Tree) -> None:
    _, code = await _invite(tree)
    with pytest.raises(InvalidMemberData) as refused:
        await accept_invitation(phone=NEW_PHONE, code=code, password="short")
    assert refused.value.field == "password"
    await accept_invitation(phone=NEW_PHONE, code=code, password=PASSWORD)


async def test_a_new_invitation_voids_the_older_codes(tree: Tree) -> None:
    member_id, first = await _invite(tree)
    second = await issue_invitation(await principal(tree.organiser), member_id)
    with pytest.raises(InvitationInvalid):
        await accept_invitation(phone=NEW_PHONE, code=first, password=PASSWORD)
    await accept_invitation(phone=NEW_PHONE, code=second.code, password=PASSWORD)
    assert await authenticate(NEW_PHONE, PASSWORD) is not None


async def test_re_inviting_a_member_with_a_password_resets_it_only_on_acceptance(tree: Tree) -> None:
    invitation = await issue_invitation(await principal(tree.organiser), tree.volunteer)
    assert await authenticate("13900000004", PASSWORD) is not None  # the old password still works
    await accept_invitation(phone="13900000004", code=invitation.code, password="brand-new-password")
    assert await authenticate("13900000004", PASSWORD) is None
    assert await authenticate("13900000004", "brand-new-password") is not None


async def test_registration_refuses_a_taken_phone_and_manager_roles(tree: Tree) -> None:
    with pytest.raises(PhoneTaken):
        await invite_member(
            await principal(tree.organiser), name="重复", phone="13900000004", home_organisation_id=tree.grid1
        )
    with pytest.raises(InvalidRole):
        await invite_member(
            await principal(tree.organiser),
            name="想当组织者",
            phone=NEW_PHONE,
            home_organisation_id=tree.grid1,
            roles=(Role.ORGANIZER,),
        )


async def test_registration_is_refused_outside_the_callers_organisations_with_nothing_written(tree: Tree) -> None:
    """The domain service itself checks who registers where (not the HTTP
    handler): a grid worker may not register anyone, an organiser may not
    register into another community (it answers as a missing node), and the
    refusals write nothing, not even an audit row."""
    from community.errors import AccessRefused, OrganisationNotFound
    from tests.support.marketplace_helpers import assert_same, snapshot_everything

    before = await snapshot_everything()
    with pytest.raises(AccessRefused):
        await invite_member(
            await principal(tree.grid_worker), name="甲", phone=NEW_PHONE, home_organisation_id=tree.grid1
        )
    with pytest.raises(OrganisationNotFound):
        await invite_member(
            await principal(tree.organiser), name="乙", phone=NEW_PHONE, home_organisation_id=tree.other_grid
        )
    assert_same(before, await snapshot_everything())
