"""The tree's queries against the database agree with walking parent by
parent, on random trees: ancestors, subtrees (one root or several), the
nearest issuing organisation and the subtree pages. Also: each question is
a fixed number of queries, however deep the node."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from piccolo.engine.base import Engine

from community.organisations import (
    ancestor_chains,
    ancestor_ids,
    create_organisation,
    get_organisation,
    issuing_organisation_for,
    list_subtree,
    subtree,
    subtree_ids,
    union_of_subtrees,
)
from community.roles import LEVEL_RANK, Level
from community.tables import Organisation
from core import database, fixed_sql
from tests.integration.marketplace.test_orders_property import pooled
from tests.support.community_helpers import Tree
from tests.support.database import truncate_all

LEVELS_BY_RANK = {rank: [level for level, r in LEVEL_RANK.items() if r == rank] for rank in range(6)}
MISSING = 2_000_000_000


@dataclass(frozen=True)
class Planned:
    """A node to add: under which earlier node (by position, modulo), how
    many levels below it (1 or 2), whether it issues points, or a new root."""

    parent_pick: int
    levels_down: int
    issues_points: bool
    new_root: bool


planned = st.builds(
    Planned,
    parent_pick=st.integers(min_value=0, max_value=1_000),
    levels_down=st.integers(min_value=1, max_value=2),
    issues_points=st.booleans(),
    new_root=st.integers(min_value=0, max_value=5).map(lambda draw: draw == 0),
)


async def _build(plan: list[Planned]) -> dict[int, int | None]:
    """Create the planned tree through the service; the parent of each node."""
    parents: dict[int, int | None] = {}
    ranks: dict[int, int] = {}
    for step in plan:
        open_parents = [node for node in parents if ranks[node] + step.levels_down <= 5]
        if step.new_root or not open_parents:
            created = await create_organisation(name_zh="市", level=Level.CITY, issues_points=step.issues_points)
            parents[created.id], ranks[created.id] = None, 0
            continue
        parent = open_parents[step.parent_pick % len(open_parents)]
        rank = ranks[parent] + step.levels_down
        level = LEVELS_BY_RANK[rank][step.parent_pick % len(LEVELS_BY_RANK[rank])]
        created = await create_organisation(
            name_zh="节点", level=level, parent_id=parent, issues_points=step.issues_points
        )
        parents[created.id], ranks[created.id] = parent, rank
    return parents


def _walk_up(parents: dict[int, int | None], node: int) -> list[int]:
    chain = [node]
    while (parent := parents[chain[-1]]) is not None:
        chain.append(parent)
    return chain


def _walk_down(parents: dict[int, int | None], root: int) -> set[int]:
    found, frontier = {root}, [root]
    while frontier:
        frontier = [node for node, parent in parents.items() if parent in frontier]
        found.update(frontier)
    return found


async def _check(plan: list[Planned], roots_pick: list[int]) -> None:
    await truncate_all()
    parents = await _build(plan)
    issuers = {node for node in parents if (await get_organisation(node)).issues_points}
    chains = await ancestor_chains([*parents, MISSING])
    assert chains[MISSING] == [MISSING]
    for node in parents:
        walked = _walk_up(parents, node)
        assert await ancestor_ids(node) == walked == chains[node]
        below = _walk_down(parents, node)
        assert await subtree_ids(node) == below
        assert [o.id for o in await subtree(node)] == sorted(below)
        nearest = next((candidate for candidate in walked if candidate in issuers), None)
        found = await issuing_organisation_for(node)
        assert (found.id if found is not None else None) == nearest
        paged, cursor = [], None
        while True:
            page = await list_subtree(node, cursor=cursor, limit=3)
            paged += [o.id for o in page.organisations]
            if (cursor := page.next_cursor) is None:
                break
        assert paged == sorted(below)
    nodes = sorted(parents)
    roots = {nodes[pick % len(nodes)] for pick in roots_pick}
    expected = set().union(*(_walk_down(parents, root) for root in roots)) if roots else set()
    assert await union_of_subtrees(roots) == expected
    assert await subtree_ids(MISSING) == {MISSING}


@settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    plan=st.lists(planned, min_size=1, max_size=14),
    roots_pick=st.lists(st.integers(min_value=0, max_value=1_000), max_size=3),
)
def test_tree_queries_agree_with_walking_parent_by_parent(plan: list[Planned], roots_pick: list[int]) -> None:
    asyncio.run(pooled(_check(plan, roots_pick)))


@dataclass
class _QueryCounter:
    """Counts the statements run while installed: Piccolo's, and the fixed
    SQL that reading scripts send (``core.fixed_sql``)."""

    count: int = 0

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        engine_class = type(database.engine())
        original = engine_class.run_querystring

        async def counting(engine: Engine, *args: Any, **kwargs: Any) -> Any:  # type: ignore[type-arg]
            self.count += 1
            return await original(engine, *args, **kwargs)

        monkeypatch.setattr(engine_class, "run_querystring", counting)
        original_read = fixed_sql.read

        async def counting_read(factory: fixed_sql.ScriptFactory[Any]) -> Any:
            def counted(kind: fixed_sql.Dialect) -> fixed_sql.Script[Any]:
                script = factory(kind)
                try:
                    step = next(script)
                    while True:
                        self.count += 1
                        step = script.send((yield step))
                except StopIteration as done:
                    return done.value

            return await original_read(counted)

        monkeypatch.setattr(fixed_sql, "read", counting_read)


async def test_ancestors_and_subtrees_cost_one_query_at_any_depth(tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    """A building six levels down costs what a city costs: one query for its
    ancestors, one for a subtree, one for the union of a principal's grants."""
    counter = _QueryCounter()
    counter.install(monkeypatch)
    for node in (tree.city, tree.building1):
        counter.count = 0
        await ancestor_ids(node)
        assert counter.count == 1
        counter.count = 0
        await subtree_ids(node)
        assert counter.count == 1
    counter.count = 0
    await union_of_subtrees([tree.grid1, tree.other_community, tree.street])
    assert counter.count == 1
    assert await subtree_ids(tree.community) == {tree.community, tree.grid1, tree.building1, tree.grid2}
    rows = await Organisation.select(Organisation.id, Organisation.path).run()
    assert all(row["path"] for row in rows)  # every node got its path when it was created
