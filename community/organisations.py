"""The organisation tree: nodes, their ancestors and their subtrees.

Each node stores its materialised path (``community/tree_paths.py``), so the
questions every policy asks cost a fixed number of indexed queries whatever
the depth:

- ``ancestor_ids``: one row by primary key, the chain read off its path;
- ``subtree_ids`` / ``union_of_subtrees``: one query, an index range over
  ``path`` per root;
- ``issuing_organisation_for``: the chain, then the issuers on it.

Nodes are created here and never move or disappear, so a path is written
once, in the transaction that creates its node.
"""

from __future__ import annotations

from collections.abc import Iterable

from piccolo.custom_types import Combinable

from community.accounts import open_issuer_accounts
from community.errors import InvalidOrganisationData, OrganisationNotFound
from community.models import OrganisationPage, OrganisationRecord
from community.names import name_problem
from community.roles import LEVEL_RANK, Level
from community.tables import Organisation
from community.tree_paths import (
    MAX_DEPTH,
    SEGMENT_DIGITS,
    SUBTREE_END,
    ancestors_nearest_first,
    child_path,
    subtree_range,
)
from core.cursors import decode_cursor, encode_cursor
from core.database import in_write_transaction
from core.fixed_sql import fetch, fixed_sql
from core.ids import MAX_ID

# One page of a node listing; a street has tens of grids, a grid tens of buildings.
MAX_PAGE_SIZE = 500
CHILDREN_CURSOR = "organisation-children"
SUBTREE_CURSOR = "organisation-subtree"

# Every node in the subtree of any of the given roots: for each root (by
# primary key) one range scan of the path index. Built from constants only;
# the ids are bound parameters.
_SUBTREES_SQL = (
    "SELECT below.id AS id FROM community_organisation AS below JOIN community_organisation AS root "  # noqa: S608
    f"ON below.path >= root.path AND below.path < root.path || '{SUBTREE_END}' "
    "WHERE root.id IN ({roots})"
)


async def get_organisation(organisation_id: int) -> OrganisationRecord:
    rows = await Organisation.select().where(Organisation.id == organisation_id).run()
    if not rows:
        raise OrganisationNotFound(f"organisation {organisation_id} does not exist", field="organisation_id")
    return OrganisationRecord.from_row(rows[0])


def _check_names(name_zh: str, name_en: str) -> None:
    if not 1 <= len(name_zh.strip()) <= 200 or len(name_en.strip()) > 200:
        raise InvalidOrganisationData("an organisation needs a Chinese name of 1-200 characters", field="name_zh")
    for field, text in (("name_zh", name_zh), ("name_en", name_en)):
        if (problem := name_problem(text)) is not None:
            raise InvalidOrganisationData(problem, field=field)


async def _insert(
    parent: OrganisationRecord | None, level: Level, name_zh: str, name_en: str, issues_points: bool
) -> int:
    """Insert the node and write its path (which holds its own id, known
    only once inserted), in the caller's transaction."""
    inserted = await Organisation.insert(
        Organisation(
            parent=parent.id if parent is not None else None,
            level=level.value,
            name_zh=name_zh.strip(),
            name_en=name_en.strip(),
            issues_points=issues_points,
        )
    ).run()
    organisation_id = int(inserted[0]["id"])
    path = child_path(parent.path if parent is not None else None, organisation_id)
    await Organisation.update({Organisation.path: path}).where(Organisation.id == organisation_id).run()
    if issues_points:
        await open_issuer_accounts(organisation_id)
    return organisation_id


async def create_organisation(
    *,
    name_zh: str,
    level: Level,
    parent_id: int | None = None,
    name_en: str = "",
    issues_points: bool = False,
) -> OrganisationRecord:
    """Add a node under ``parent_id``; a child sits strictly below its parent.
    The node, its path and (for an issuing organisation) its issuance and
    expiry accounts are written in one transaction.

    No policy and no audit: this builds trees for trusted setup code (the
    demo seed, tests), and it is the only way to make a root. A person adds
    a node through ``community.structure.create_organisation``, which checks
    who they are and calls this."""
    _check_names(name_zh, name_en)
    parent = await get_organisation(parent_id) if parent_id is not None else None
    if parent is not None and LEVEL_RANK[parent.level] >= LEVEL_RANK[level]:
        raise InvalidOrganisationData(f"a {level} cannot sit under a {parent.level}", field="level")
    organisation_id = await in_write_transaction(lambda: _insert(parent, level, name_zh, name_en, issues_points))
    return await get_organisation(organisation_id)


async def ancestor_chains(organisation_ids: Iterable[int]) -> dict[int, list[int]]:
    """For each id, the node and its ancestors, nearest first: one query.
    An id with no node maps to ``[id]`` (nothing is above what does not exist)."""
    wanted = sorted(set(organisation_ids))
    chains = {organisation_id: [organisation_id] for organisation_id in wanted}
    if wanted:
        for row in await fetch(_PATHS_OF(wanted)):
            chain = ancestors_nearest_first(str(row["path"]))
            chains[chain[0]] = chain
    return chains


# Fixed SQL: every policy check on a node reads this (a board read, each
# organisation-scoped request); Piccolo's builder cost ~0.2 ms of CPU here
# (bench/leaderboards_bench.py, 2026-12-01).
_PATHS_OF = fixed_sql(
    "SELECT path FROM community_organisation WHERE id = ANY($1::bigint[])",
    sqlite="SELECT path FROM community_organisation WHERE id IN (SELECT value FROM json_each(?1))",
)


async def ancestor_ids(organisation_id: int) -> list[int]:
    """``organisation_id`` and its ancestors, nearest first (one query;
    ``[organisation_id]`` when there is no such node)."""
    return (await ancestor_chains([organisation_id]))[organisation_id]


async def root_organisations(organisation_ids: Iterable[int]) -> set[int]:
    """Which of ``organisation_ids`` are roots of the tree (no parent): one query."""
    ids = sorted(set(organisation_ids))
    if not ids:
        return set()
    rows = (
        await Organisation.select(Organisation.id)
        .where(Organisation.id.is_in(ids) & Organisation.parent.is_null())
        .output(as_list=True)
        .run()
    )
    return {int(organisation_id) for organisation_id in rows}


async def union_of_subtrees(root_ids: Iterable[int]) -> set[int]:
    """Every node at or below any of ``root_ids``: one query. The roots are
    always in the answer (as ``subtree_ids`` always had them)."""
    roots = sorted(set(root_ids))
    if not roots:
        return set()
    sql = _SUBTREES_SQL.replace("{roots}", ", ".join("{}" for _ in roots))
    rows = await Organisation.raw(sql, *roots).run()
    return set(roots) | {int(row["id"]) for row in rows}


async def subtree_ids(root_id: int) -> set[int]:
    """``root_id`` and every organisation below it (one query)."""
    return await union_of_subtrees([root_id])


async def subtree(root_id: int) -> list[OrganisationRecord]:
    """``root_id`` and every node below it, in id order: the root, then one
    range of the path index. ``OrganisationNotFound`` if there is no such node."""
    low, high = subtree_range((await get_organisation(root_id)).path)
    rows = await (
        Organisation.select().where(Organisation.path >= low, Organisation.path < high).order_by(Organisation.id).run()
    )
    return [OrganisationRecord.from_row(row) for row in rows]


async def issuing_organisation_for(organisation_id: int) -> OrganisationRecord | None:
    """The nearest organisation at or above ``organisation_id`` that issues
    points: the chain, then the issuers on it (two queries)."""
    chain = await ancestor_ids(organisation_id)
    rows = (
        await Organisation.select()
        .where(Organisation.id.is_in(chain), Organisation.issues_points == True)  # noqa: E712 (Piccolo builds SQL from it)
        .run()
    )
    issuers = {record.id: record for record in map(OrganisationRecord.from_row, rows)}
    return next((issuers[candidate] for candidate in chain if candidate in issuers), None)


def nearest_issuer_sql(path: str) -> str:
    """SQL for the id of the nearest organisation that issues points at or
    above the node whose path is the SQL expression ``path`` (NULL if none):
    ``issuing_organisation_for`` as a subquery, for a fixed statement that
    reads it together with other facts (``marketplace.sql``). The ancestors'
    paths are the prefixes of ``path`` one segment apart, so this is at most
    ``MAX_DEPTH`` probes of the path index; the same text on both engines."""
    prefixes = ", ".join(f"substr({path}, 1, {SEGMENT_DIGITS * depth})" for depth in range(1, MAX_DEPTH + 1))
    return (
        "(SELECT issuer.id FROM community_organisation AS issuer"  # noqa: S608 (built from constants and the caller's column expression)
        f" WHERE issuer.issues_points AND issuer.path IN ({prefixes}) ORDER BY length(issuer.path) DESC LIMIT 1)"
    )


async def child_ids(parent_id: int) -> set[int]:
    ids = await Organisation.select(Organisation.id).where(Organisation.parent == parent_id).output(as_list=True).run()
    return set(ids)


def _after(tag: str, cursor: str | None) -> int:
    return decode_cursor(tag, cursor, key_min=1, key_max=MAX_ID)[0] if cursor is not None else 0


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidOrganisationData(f"limit must be 1-{MAX_PAGE_SIZE}", field="limit")


async def _page(tag: str, where: Combinable, cursor: str | None, limit: int) -> OrganisationPage:
    """Keyset page in id order: every page costs the same."""
    _check_limit(limit)
    after = _after(tag, cursor)
    rows = await (
        Organisation.select().where(where, Organisation.id > after).order_by(Organisation.id).limit(limit + 1).run()
    )
    page = [OrganisationRecord.from_row(row) for row in rows[:limit]]
    return OrganisationPage(
        organisations=page, next_cursor=encode_cursor(tag, page[-1].id) if len(rows) > limit else None
    )


async def list_children(parent_id: int, *, cursor: str | None = None, limit: int = MAX_PAGE_SIZE) -> OrganisationPage:
    """The nodes directly below ``parent_id``, a page at a time."""
    return await _page(CHILDREN_CURSOR, Organisation.parent == parent_id, cursor, limit)


async def list_subtree(root_id: int, *, cursor: str | None = None, limit: int = MAX_PAGE_SIZE) -> OrganisationPage:
    """``root_id`` and every node below it, a page at a time (one range of
    the path index); ``OrganisationNotFound`` if there is no such node."""
    low, high = subtree_range((await get_organisation(root_id)).path)
    return await _page(SUBTREE_CURSOR, (Organisation.path >= low) & (Organisation.path < high), cursor, limit)
