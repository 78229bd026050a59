"""Bulk registration of members from a CSV file (批量导入成员).

An organiser exports a sheet from Excel and imports it at a node they
manage. Guarantees:

- The whole file is validated before anything is written; every bad row is
  reported with its line number (the header is line 1) and the field at
  fault. Unless ``skip_bad_rows`` is set, one bad row means nothing is
  written; with it, the valid rows are written and the bad ones reported.
- Writing is one transaction: members, role grants, wallets, team places,
  invitations and the audit row all commit together or not at all.
- Imported members get invitations (one-time codes, ``community/invitations``),
  never passwords, so a row costs no argon2 hash: 1,000 rows take seconds.
- Limits: ``MAX_IMPORT_BYTES`` and ``MAX_IMPORT_ROWS``, so one request cannot
  hold the database's write lock for long.

Columns (Chinese or English headers, any order; 序号/备注-style columns are
ignored): 姓名/name (required), 手机号/手机/电话/phone (required, mainland
mobile), 网格/组织/所属组织/organisation (an id or the exact Chinese name of a
node in the importing node's subtree; default the importing node),
角色/roles (Chinese names or English values separated by , ， 、 or ;
only volunteer and the grid posts; default volunteer), 队伍/team (a team id or
name of a team of a node in the importing node's subtree that the member
may join, see ``community/teams.py``), 语言/language
(zh or en). Encodings: UTF-8 with or without BOM, and GB18030/GBK (what
Excel in China saves as "CSV").
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from community import audit
from community.accounts import open_wallet, organisation_ref
from community.errors import ImportConflict, ImportFileInvalid, ImportFileTooLarge, InvalidMemberData
from community.invitations import INVITATION_VALID_DAYS, code_digest, new_invitation_code
from community.members import MAX_NAME_CHARS, REGISTRATION_ROLES, normalise_phone, registered_phones
from community.models import OrganisationRecord, TeamRecord
from community.names import name_problem
from community.organisations import get_organisation, subtree
from community.roles import ROLE_NAMES, Role
from community.tables import Invitation, Member, RoleGrant, TeamMember
from community.teams import list_teams, may_join
from core.clock import utc_now
from core.database import in_write_transaction, is_unique_violation

# A sheet of 5,000 people is a whole street; larger lists are split by grid.
# 2 MB holds 5,000 rows with room to spare (a row is ~60 bytes).
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 5000
# Rows per multi-row INSERT: well under SQLite's bound-parameter cap.
WRITE_CHUNK_ROWS = 200

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "name", "full name"),
    "phone": ("手机号", "手机", "电话", "手机号码", "联系电话", "phone", "mobile", "phone number"),
    "organisation": ("网格", "组织", "所属组织", "所属网格", "organisation", "organization", "org"),
    "roles": ("角色", "role", "roles"),
    "team": ("队伍", "志愿队", "所属队伍", "team"),
    "language": ("语言", "language", "lang"),
}
REQUIRED_COLUMNS = ("name", "phone")
# Columns people keep in their sheets that carry nothing for us.
IGNORED_COLUMNS = frozenset({"序号", "编号", "备注", "no", "no.", "#", "note", "notes", "remark", "remarks"})
_HEADER_TO_COLUMN = {alias.lower(): column for column, aliases in COLUMN_ALIASES.items() for alias in aliases}
_ROLE_SEPARATORS = re.compile(r"[,，、;；]")
_LANGUAGES = {
    "zh": "zh",
    "zh-cn": "zh",
    "cn": "zh",
    "中文": "zh",
    "汉语": "zh",
    "chinese": "zh",
    "en": "en",
    "english": "en",
    "英文": "en",
    "英语": "en",
}

ProgressCallback = Callable[[str, int, int], None]
"""Called as ``progress(phase, done, total)``; phase is ``validate`` or ``write``."""


@dataclass(frozen=True, slots=True)
class ImportRowError:
    """One problem with one row: the line (the header is line 1), the column
    at fault, and what is wrong in English and Chinese."""

    line: int
    field: str
    message: str
    message_zh: str


@dataclass(frozen=True, slots=True)
class ImportedMember:
    """A member the import created, with their one-time code (shown once)."""

    line: int
    id: int
    name: str
    phone: str
    organisation_id: int
    roles: list[Role]
    team_id: int | None
    invitation_code: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ImportResult:
    organisation_id: int
    total_rows: int
    valid_rows: int
    dry_run: bool
    skip_bad_rows: bool
    written: bool
    created: list[ImportedMember]
    errors: list[ImportRowError]

    @property
    def bad_lines(self) -> list[int]:
        return sorted({error.line for error in self.errors})


@dataclass(frozen=True, slots=True)
class CsvRow:
    line: int
    cells: dict[str, str]
    extra_cells: int


@dataclass(frozen=True, slots=True)
class MemberCsv:
    columns: list[str]
    rows: list[CsvRow]


@dataclass(slots=True)
class _Candidate:
    line: int
    name: str
    phone: str
    organisation_id: int
    roles: tuple[Role, ...]
    team_id: int | None
    language: str


@dataclass(frozen=True, slots=True)
class _Scope:
    """What a row may refer to: the importing node's subtree and its teams."""

    root_id: int
    organisations: dict[int, OrganisationRecord]
    teams: dict[int, TeamRecord]

    def ids_named(self, name_zh: str) -> list[int]:
        return [o.id for o in self.organisations.values() if o.name_zh.strip() == name_zh]


# --- reading the file ------------------------------------------------------


def decode_csv(content: bytes) -> str:
    """UTF-8 (BOM or not) first; GB18030 (a superset of GBK) otherwise."""
    if len(content) > MAX_IMPORT_BYTES:
        raise ImportFileTooLarge(
            f"the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB; split it by grid", field="file"
        )
    if content.startswith(codecs.BOM_UTF8):
        candidates = [("utf-8", content[len(codecs.BOM_UTF8) :])]
    else:
        candidates = [("utf-8", content), ("gb18030", content)]
    for encoding, data in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise ImportFileInvalid("the file is not a CSV text in UTF-8 or GBK (save it from Excel as CSV)", field="file")


def _canonical_header(text: str) -> str | None:
    key = text.strip().strip("\ufeff").strip().lower()
    if key in IGNORED_COLUMNS:
        return None
    return _HEADER_TO_COLUMN.get(key, "")


def read_member_csv(content: bytes) -> MemberCsv:  # noqa: C901, PLR0912 -- each file-level refusal in file order; to split after #9 merges
    """Decode and split the file into rows keyed by canonical column, with
    the line each row starts on. File-level problems raise; row-level ones
    are left to validation."""
    text = decode_csv(content)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line and "，" not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise ImportFileInvalid("the file is empty; line 1 must be the header (姓名,手机号,…)", field="file")
        columns: list[str | None] = []
        unknown: list[str] = []
        for cell in header:
            canonical = _canonical_header(cell)
            if canonical == "":
                if cell.strip():
                    unknown.append(cell.strip())
                canonical = None
            columns.append(canonical)
        if unknown:
            raise ImportFileInvalid(
                f"unknown column(s) in line 1: {', '.join(unknown)}; expected 姓名/name, 手机号/phone, "
                "网格/organisation, 角色/roles, 队伍/team, 语言/language",
                field="file",
            )
        named = [column for column in columns if column is not None]
        repeated = sorted({column for column in named if named.count(column) > 1})
        if repeated:
            raise ImportFileInvalid(f"column(s) given twice in line 1: {', '.join(repeated)}", field="file")
        missing = [column for column in REQUIRED_COLUMNS if column not in named]
        if missing:
            raise ImportFileInvalid(
                f"line 1 lacks the required column(s): {', '.join(missing)} (姓名, 手机号)", field="file"
            )
        rows: list[CsvRow] = []
        previous_end = reader.line_num
        for cells in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # blank lines and Excel's trailing ",,,," rows
            if len(rows) == MAX_IMPORT_ROWS:
                raise ImportFileTooLarge(
                    f"the file has more than {MAX_IMPORT_ROWS} member rows; split it by grid", field="file"
                )
            values = {
                column: cells[index].strip()
                for index, column in enumerate(columns)
                if column is not None and index < len(cells)
            }
            extra = len(cells) - len(columns)
            while extra > 0 and not cells[len(columns) + extra - 1].strip():
                extra -= 1  # trailing empty cells are harmless
            rows.append(CsvRow(line=start, cells=values, extra_cells=max(0, extra)))
    except csv.Error as error:
        raise ImportFileInvalid(f"line {reader.line_num} cannot be read as CSV: {error}", field="file") from error
    if not rows:
        raise ImportFileInvalid("the file has a header but no member rows", field="file")
    return MemberCsv(columns=named, rows=rows)


# --- validating rows -------------------------------------------------------


def _role_lookup() -> dict[str, Role]:
    lookup: dict[str, Role] = {}
    for role, (zh, en) in ROLE_NAMES.items():
        lookup[zh] = role
        lookup[en.lower()] = role
        lookup[role.value] = role
    return lookup


_ROLES_BY_NAME = _role_lookup()


async def _load_scope(organisation_id: int) -> _Scope:
    organisations = {organisation.id: organisation for organisation in await subtree(organisation_id)}
    teams = {team.id: team for team in await list_teams(set(organisations), limit=None)}
    return _Scope(root_id=organisation_id, organisations=organisations, teams=teams)


def _error(line: int, column: str, message: str, message_zh: str) -> ImportRowError:
    return ImportRowError(line=line, field=column, message=message, message_zh=message_zh)


def _organisation_of(row: CsvRow, scope: _Scope, errors: list[ImportRowError]) -> int | None:
    text = row.cells.get("organisation", "")
    if not text:
        return scope.root_id
    if text.isdigit():
        if int(text) in scope.organisations:
            return int(text)
        errors.append(
            _error(
                row.line,
                "organisation",
                f"organisation {text} is not in the importing organisation's subtree",
                f"组织 {text} 不在本次导入的组织范围内",
            )
        )
        return None
    matches = scope.ids_named(text)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        errors.append(
            _error(row.line, "organisation", f"unknown organisation {text!r}", f"找不到组织“{text}”（须为本组织下级）")
        )
    else:
        errors.append(
            _error(
                row.line,
                "organisation",
                f"several organisations are called {text!r}; use the id ({', '.join(map(str, matches))})",
                f"有多个组织名为“{text}”，请填写组织编号",
            )
        )
    return None


def _roles_of(row: CsvRow, errors: list[ImportRowError]) -> tuple[Role, ...] | None:
    text = row.cells.get("roles", "")
    if not text:
        return (Role.VOLUNTEER,)
    roles: list[Role] = []
    ok = True
    for token in (part.strip() for part in _ROLE_SEPARATORS.split(text)):
        if not token:
            continue
        role = _ROLES_BY_NAME.get(token) or _ROLES_BY_NAME.get(token.lower())
        if role is None:
            errors.append(_error(row.line, "roles", f"unknown role {token!r}", f"未知角色“{token}”"))
            ok = False
        elif role not in REGISTRATION_ROLES:
            errors.append(
                _error(
                    row.line,
                    "roles",
                    f"role {role.value} cannot be given by import (only volunteer and the grid posts)",
                    f"导入只能授予志愿者和网格岗位角色，不能授予“{ROLE_NAMES[role][0]}”",
                )
            )
            ok = False
        elif role not in roles:
            roles.append(role)
    if not ok:
        return None
    return tuple(roles) or (Role.VOLUNTEER,)


def _team_of(row: CsvRow, organisation_id: int | None, scope: _Scope, errors: list[ImportRowError]) -> int | None:
    text = row.cells.get("team", "")
    if not text or organisation_id is None:
        return None
    if text.isdigit():
        found = [int(text)] if int(text) in scope.teams else []
    else:
        found = [team.id for team in scope.teams.values() if team.name_zh.strip() == text]
    chain = scope.organisations[organisation_id].ancestor_ids
    open_to_member = [team_id for team_id in found if may_join(scope.teams[team_id].organisation_id, chain)]
    if len(open_to_member) == 1:
        return open_to_member[0]
    if len(open_to_member) > 1:
        errors.append(
            _error(
                row.line,
                "team",
                f"several teams are called {text!r}; use the id",
                f"有多个队伍名为“{text}”，请填写队伍编号",
            )
        )
    elif found:
        errors.append(
            _error(
                row.line,
                "team",
                f"team {text!r} belongs to another part of the tree; members join teams of their home or above",
                f"队伍“{text}”不接收该组织的成员（只能加入本组织或上级组织的队伍）",
            )
        )
    else:
        errors.append(_error(row.line, "team", f"unknown team {text!r}", f"找不到队伍“{text}”"))
    return None


def _language_of(row: CsvRow, errors: list[ImportRowError]) -> str | None:
    text = row.cells.get("language", "")
    if not text:
        return "zh"
    language = _LANGUAGES.get(text.lower())
    if language is None:
        errors.append(_error(row.line, "language", f"language must be zh or en, not {text!r}", "语言须为 zh 或 en"))
    return language


async def validate_rows(  # noqa: C901, PLR0912 -- one check per column; to split after #9 merges
    parsed: MemberCsv, organisation_id: int, *, progress: ProgressCallback | None = None
) -> tuple[list[_Candidate], list[ImportRowError]]:
    """Check every row; return the valid ones and every problem found.
    Reads the database (scope, registered phones) but writes nothing."""
    scope = await _load_scope(organisation_id)
    errors: list[ImportRowError] = []
    candidates: list[_Candidate] = []
    first_line_of_phone: dict[str, int] = {}
    total = len(parsed.rows)
    for done, row in enumerate(parsed.rows, start=1):
        row_errors: list[ImportRowError] = []
        if row.extra_cells:
            row_errors.append(
                _error(
                    row.line,
                    "row",
                    f"{row.extra_cells} more cell(s) than the header has columns",
                    f"比表头多出 {row.extra_cells} 列",
                )
            )
        name = row.cells.get("name", "")
        if not name:
            row_errors.append(_error(row.line, "name", "name is missing", "缺少姓名"))
        elif len(name) > MAX_NAME_CHARS:
            row_errors.append(
                _error(row.line, "name", f"name is longer than {MAX_NAME_CHARS}", f"姓名超过 {MAX_NAME_CHARS} 字")
            )
        elif (problem := name_problem(name)) is not None:
            row_errors.append(_error(row.line, "name", problem, "姓名含有控制字符或不可见字符"))
        phone = ""
        raw_phone = row.cells.get("phone", "")
        try:
            phone = normalise_phone(raw_phone)
        except InvalidMemberData:
            if not raw_phone:
                row_errors.append(_error(row.line, "phone", "phone is missing", "缺少手机号"))
            else:
                row_errors.append(
                    _error(
                        row.line,
                        "phone",
                        f"{raw_phone!r} is not a mainland mobile number (11 digits, 13x-19x)",
                        f"“{raw_phone}”不是有效的手机号（11 位，13-19 开头）",
                    )
                )
        if phone:
            first = first_line_of_phone.setdefault(phone, row.line)
            if first != row.line:
                row_errors.append(
                    _error(
                        row.line,
                        "phone",
                        f"phone {phone} already appears on line {first}",
                        f"手机号 {phone} 与第 {first} 行重复",
                    )
                )
        home = _organisation_of(row, scope, row_errors)
        roles = _roles_of(row, row_errors)
        team_id = _team_of(row, home, scope, row_errors)
        language = _language_of(row, row_errors)
        if row_errors:
            errors.extend(row_errors)
        elif home is not None and roles is not None and language is not None:
            candidates.append(
                _Candidate(
                    line=row.line,
                    name=name,
                    phone=phone,
                    organisation_id=home,
                    roles=roles,
                    team_id=team_id,
                    language=language,
                )
            )
        if progress is not None:
            progress("validate", done, total)
    taken = await registered_phones([candidate.phone for candidate in candidates])
    if taken:
        errors.extend(
            _error(
                candidate.line,
                "phone",
                f"phone {candidate.phone} is already registered",
                f"手机号 {candidate.phone} 已注册",
            )
            for candidate in candidates
            if candidate.phone in taken
        )
        candidates = [candidate for candidate in candidates if candidate.phone not in taken]
    errors.sort(key=lambda error: error.line)
    return candidates, errors


# --- writing ---------------------------------------------------------------


async def _write(
    candidates: list[_Candidate],
    *,
    organisation_id: int,
    actor_ref: str,
    created_by: int | None,
    file_sha256: str,
    skipped_lines: list[int],
    progress: ProgressCallback | None,
) -> list[ImportedMember]:
    now = utc_now()
    expires_at = now + timedelta(days=INVITATION_VALID_DAYS)

    async def work() -> list[ImportedMember]:
        created: list[ImportedMember] = []
        total = len(candidates)
        for start in range(0, total, WRITE_CHUNK_ROWS):
            chunk = candidates[start : start + WRITE_CHUNK_ROWS]
            await Member.insert(
                *(
                    Member(
                        name=candidate.name,
                        phone=candidate.phone,
                        password_hash="",
                        home_organisation=candidate.organisation_id,
                        preferred_language=candidate.language,
                        created_at=now,
                    )
                    for candidate in chunk
                )
            ).run()
            # Ids by phone (unique) rather than by RETURNING order, which
            # SQLite does not promise.
            id_rows = (
                await Member.select(Member.id, Member.phone)
                .where(Member.phone.is_in([candidate.phone for candidate in chunk]))
                .run()
            )
            ids = {str(row["phone"]): int(row["id"]) for row in id_rows}
            await RoleGrant.insert(
                *(
                    RoleGrant(member=ids[candidate.phone], organisation=candidate.organisation_id, role=role.value)
                    for candidate in chunk
                    for role in candidate.roles
                )
            ).run()
            teamed = [candidate for candidate in chunk if candidate.team_id is not None]
            if teamed:
                await TeamMember.insert(
                    *(TeamMember(team=candidate.team_id, member=ids[candidate.phone]) for candidate in teamed)
                ).run()
            codes = {candidate.phone: new_invitation_code() for candidate in chunk}
            await Invitation.insert(
                *(
                    Invitation(
                        member=ids[candidate.phone],
                        code_sha256=code_digest(codes[candidate.phone]),
                        created_by=created_by,
                        created_at=now,
                        expires_at=expires_at,
                    )
                    for candidate in chunk
                )
            ).run()
            for candidate in chunk:
                if Role.VOLUNTEER in candidate.roles:
                    await open_wallet(ids[candidate.phone], candidate.organisation_id)
                created.append(
                    ImportedMember(
                        line=candidate.line,
                        id=ids[candidate.phone],
                        name=candidate.name,
                        phone=candidate.phone,
                        organisation_id=candidate.organisation_id,
                        roles=list(candidate.roles),
                        team_id=candidate.team_id,
                        invitation_code=codes[candidate.phone],
                        expires_at=expires_at,
                    )
                )
            if progress is not None:
                progress("write", len(created), total)
        await audit.record(
            actor_ref,
            "members.import",
            organisation_ref(organisation_id),
            created=len(created),
            member_ids=[member.id for member in created],
            skipped_lines=skipped_lines,
            file_sha256=file_sha256,
        )
        return created

    try:
        return await in_write_transaction(work)
    except Exception as error:
        if is_unique_violation(error):
            raise ImportConflict(
                "a phone number in the file was registered while the import ran; nothing was written, "
                "run the import again",
                field="file",
            ) from error
        raise


async def import_members(
    content: bytes,
    *,
    organisation_id: int,
    actor_ref: str,
    created_by: int | None = None,
    skip_bad_rows: bool = False,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> ImportResult:
    """Validate the whole file, then write it in one transaction (or, with
    bad rows and no ``skip_bad_rows``, write nothing). ``dry_run`` only
    validates. File-level problems raise ``ImportFileInvalid`` or
    ``ImportFileTooLarge``; row problems are in the result's ``errors``."""
    await get_organisation(organisation_id)
    parsed = read_member_csv(content)
    candidates, errors = await validate_rows(parsed, organisation_id, progress=progress)
    write = not dry_run and bool(candidates) and (skip_bad_rows or not errors)
    created: list[ImportedMember] = []
    if write:
        created = await _write(
            candidates,
            organisation_id=organisation_id,
            actor_ref=actor_ref,
            created_by=created_by,
            file_sha256=hashlib.sha256(content).hexdigest(),
            skipped_lines=sorted({error.line for error in errors}),
            progress=progress,
        )
    return ImportResult(
        organisation_id=organisation_id,
        total_rows=len(parsed.rows),
        valid_rows=len(candidates),
        dry_run=dry_run,
        skip_bad_rows=skip_bad_rows,
        written=write,
        created=created,
        errors=errors,
    )
