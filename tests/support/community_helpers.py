"""Building blocks for the community tests: a small tree with one person per
role, principals as the API builds them, CSV files in any encoding, and
table counts for "nothing was written" checks."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from community.access import Principal
from community.members import create_member, get_member, grant_role
from community.organisations import create_organisation
from community.passwords import hash_password_blocking
from community.roles import Level, Role
from community.tables import AuditEvent, Invitation, Member, RoleGrant, TeamMember
from ledger.tables import LedgerAccount, LedgerEntry

PASSWORD = "correct-horse-1"


@functools.cache
def password_hash() -> str:
    """argon2 costs ~0.1 s a hash: pay it once for every member of the run."""
    return hash_password_blocking(PASSWORD)


@dataclass(frozen=True, slots=True)
class Tree:
    """城市 → 区 → 街道 → 平安社区 (issues points) → 第一网格 → 1号楼, 第二网格;
    and 邻里社区 with its own grid, outside the organiser's reach."""

    city: int
    district: int
    street: int
    community: int
    grid1: int
    building1: int
    grid2: int
    other_community: int
    other_grid: int
    admin: int
    organiser: int
    grid_worker: int
    volunteer: int
    neighbour: int
    outsider: int


async def add_member(
    name: str, phone: str, home: int, *roles: Role, password: bool = True, grants_at: int | None = None
) -> int:
    """A member with roles over ``grants_at`` (default: their home)."""
    member_id = await create_member(
        name=name,
        phone=phone,
        home_organisation_id=home,
        roles=tuple(role for role in roles if role == Role.VOLUNTEER),
        password_hash=password_hash() if password else "",
    )
    for role in roles:
        if role != Role.VOLUNTEER:
            await grant_role(member_id, grants_at or home, role)
    return member_id


async def build_tree() -> Tree:
    city = await create_organisation(name_zh="临沂市", level=Level.CITY)
    district = await create_organisation(name_zh="兰山区", level=Level.DISTRICT, parent_id=city.id)
    street = await create_organisation(name_zh="金雀山街道", level=Level.STREET, parent_id=district.id)
    community = await create_organisation(
        name_zh="平安社区", level=Level.COMMUNITY, parent_id=street.id, issues_points=True
    )
    grid1 = await create_organisation(name_zh="第一网格", level=Level.GRID, parent_id=community.id)
    building1 = await create_organisation(name_zh="1号楼", level=Level.BUILDING, parent_id=grid1.id)
    grid2 = await create_organisation(name_zh="第二网格", level=Level.GRID, parent_id=community.id)
    other = await create_organisation(name_zh="邻里社区", level=Level.COMMUNITY, parent_id=street.id)
    other_grid = await create_organisation(name_zh="邻里一网格", level=Level.GRID, parent_id=other.id)
    return Tree(
        city=city.id,
        district=district.id,
        street=street.id,
        community=community.id,
        grid1=grid1.id,
        building1=building1.id,
        grid2=grid2.id,
        other_community=other.id,
        other_grid=other_grid.id,
        admin=await add_member("系统管理员", "13900000001", city.id, Role.ADMIN),
        organiser=await add_member("陈书记", "13900000002", community.id, Role.ORGANIZER),
        grid_worker=await add_member("李网格", "13900000003", grid1.id, Role.GRID_WORKER),
        volunteer=await add_member("张秀英", "13900000004", grid1.id, Role.VOLUNTEER),
        neighbour=await add_member("王大妈", "13900000005", grid2.id, Role.VOLUNTEER),
        outsider=await add_member("赵邻里", "13900000006", other_grid.id, Role.VOLUNTEER),
    )


async def principal(member_id: int) -> Principal:
    """The caller as ``api/community/auth.py`` builds it from a token."""
    member = await get_member(member_id)
    return Principal(
        member_id=member.id,
        name=member.name,
        home_organisation_id=member.home_organisation_id,
        grants=tuple((grant.organisation_id, Role(grant.role)) for grant in member.grants),
    )


def member_csv(
    rows: Iterable[Sequence[object]],
    *,
    header: Sequence[str] = ("姓名", "手机号"),
    encoding: str = "utf-8",
    bom: bool = False,
    newline: str = "\r\n",
) -> bytes:
    """A CSV file as Excel writes it (CRLF lines)."""
    lines = [",".join(header)] + [",".join(str(cell) for cell in row) for row in rows]
    data = (newline.join(lines) + newline).encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def phones(count: int, *, start: int = 0) -> list[str]:
    """Distinct valid mobile numbers that ``build_tree`` does not use."""
    return [f"137{start + number:08d}" for number in range(count)]


async def counts() -> dict[str, int]:
    """Rows in every table an import writes to."""
    return {
        "members": await Member.count().run(),
        "grants": await RoleGrant.count().run(),
        "invitations": await Invitation.count().run(),
        "team_members": await TeamMember.count().run(),
        "accounts": await LedgerAccount.count().run(),
        "entries": await LedgerEntry.count().run(),
        "audit": await AuditEvent.count().run(),
    }
