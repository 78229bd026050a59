"""``fengling members import``, run in-process on the test database."""

from __future__ import annotations

import asyncio
import csv
import re
from pathlib import Path

from typer.testing import CliRunner

from admin.cli import app
from community.invitations import accept_invitation
from tests.support.community_helpers import PASSWORD, Tree, build_tree, counts, member_csv

runner = CliRunner()


def _tree() -> Tree:
    return asyncio.run(build_tree())


def _file(tmp_path: Path, rows: list[list[object]], **options: object) -> Path:
    path = tmp_path / "members.csv"
    path.write_bytes(member_csv(rows, **options))  # type: ignore[arg-type]
    return path


def test_a_file_with_a_bad_row_writes_nothing_lists_the_line_and_exits_1(tmp_path: Path) -> None:
    tree = _tree()
    path = _file(tmp_path, [["甲", "13700000001"], ["乙", "1234"], ["丙", "13700000003"]])
    before = asyncio.run(counts())
    result = runner.invoke(app, ["members", "import", str(path), "--organisation", str(tree.community)])
    assert result.exit_code == 1, result.output
    assert "Bad rows (1)" in result.output and "nothing was written" in result.output
    assert "│    3 │ phone" in result.output
    assert asyncio.run(counts()) == before


def test_skip_bad_rows_writes_the_rest_and_saves_the_codes(tmp_path: Path) -> None:
    tree = _tree()
    path = _file(tmp_path, [["甲", "13700000001"], ["乙", "1234"], ["丙", "13700000003"]], encoding="gbk", newline="\n")
    invites = tmp_path / "invites.csv"
    result = runner.invoke(
        app,
        [
            "members",
            "import",
            str(path),
            "--organisation",
            str(tree.community),
            "--skip-bad-rows",
            "--invites-out",
            str(invites),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "imported 2 members" in result.output
    with invites.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert invites.stat().st_mode & 0o777 == 0o600  # the codes are for the operator's eyes only
    assert rows[0][0] == "行号 line" and [row[0] for row in rows[1:]] == ["2", "4"]
    # The expiry in China time, and the header says so.
    assert rows[0][5] == "有效期至（北京时间） expires (China time)"
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", row[5]) for row in rows[1:])
    assert [row[2] for row in rows[1:]] == ["甲", "丙"]
    member = asyncio.run(accept_invitation(phone=rows[1][3], code=rows[1][4], password=PASSWORD))
    assert member.name == "甲"


def test_dry_run_checks_and_writes_nothing(tmp_path: Path) -> None:
    tree = _tree()
    path = _file(tmp_path, [["甲", "13700000001"]], bom=True)
    before = asyncio.run(counts())
    result = runner.invoke(app, ["members", "import", str(path), "--organisation", str(tree.grid1), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "valid 1" in result.output and "(dry run)" in result.output
    assert asyncio.run(counts()) == before


def test_an_unreadable_file_or_unknown_organisation_exits_1(tmp_path: Path) -> None:
    tree = _tree()
    path = _file(tmp_path, [["甲"]], header=("姓名",))
    result = runner.invoke(app, ["members", "import", str(path), "--organisation", str(tree.community)])
    assert result.exit_code == 1 and "required column" in result.output
    good = _file(tmp_path, [["甲", "13700000001"]])
    assert runner.invoke(app, ["members", "import", str(good), "--organisation", "999999"]).exit_code == 1
    assert runner.invoke(app, ["members", "import", str(tmp_path / "none.csv"), "--organisation", "1"]).exit_code == 1


def test_an_existing_invites_file_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    """Codes are shown once: an --invites-out file that cannot be created
    (it exists) stops the import before it writes, so no code is lost and no
    file is overwritten."""
    tree = _tree()
    path = _file(tmp_path, [["甲", "13700000001"]])
    invites = tmp_path / "invites.csv"
    invites.write_text("keep me", encoding="utf-8")
    before = asyncio.run(counts())
    result = runner.invoke(
        app, ["members", "import", str(path), "--organisation", str(tree.community), "--invites-out", str(invites)]
    )
    # Rich wraps long lines at the console width; the temporary path is long.
    assert result.exit_code == 1 and "already exists" in " ".join(result.output.split())
    assert invites.read_text(encoding="utf-8") == "keep me"
    assert asyncio.run(counts()) == before
