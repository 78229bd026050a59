"""A member's own language and elder mode (``community/preferences.py``)."""

from __future__ import annotations

import pytest

from community.errors import InvalidMemberData
from community.preferences import set_preferences
from community.tables import AuditEvent
from tests.support.community_helpers import build_tree, principal


async def preference_audits() -> list[dict[str, object]]:
    return await AuditEvent.select().where(AuditEvent.action == "member.preferences").run()


async def test_a_member_sets_their_language_and_elder_mode_and_it_is_audited() -> None:
    tree = await build_tree()
    me = await principal(tree.volunteer)
    member = await set_preferences(me, preferred_language="en", elder_mode=True)
    assert member.preferred_language == "en"
    assert member.elder_mode is True
    audits = await preference_audits()
    assert len(audits) == 1
    assert audits[0]["actor_ref"] == me.ref
    assert audits[0]["target_ref"] == me.ref


async def test_setting_what_is_already_set_writes_no_audit_row() -> None:
    tree = await build_tree()
    me = await principal(tree.volunteer)
    member = await set_preferences(me, preferred_language="zh", elder_mode=False)
    assert (member.preferred_language, member.elder_mode) == ("zh", False)
    assert await preference_audits() == []


async def test_only_one_preference_changes_when_one_is_given() -> None:
    tree = await build_tree()
    me = await principal(tree.volunteer)
    await set_preferences(me, elder_mode=True)
    member = await set_preferences(me, preferred_language="en")
    assert (member.preferred_language, member.elder_mode) == ("en", True)


async def test_a_language_other_than_zh_or_en_is_refused_and_nothing_changes() -> None:
    tree = await build_tree()
    me = await principal(tree.volunteer)
    with pytest.raises(InvalidMemberData) as refused:
        await set_preferences(me, preferred_language="fr", elder_mode=True)
    assert refused.value.field == "preferred_language"
    assert await preference_audits() == []
