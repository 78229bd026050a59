"""The organisation tree. Depth is small (six levels), so subtree queries
walk it level by level rather than keeping a closure table."""

from __future__ import annotations

from pydantic import BaseModel

from community.accounts import open_issuer_accounts
from community.errors import InvalidOrganisationData, OrganisationNotFound
from community.names import name_problem
from community.roles import LEVEL_RANK, Level
from community.tables import Organisation
from core.database import in_write_transaction

# Bounds the tree walk: deeper than this is a cycle or a data error.
MAX_DEPTH = 12
# One page of a node listing; a street has tens of grids, a grid tens of buildings.
MAX_PAGE_SIZE = 500


class OrganisationOut(BaseModel):
    id: int
    parent_id: int | None
    level: str
    name_zh: str
    name_en: str
    issues_points: bool


class OrganisationPage(BaseModel):
    organisations: list[OrganisationOut]
    next_cursor: int | None


def _out(row: dict[str, object]) -> OrganisationOut:
    return OrganisationOut(
        id=int(str(row["id"])),
        parent_id=int(str(row["parent"])) if row["parent"] is not None else None,
        level=str(row["level"]),
        name_zh=str(row["name_zh"]),
        name_en=str(row["name_en"]),
        issues_points=bool(row["issues_points"]),
    )


async def get_organisation(organisation_id: int) -> OrganisationOut:
    rows = await Organisation.select().where(Organisation.id == organisation_id).run()
    if not rows:
        raise OrganisationNotFound(f"organisation {organisation_id} does not exist", field="organisation_id")
    return _out(rows[0])


async def create_organisation(
    *,
    name_zh: str,
    level: Level,
    parent_id: int | None = None,
    name_en: str = "",
    issues_points: bool = False,
) -> OrganisationOut:
    """Add a node under ``parent_id``; a child sits strictly below its parent.
    An issuing organisation gets its issuance and expiry accounts in the same
    transaction.

    No policy and no audit: this builds trees for trusted setup code (the
    demo seed, tests). A person adds a node through
    ``community.structure.create_organisation``, which checks who they are."""
    if not 1 <= len(name_zh.strip()) <= 200 or len(name_en.strip()) > 200:
        raise InvalidOrganisationData("an organisation needs a Chinese name of 1-200 characters", field="name_zh")
    for field, text in (("name_zh", name_zh), ("name_en", name_en)):
        if (problem := name_problem(text)) is not None:
            raise InvalidOrganisationData(problem, field=field)
    if parent_id is not None:
        parent = await get_organisation(parent_id)
        if LEVEL_RANK[Level(parent.level)] >= LEVEL_RANK[level]:
            raise InvalidOrganisationData(f"a {level} cannot sit under a {parent.level}", field="level")

    async def work() -> int:
        inserted = await Organisation.insert(
            Organisation(
                parent=parent_id,
                level=level.value,
                name_zh=name_zh.strip(),
                name_en=name_en.strip(),
                issues_points=issues_points,
            )
        ).run()
        organisation_id = int(inserted[0]["id"])
        if issues_points:
            await open_issuer_accounts(organisation_id)
        return organisation_id

    return await get_organisation(await in_write_transaction(work))


async def subtree_ids(root_id: int) -> set[int]:
    """``root_id`` and every organisation below it."""
    found = {root_id}
    frontier = [root_id]
    for _ in range(MAX_DEPTH):
        if not frontier:
            break
        rows = await Organisation.select(Organisation.id).where(Organisation.parent.is_in(frontier)).run()
        frontier = [int(row["id"]) for row in rows if int(row["id"]) not in found]
        found.update(frontier)
    return found


async def ancestor_ids(organisation_id: int) -> list[int]:
    """``organisation_id`` and its ancestors, nearest first."""
    chain: list[int] = []
    current: int | None = organisation_id
    for _ in range(MAX_DEPTH):
        if current is None:
            break
        chain.append(current)
        rows = await Organisation.select(Organisation.parent).where(Organisation.id == current).run()
        current = int(rows[0]["parent"]) if rows and rows[0]["parent"] is not None else None
    return chain


async def issuing_organisation_for(organisation_id: int) -> OrganisationOut | None:
    """The nearest organisation at or above ``organisation_id`` that issues points."""
    for candidate in await ancestor_ids(organisation_id):
        organisation = await get_organisation(candidate)
        if organisation.issues_points:
            return organisation
    return None


async def list_organisations(
    organisation_ids: set[int] | list[int], *, after_id: int | None = None, limit: int = MAX_PAGE_SIZE
) -> OrganisationPage:
    """A page of the given nodes in id order; ``next_cursor`` is the last id
    when more follow (keyset, so every page costs the same)."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidOrganisationData(f"limit must be 1-{MAX_PAGE_SIZE}", field="limit")
    if not organisation_ids:
        return OrganisationPage(organisations=[], next_cursor=None)
    query = Organisation.select().where(Organisation.id.is_in(sorted(organisation_ids)))
    if after_id is not None:
        query = query.where(Organisation.id > after_id)
    rows = await query.order_by(Organisation.id).limit(limit + 1).run()
    page = [_out(row) for row in rows[:limit]]
    return OrganisationPage(organisations=page, next_cursor=page[-1].id if len(rows) > limit else None)


async def child_ids(parent_id: int) -> set[int]:
    rows = await Organisation.select(Organisation.id).where(Organisation.parent == parent_id).run()
    return {int(row["id"]) for row in rows}
