"""Who may reset (reissue an invitation), deactivate a member's account or
revoke their posts (each signs them out everywhere):
only someone who could grant every role the member holds anywhere in the
tree, never for themself. Refusals are decided in the domain service and
change nothing; allowed changes and their audit rows commit together.

Decision recorded here: a member whose home the caller manages is visible
to the caller (they are in the caller's member list), so a refusal because
of their roles is 403 ``outranks_you``; a member whose home the caller does
not manage is 404 ``member_not_found``, word for word as a missing one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from community import audit
from community.access import Principal
from community.errors import AccessRefused, MemberNotFound
from community.invitations import accept_invitation, issue_invitation
from community.members import authenticate, get_member, grant_role
from community.posts import revoke_post
from community.roles import Role
from community.sessions import deactivate_member
from tests.support.community_helpers import PASSWORD, Tree, add_member, principal
from tests.support.marketplace_helpers import assert_same, snapshot_everything

Takeover = Callable[[Principal, int], Awaitable[Any]]
TAKEOVERS: list[Takeover] = [issue_invitation, deactivate_member]
ADMIN_ABOVE_PHONE = "13900000011"


async def _admin_living_in_grid1(tree: Tree) -> int:
    """A volunteer of 第一网格 who is also admin of the whole street: the
    organiser of 平安社区 manages their home but not their admin role."""
    member_id = await add_member("街道管理员", ADMIN_ABOVE_PHONE, tree.grid1, Role.VOLUNTEER)
    await grant_role(member_id, tree.street, Role.ADMIN)
    return member_id


@pytest.mark.parametrize("takeover", TAKEOVERS, ids=["reset", "deactivate"])
async def test_an_organiser_cannot_take_over_a_member_who_is_admin_higher_up(tree: Tree, takeover: Takeover) -> None:
    target = await _admin_living_in_grid1(tree)
    before = await snapshot_everything()
    with pytest.raises(AccessRefused) as refused:
        await takeover(await principal(tree.organiser), target)
    assert refused.value.code == "outranks_you" and refused.value.field == "member_id"
    assert_same(before, await snapshot_everything())


async def test_an_organiser_cannot_revoke_the_volunteer_post_of_an_admin_higher_up(tree: Tree) -> None:
    """A revocation signs the member out everywhere: granting's rule alone
    let the organiser sign the street's admin out again and again, by
    revoking and re-granting the volunteer post they hold in 第一网格."""
    target = await _admin_living_in_grid1(tree)
    before = await snapshot_everything()
    with pytest.raises(AccessRefused) as refused:
        await revoke_post(await principal(tree.organiser), tree.grid1, target, Role.VOLUNTEER)
    assert refused.value.code == "outranks_you" and refused.value.field == "member_id"
    assert_same(before, await snapshot_everything())
    # The street's admin may.
    admin = await add_member("区管理员", "13900000013", tree.district, Role.ADMIN)
    await revoke_post(await principal(admin), tree.grid1, target, Role.VOLUNTEER)
    assert (await get_member(target)).session_version == 1


@pytest.mark.parametrize("takeover", TAKEOVERS, ids=["reset", "deactivate"])
async def test_a_peer_organiser_at_the_same_level_is_refused(tree: Tree, takeover: Takeover) -> None:
    peer = await add_member("另一位书记", "13900000012", tree.community, Role.ORGANIZER)
    before = await snapshot_everything()
    with pytest.raises(AccessRefused) as refused:
        await takeover(await principal(tree.organiser), peer)
    assert refused.value.code == "outranks_you"
    assert_same(before, await snapshot_everything())


@pytest.mark.parametrize("takeover", TAKEOVERS, ids=["reset", "deactivate"])
async def test_nobody_takes_over_their_own_account_this_way(tree: Tree, takeover: Takeover) -> None:
    before = await snapshot_everything()
    with pytest.raises(AccessRefused) as refused:
        await takeover(await principal(tree.admin), tree.admin)
    assert refused.value.code == "own_account"
    assert_same(before, await snapshot_everything())


@pytest.mark.parametrize("takeover", TAKEOVERS, ids=["reset", "deactivate"])
async def test_a_member_outside_the_callers_reach_looks_exactly_like_a_missing_one(
    tree: Tree, takeover: Takeover
) -> None:
    before = await snapshot_everything()
    organiser = await principal(tree.organiser)
    with pytest.raises(MemberNotFound) as outside:
        await takeover(organiser, tree.outsider)
    with pytest.raises(MemberNotFound) as missing:
        await takeover(organiser, 999_999)
    assert outside.value.message.replace(str(tree.outsider), "N") == missing.value.message.replace("999999", "N")
    assert_same(before, await snapshot_everything())


async def test_an_organiser_resets_a_volunteer_and_the_audit_row_is_written_with_it(tree: Tree) -> None:
    volunteer = await get_member(tree.volunteer)
    invitation = await issue_invitation(await principal(tree.organiser), tree.volunteer)
    after = await get_member(tree.volunteer)
    assert after.session_version == volunteer.session_version + 1
    await accept_invitation(phone=volunteer.phone, code=invitation.code, password="reset-by-organiser")
    assert await authenticate(volunteer.phone, "reset-by-organiser") is not None
    assert await authenticate(volunteer.phone, PASSWORD) is None


async def test_an_admin_above_may_reset_an_organiser_and_a_lower_admin(tree: Tree) -> None:
    lower_admin = await add_member("社区管理员", "13900000013", tree.community, Role.ADMIN)
    admin = await principal(tree.admin)
    assert (await issue_invitation(admin, tree.organiser)).member_id == tree.organiser
    assert (await issue_invitation(admin, lower_admin)).member_id == lower_admin
    # …but the lower admin may not reset the admin above them (who lives in their subtree here).
    higher = await add_member("市管理员", "13900000014", tree.grid1, Role.VOLUNTEER)
    await grant_role(higher, tree.city, Role.ADMIN)
    with pytest.raises(AccessRefused):
        await issue_invitation(await principal(lower_admin), higher)


async def test_a_deactivated_member_cannot_log_in_and_deactivating_again_records_nothing(tree: Tree) -> None:
    organiser = await principal(tree.organiser)
    member = await deactivate_member(organiser, tree.volunteer)
    assert not member.active
    assert await authenticate("13900000004", PASSWORD) is None
    before = await snapshot_everything()
    await deactivate_member(organiser, tree.volunteer)
    assert_same(before, await snapshot_everything())


@pytest.mark.parametrize("takeover", TAKEOVERS, ids=["reset", "deactivate"])
async def test_a_failing_audit_write_rolls_the_change_back(
    tree: Tree, takeover: Takeover, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken_record(*args: object, **kwargs: object) -> None:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(audit, "record", broken_record)
    before = await snapshot_everything()
    with pytest.raises(RuntimeError):
        await takeover(await principal(tree.organiser), tree.volunteer)
    assert_same(before, await snapshot_everything())
