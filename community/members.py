"""Members: registration, roles, authentication, listing.

A member registered by an organiser has no password (``password_hash`` is
empty) until they accept their invitation (``community/invitations.py``);
such a member cannot log in, whatever they type.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from piccolo.columns.combination import Or, Where

from community import audit
from community.accounts import can_earn, member_ref, open_wallet
from community.errors import InvalidMemberData, InvalidRole, MemberNotFound, PhoneTaken
from community.models import Grant, MemberPage, MemberRecord, grants_by_member
from community.names import name_problem
from community.organisations import get_organisation
from community.passwords import (
    MAX_PASSWORD_CHARS,
    MIN_PASSWORD_CHARS,
    hash_password,
    needs_rehash,
    verify_password,
)
from community.phones import mask_phone, normalise_phone, phone_search_digits
from community.roles import POST_ROLES, Role
from community.session_cache import member_changed
from community.tables import Member, RoleGrant
from core.cursors import decode_cursor, encode_cursor
from core.database import contains_ignoring_case, contains_pattern, in_write_transaction, is_unique_violation
from core.ids import MAX_ID

__all__ = ["mask_phone", "normalise_phone"]  # re-exported: callers import them from here

# What an organiser may give a member when registering or importing them;
# organiser and admin are granted through the posts API, which has its own rule.
REGISTRATION_ROLES = frozenset({Role.VOLUNTEER}) | POST_ROLES
LANGUAGES = frozenset({"zh", "en"})
MAX_NAME_CHARS = 100
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 200
MEMBERS_CURSOR = "members"


@dataclass(frozen=True, slots=True)
class _Credentials:
    """What a login checks. The hash stays in this module: ``MemberRecord``
    carries only whether there is one."""

    member_id: int
    password_hash: str
    active: bool

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> _Credentials:
        return cls(member_id=int(row["id"]), password_hash=str(row["password_hash"]), active=bool(row["active"]))


async def _grants_of(member_ids: list[int]) -> dict[int, tuple[Grant, ...]]:
    """Each member's grants, oldest first, in one query."""
    if not member_ids:
        return {}
    rows = (
        await RoleGrant.select(RoleGrant.member, RoleGrant.organisation, RoleGrant.role)
        .where(RoleGrant.member.is_in(member_ids))
        .order_by(RoleGrant.id)
        .run()
    )
    found = grants_by_member(rows)
    return {member_id: found.get(member_id, ()) for member_id in member_ids}


async def get_member(member_id: int) -> MemberRecord:
    rows = await Member.select().where(Member.id == member_id).run()
    if not rows:
        raise MemberNotFound(f"member {member_id} does not exist", field="member_id")
    return MemberRecord.from_row(rows[0], grants=(await _grants_of([member_id]))[member_id])


async def home_organisation_of(member_id: int) -> int:
    """Where the member lives (the scope of their wallet)."""
    homes = await Member.select(Member.home_organisation).where(Member.id == member_id).output(as_list=True).run()
    if not homes:
        raise MemberNotFound(f"member {member_id} does not exist", field="member_id")
    return int(homes[0])


async def registered_phones(phones: list[str]) -> set[str]:
    """Which of ``phones`` already belong to a member (chunked: SQLite caps
    the number of bound parameters per statement)."""
    found: set[str] = set()
    for start in range(0, len(phones), 500):
        chunk = phones[start : start + 500]
        found.update(await Member.select(Member.phone).where(Member.phone.is_in(chunk)).output(as_list=True).run())
    return found


def check_name(name: str) -> str:
    """A member's name, stripped: 1-100 characters, none of them hidden
    (bidi controls, control characters: ``community/names.py``)."""
    name = (name or "").strip()
    if not 1 <= len(name) <= MAX_NAME_CHARS:
        raise InvalidMemberData(f"name must be 1-{MAX_NAME_CHARS} characters", field="name")
    problem = name_problem(name)
    if problem is not None:
        raise InvalidMemberData(problem, field="name")
    return name


def check_language(preferred_language: str) -> str:
    if preferred_language not in LANGUAGES:
        raise InvalidMemberData("preferred_language must be zh or en", field="preferred_language")
    return preferred_language


def check_registration_roles(roles: tuple[Role | str, ...]) -> tuple[Role, ...]:
    """Roles an organiser may hand out at registration (volunteer and the
    grid posts); at least one, no repeats."""
    checked: list[Role] = []
    for value in roles:
        try:
            role = Role(value)
        except ValueError as error:
            raise InvalidRole(f"unknown role {value!r}", field="roles") from error
        if role not in REGISTRATION_ROLES:
            raise InvalidRole(f"{role} is granted through the posts API, not at registration", field="roles")
        if role not in checked:
            checked.append(role)
    if not checked:
        raise InvalidRole("a member needs at least one role", field="roles")
    return tuple(checked)


async def create_member(
    *,
    name: str,
    phone: str,
    home_organisation_id: int,
    roles: tuple[Role, ...],
    preferred_language: str = "zh",
    password_hash: str = "",
) -> int:
    """Insert a member with roles over their home organisation; volunteers
    get their wallet. Joins the caller's transaction when one is open.
    ``password_hash`` empty means "invited, cannot log in yet"."""
    name = check_name(name)
    phone = normalise_phone(phone)
    check_language(preferred_language)
    await get_organisation(home_organisation_id)
    if await Member.exists().where(Member.phone == phone).run():
        raise PhoneTaken("a member with this phone number already exists", field="phone")

    async def work() -> int:
        inserted = await Member.insert(
            Member(
                name=name,
                phone=phone,
                password_hash=password_hash,
                home_organisation=home_organisation_id,
                preferred_language=preferred_language,
            )
        ).run()
        member_id = int(inserted[0]["id"])
        for role in roles:
            await grant_role(member_id, home_organisation_id, role)
        if can_earn(roles):
            await open_wallet(member_id, home_organisation_id)
        return member_id

    try:
        return await in_write_transaction(work)
    except Exception as error:  # registered concurrently between the check and the insert
        if is_unique_violation(error):
            raise PhoneTaken("a member with this phone number already exists", field="phone") from error
        raise


def check_password(password: str) -> None:
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise InvalidMemberData(
            f"password must be {MIN_PASSWORD_CHARS}-{MAX_PASSWORD_CHARS} characters", field="password"
        )


async def list_members(
    *,
    organisation_ids: set[int],
    role: Role | None = None,
    search: str | None = None,
    search_phone: bool = False,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> MemberPage:
    """Members whose home is one of ``organisation_ids``, in id order
    (keyset: ``cursor`` is the previous page's ``next_cursor``).
    ``role`` keeps members holding that role anywhere; ``search`` matches the
    name, and the phone too when ``search_phone`` (callers pass it only for
    people allowed to see full numbers, so a search cannot reveal digits)."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidMemberData(f"limit must be 1-{MAX_PAGE_SIZE}", field="limit")
    after = decode_cursor(MEMBERS_CURSOR, cursor, key_min=1, key_max=MAX_ID)[0] if cursor is not None else 0
    if not organisation_ids:
        return MemberPage(members=[], next_cursor=None)
    query = Member.select().where(Member.home_organisation.is_in(sorted(organisation_ids)), Member.id > after)
    if role is not None:
        query = query.where(Member.id.is_in(RoleGrant.select(RoleGrant.member).where(RoleGrant.role == role.value)))
    if search and search.strip():
        matches: Where | Or = contains_ignoring_case(Member.name, search)
        digits = phone_search_digits(search) if search_phone else None
        if digits:
            matches = matches | Member.phone.like(contains_pattern(digits))
        query = query.where(matches)
    rows = await query.order_by(Member.id).limit(limit + 1).run()
    bare = [MemberRecord.from_row(row, grants=()) for row in rows[:limit]]
    grants = await _grants_of([member.id for member in bare])
    members = [replace(member, grants=grants[member.id]) for member in bare]
    return MemberPage(
        members=members,
        next_cursor=encode_cursor(MEMBERS_CURSOR, members[-1].id) if len(rows) > limit else None,
    )


async def register_member(
    *,
    name: str,
    phone: str,
    password: str,
    home_organisation_id: int,
    roles: tuple[Role, ...] = (Role.VOLUNTEER,),
    preferred_language: str = "zh",
) -> MemberRecord:
    """Create a member with a hashed password and roles over their home
    organisation. Volunteers get their wallet at once."""
    check_name(name)
    normalise_phone(phone)
    check_password(password)
    check_language(preferred_language)
    member_id = await create_member(
        name=name,
        phone=phone,
        home_organisation_id=home_organisation_id,
        roles=roles,
        preferred_language=preferred_language,
        password_hash=await hash_password(password),
    )
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
        await member_changed(member_id)


async def revoke_role(member_id: int, organisation_id: int, role: Role) -> bool:
    """Remove one grant; False if the member did not hold it."""
    rows = (
        await RoleGrant.delete()
        .where(
            (RoleGrant.member == member_id)
            & (RoleGrant.organisation == organisation_id)
            & (RoleGrant.role == role.value)
        )
        .returning(RoleGrant.id)
        .run()
    )
    if rows:
        await member_changed(member_id)
    return bool(rows)


async def authenticate(phone: str, password: str) -> MemberRecord | None:
    """The member for these credentials, or None. Costs one argon2 verify
    (off the event loop) whether or not the phone number is known, and
    whether or not the member has set a password yet (an invited member has
    none and is refused)."""
    try:
        phone = normalise_phone(phone)
    except InvalidMemberData:
        await verify_password(None, password)
        return None
    rows = await Member.select(Member.id, Member.password_hash, Member.active).where(Member.phone == phone).run()
    credentials = _Credentials.from_row(rows[0]) if rows else None
    stored = credentials.password_hash if credentials is not None else None
    if not await verify_password(stored, password) or credentials is None or not credentials.active:
        return None
    if needs_rehash(credentials.password_hash):
        new_hash = await hash_password(password)
        await Member.update({Member.password_hash: new_hash}).where(Member.id == credentials.member_id).run()
    return await get_member(credentials.member_id)


async def password_matches(member_id: int, password: str) -> bool:
    """Is ``password`` the member's current one? One argon2 verify, off the
    event loop, also for a member without a password (who never matches)."""
    hashes = await Member.select(Member.password_hash).where(Member.id == member_id).output(as_list=True).run()
    return await verify_password(str(hashes[0]) if hashes else None, password)


async def bump_session_version(member_id: int) -> None:
    """Sign the member out everywhere: every token issued before now carries
    an older version and answers 401. Joins the caller's transaction, so the
    change that calls for it and the sign-out commit together; after the
    commit every API process forgets the member (``community/session_cache.py``)."""
    await Member.update({Member.session_version: Member.session_version + 1}).where(Member.id == member_id).run()
    await member_changed(member_id)


async def create_admin(
    *, name: str, phone: str, organisation_id: int, password: str, actor_ref: str, preferred_language: str = "zh"
) -> MemberRecord:
    """Bootstrap an admin over ``organisation_id`` with a password (the
    ``fengling members create-admin`` command: there is nobody yet to grant
    the role). Member, grant and audit row commit together or not at all."""
    check_name(name)
    normalise_phone(phone)
    check_password(password)
    check_language(preferred_language)
    await get_organisation(organisation_id)
    password_hash = await hash_password(password)  # slow: outside the write lock, off the loop

    async def work() -> int:
        member_id = await create_member(
            name=name,
            phone=phone,
            home_organisation_id=organisation_id,
            roles=(),
            preferred_language=preferred_language,
            password_hash=password_hash,
        )
        await grant_role(member_id, organisation_id, Role.ADMIN)
        await audit.record(actor_ref, "member.create_admin", member_ref(member_id), organisation_id=organisation_id)
        return member_id

    try:
        member_id = await in_write_transaction(work)
    except Exception as error:  # registered concurrently between the check and the insert
        if is_unique_violation(error):
            raise PhoneTaken("a member with this phone number already exists", field="phone") from error
        raise
    return await get_member(member_id)
