"""Bulk CSV import: the whole file is checked first, bad rows are named by
line, and writing is all or nothing (or, with skip_bad_rows, exactly the
valid rows)."""

from __future__ import annotations

import time

import pytest

from community.errors import ImportFileInvalid, ImportFileTooLarge
from community.invitations import accept_invitation, code_digest
from community.member_import import MAX_IMPORT_ROWS, import_members
from community.members import authenticate, get_member
from community.roles import Role
from community.tables import AuditEvent, Invitation
from community.teams import TeamKind, create_team, is_team_member
from ledger.accounts import find_balance
from tests.support.community_helpers import PASSWORD, Tree, counts, member_csv, phones

# Lines (header = 1) of the three bad rows in the 1,000-row file.
BAD_LINES = (12, 500, 1001)


def _thousand_rows_with_three_bad() -> bytes:
    rows: list[list[object]] = [[f"居民{number}", phone] for number, phone in enumerate(phones(1000), start=2)]
    rows[BAD_LINES[0] - 2][1] = "1234"  # not a mobile number
    rows[BAD_LINES[1] - 2][0] = ""  # no name
    rows[BAD_LINES[2] - 2][1] = rows[0][1]  # same phone as line 2
    return member_csv(rows)


async def test_a_thousand_rows_with_three_bad_write_nothing_and_name_exactly_those_lines(tree: Tree) -> None:
    before = await counts()
    started = time.perf_counter()
    result = await import_members(_thousand_rows_with_three_bad(), organisation_id=tree.community, actor_ref="member:1")
    assert time.perf_counter() - started < 10
    assert result.bad_lines == list(BAD_LINES)
    assert not result.written and result.created == []
    assert result.total_rows == 1000 and result.valid_rows == 997
    assert await counts() == before  # no member, grant, invitation, wallet, entry or audit row


async def test_the_same_file_with_skip_bad_rows_writes_the_997_good_rows_in_one_go(tree: Tree) -> None:
    before = await counts()
    started = time.perf_counter()
    result = await import_members(
        _thousand_rows_with_three_bad(), organisation_id=tree.community, actor_ref="member:1", skip_bad_rows=True
    )
    elapsed = time.perf_counter() - started
    assert elapsed < 15, f"1,000-row import took {elapsed:.1f} s"
    assert result.written and len(result.created) == 997
    assert result.bad_lines == list(BAD_LINES)
    after = await counts()
    assert after["members"] - before["members"] == 997
    assert after["invitations"] - before["invitations"] == 997
    assert after["accounts"] - before["accounts"] == 997  # one wallet each, volunteers by default
    assert after["audit"] - before["audit"] == 1
    first = result.created[0]
    assert first.line == 2 and len(first.invitation_code) == 8
    member = await get_member(first.id)
    assert member.home_organisation_id == tree.community and not member.has_password
    assert [grant.role for grant in member.grants] == [Role.VOLUNTEER]
    assert await find_balance(f"volunteer:{first.id}:wallet") is not None
    # Only the code's hash is stored.
    stored = await Invitation.select(Invitation.code_sha256).where(Invitation.member == first.id).run()
    assert stored == [{"code_sha256": code_digest(first.invitation_code)}]
    event = await AuditEvent.select().where(AuditEvent.action == "members.import").first().run()
    assert event is not None and event["target_ref"] == f"org:{tree.community}"


async def test_english_headers_with_every_column(tree: Tree) -> None:
    team = await create_team(
        organisation_id=tree.community, name_zh="平安巡逻队", kind=TeamKind.PATROL, actor_ref="member:1"
    )
    content = member_csv(
        [
            ["Li Lei", "137 0000 0001", str(tree.grid1), "volunteer; grid_worker", "平安巡逻队", "en"],
            ["Han Meimei", "+8613700000002", "第二网格", "Building head", str(team.id), "zh"],
        ],
        header=("Name", "Phone", "Organisation", "Roles", "Team", "Language"),
    )
    result = await import_members(content, organisation_id=tree.community, actor_ref="member:1")
    assert result.errors == [] and result.written
    li_member = await get_member(result.created[0].id)
    assert li_member.preferred_language == "en"
    assert li_member.home_organisation_id == tree.grid1
    assert {grant.role for grant in li_member.grants} == {Role.VOLUNTEER, Role.GRID_WORKER}
    assert li_member.phone == "13700000001"
    han_member = await get_member(result.created[1].id)
    assert han_member.home_organisation_id == tree.grid2
    assert [grant.role for grant in han_member.grants] == [Role.BUILDING_HEAD]
    assert await find_balance(f"volunteer:{han_member.id}:wallet") is None  # no volunteer role, no wallet
    assert await is_team_member(team.id, li_member.id) and await is_team_member(team.id, han_member.id)


async def test_chinese_headers_role_names_and_separators(tree: Tree) -> None:
    content = member_csv(
        [["张三", "13700000001", "1号楼", "志愿者、楼栋长", "中文"], ["李四", "13700000002", "", "网格员，志愿者", ""]],
        header=("姓名", "手机", "所属组织", "角色", "语言"),
    )
    result = await import_members(content, organisation_id=tree.grid1, actor_ref="member:1")
    assert result.errors == []
    zhang = await get_member(result.created[0].id)
    assert zhang.home_organisation_id == tree.building1
    assert {grant.role for grant in zhang.grants} == {Role.VOLUNTEER, Role.BUILDING_HEAD}
    li = await get_member(result.created[1].id)
    assert li.home_organisation_id == tree.grid1


async def test_a_gbk_file_from_excel_is_read(tree: Tree) -> None:
    content = member_csv([["王建国", "13700000001", "第一网格"]], header=("姓名", "电话", "网格"), encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    result = await import_members(content, organisation_id=tree.community, actor_ref="member:1")
    assert result.errors == []
    member = await get_member(result.created[0].id)
    assert member.name == "王建国" and member.home_organisation_id == tree.grid1


async def test_a_utf8_file_with_bom_is_read(tree: Tree) -> None:
    content = member_csv([["刘洋", "13700000001"]], bom=True)
    result = await import_members(content, organisation_id=tree.community, actor_ref="member:1")
    assert result.errors == [] and result.created[0].name == "刘洋"


async def test_a_phone_twice_in_the_file_reports_the_later_lines(tree: Tree) -> None:
    content = member_csv([["甲", "13700000001"], ["乙", "13700000002"], ["丙", "137-0000-0001"], ["丁", "13700000001"]])
    result = await import_members(content, organisation_id=tree.community, actor_ref="member:1")
    assert [(error.line, error.field) for error in result.errors] == [(4, "phone"), (5, "phone")]
    assert "line 2" in result.errors[0].message and "第 2 行" in result.errors[0].message_zh
    assert not result.written


async def test_a_phone_already_registered_is_a_bad_row(tree: Tree) -> None:
    before = await counts()
    content = member_csv([["新人", "13700000001"], ["张秀英", "13900000004"]])
    result = await import_members(content, organisation_id=tree.community, actor_ref="member:1")
    assert [(error.line, error.field) for error in result.errors] == [(3, "phone")]
    assert "already registered" in result.errors[0].message
    assert await counts() == before


async def test_unknown_organisation_role_team_and_too_many_cells_are_reported(tree: Tree) -> None:
    content = member_csv(
        [
            ["甲", "13700000001", "邻里一网格", "", ""],  # a node outside the importing subtree
            ["乙", "13700000002", str(tree.other_grid), "", ""],
            ["丙", "13700000003", "", "队长", ""],  # unknown role
            ["丁", "13700000004", "", "组织者", ""],  # organiser cannot be imported
            ["戊", "13700000005", "", "", "不存在的队"],
            ["己", "13700000006", "", "", "", "多余"],
        ],
        header=("姓名", "手机号", "网格", "角色", "队伍"),
    )
    result = await import_members(content, organisation_id=tree.community, actor_ref="member:1")
    assert [(error.line, error.field) for error in result.errors] == [
        (2, "organisation"),
        (3, "organisation"),
        (4, "roles"),
        (5, "roles"),
        (6, "team"),
        (7, "row"),
    ]


async def test_a_team_of_another_branch_is_refused_for_that_row(tree: Tree) -> None:
    await create_team(organisation_id=tree.grid2, name_zh="二网格助老队", kind="elderly_care", actor_ref="member:1")
    content = member_csv([["甲", "13700000001", "第一网格", "二网格助老队"]], header=("姓名", "手机号", "网格", "队伍"))
    result = await import_members(content, organisation_id=tree.community, actor_ref="member:1")
    assert [error.field for error in result.errors] == ["team"]


async def test_dry_run_validates_and_writes_nothing(tree: Tree) -> None:
    before = await counts()
    result = await import_members(
        member_csv([["甲", "13700000001"]]), organisation_id=tree.community, actor_ref="member:1", dry_run=True
    )
    assert result.errors == [] and result.valid_rows == 1 and not result.written
    assert await counts() == before


async def test_file_level_problems_raise_with_clear_reasons(tree: Tree) -> None:
    with pytest.raises(ImportFileInvalid, match="required"):
        await import_members(member_csv([["甲"]], header=("姓名",)), organisation_id=tree.community, actor_ref="x")
    with pytest.raises(ImportFileInvalid, match="unknown column"):
        await import_members(
            member_csv([["甲", "13700000001", "x"]], header=("姓名", "手机号", "生日")),
            organisation_id=tree.community,
            actor_ref="x",
        )
    with pytest.raises(ImportFileInvalid, match="no member rows"):
        await import_members(member_csv([]), organisation_id=tree.community, actor_ref="x")
    with pytest.raises(ImportFileInvalid, match="UTF-8 or GBK"):
        await import_members(b"\x89PNG\r\n\x1a\n\x00\x00", organisation_id=tree.community, actor_ref="x")
    with pytest.raises(ImportFileTooLarge):
        await import_members(b"x" * (2 * 1024 * 1024 + 1), organisation_id=tree.community, actor_ref="x")
    too_many = member_csv([["甲", "13700000001"]] * (MAX_IMPORT_ROWS + 1))
    with pytest.raises(ImportFileTooLarge, match=str(MAX_IMPORT_ROWS)):
        await import_members(too_many, organisation_id=tree.community, actor_ref="x")


async def test_an_imported_member_logs_in_only_after_accepting_the_invitation(tree: Tree) -> None:
    result = await import_members(member_csv([["甲", "13700000001"]]), organisation_id=tree.community, actor_ref="x")
    code = result.created[0].invitation_code
    assert await authenticate("13700000001", PASSWORD) is None
    await accept_invitation(phone="13700000001", code=code, password=PASSWORD)
    member = await authenticate("13700000001", PASSWORD)
    assert member is not None and member.id == result.created[0].id
