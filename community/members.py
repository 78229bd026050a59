"""Members: registration, roles, authentication."""

from __future__ import annotations

import re

from pydantic import BaseModel

from community.accounts import open_wallet
from community.errors import InvalidMemberData, InvalidRole, MemberNotFound, PhoneTaken
from community.organisations import get_organisation
from community.passwords import (
    MAX_PASSWORD_CHARS,
    MIN_PASSWORD_CHARS,
    hash_password,
    needs_rehash,
    verify_password,
)
from community.roles import Role
from community.tables import Member, RoleGrant

# Mainland China mobile numbers: 11 digits starting 13x-19x.
_MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")


class Grant(BaseModel):
    organisation_id: int
    role: Role


class MemberOut(BaseModel):
    id: int
    name: str
    phone: str
    home_organisation_id: int
    preferred_language: str
    active: bool
    grants: list[Grant]


def normalise_phone(phone: str) -> str:
    """Strip spaces, dashes and a +86 / 0086 prefix; require a mainland mobile."""
    digits = re.sub(r"[\s-]", "", phone or "")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    if not _MAINLAND_MOBILE.match(digits):
        raise InvalidMemberData("phone must be a mainland mobile number (11 digits, 13x-19x)", field="phone")
    return digits


def mask_phone(phone: str) -> str:
    """138****0001: what people who are not this member's organisers see."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


async def _grants(member_id: int) -> list[Grant]:
    rows = await RoleGrant.select(RoleGrant.organisation, RoleGrant.role).where(RoleGrant.member == member_id).run()
    return [Grant(organisation_id=int(row["organisation"]), role=Role(row["role"])) for row in rows]


async def get_member(member_id: int) -> MemberOut:
    rows = await Member.select().where(Member.id == member_id).run()
    if not rows:
        raise MemberNotFound(f"member {member_id} does not exist", field="member_id")
    row = rows[0]
    return MemberOut(
        id=row["id"],
        name=row["name"],
        phone=row["phone"],
        home_organisation_id=row["home_organisation"],
        preferred_language=row["preferred_language"],
        active=bool(row["active"]),
        grants=await _grants(row["id"]),
    )


async def register_member(
    *,
    name: str,
    phone: str,
    password: str,
    home_organisation_id: int,
    roles: tuple[Role, ...] = (Role.VOLUNTEER,),
    preferred_language: str = "zh",
) -> MemberOut:
    """Create a member with a hashed password and roles over their home
    organisation. Volunteers get their wallet at once."""
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise InvalidMemberData("name must be 1-100 characters", field="name")
    phone = normalise_phone(phone)
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise InvalidMemberData(
            f"password must be {MIN_PASSWORD_CHARS}-{MAX_PASSWORD_CHARS} characters", field="password"
        )
    if preferred_language not in {"zh", "en"}:
        raise InvalidMemberData("preferred_language must be zh or en", field="preferred_language")
    await get_organisation(home_organisation_id)
    if await Member.exists().where(Member.phone == phone).run():
        raise PhoneTaken("a member with this phone number already exists", field="phone")
    inserted = await Member.insert(
        Member(
            name=name,
            phone=phone,
            password_hash=hash_password(password),
            home_organisation=home_organisation_id,
            preferred_language=preferred_language,
        )
    ).run()
    member_id = int(inserted[0]["id"])
    for role in roles:
        await grant_role(member_id, home_organisation_id, role)
    if Role.VOLUNTEER in roles:
        await open_wallet(member_id, home_organisation_id)
    return await get_member(member_id)


async def grant_role(member_id: int, organisation_id: int, role: Role | str) -> None:
    try:
        role = Role(role)
    except ValueError as error:
        raise InvalidRole(f"unknown role {role!r}", field="role") from error
    await get_organisation(organisation_id)
    exists = (
        await RoleGrant.exists()
        .where(
            (RoleGrant.member == member_id)
            & (RoleGrant.organisation == organisation_id)
            & (RoleGrant.role == role.value)
        )
        .run()
    )
    if not exists:
        await RoleGrant.insert(RoleGrant(member=member_id, organisation=organisation_id, role=role.value)).run()


async def authenticate(phone: str, password: str) -> MemberOut | None:
    """The member for these credentials, or None. Costs one argon2 verify
    whether or not the phone number is known."""
    try:
        phone = normalise_phone(phone)
    except InvalidMemberData:
        verify_password(None, password)
        return None
    rows = await Member.select(Member.id, Member.password_hash, Member.active).where(Member.phone == phone).run()
    stored = rows[0]["password_hash"] if rows else None
    if not verify_password(stored, password) or not rows or not rows[0]["active"]:
        return None
    if stored is not None and needs_rehash(stored):
        await Member.update({Member.password_hash: hash_password(password)}).where(Member.id == rows[0]["id"]).run()
    return await get_member(int(rows[0]["id"]))
