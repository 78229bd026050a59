"""The organisation path, as pure functions: how a path is built and read,
and that one index range over paths is exactly a subtree, whatever the ids.
Also the migration that wrote paths for nodes that existed before them."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from community.tree_paths import (
    MAX_DEPTH,
    InvalidPath,
    ancestors_nearest_first,
    child_path,
    ids_on_path,
    is_in_subtree,
    segment,
    subtree_range,
)
from core.ids import MAX_ID

ids = st.integers(min_value=1, max_value=MAX_ID)


def _migration() -> ModuleType:
    return importlib.import_module("community.piccolo_migrations.community_2026_11_30t12_50_10_486181")


def test_a_path_is_ten_digits_per_node_root_first() -> None:
    assert segment(7) == "0000000007"
    root = child_path(None, 1)
    grid = child_path(child_path(root, 40), 2_147_483_647)
    assert grid == "000000000100000000402147483647"
    assert ids_on_path(grid) == [1, 40, MAX_ID]
    assert ancestors_nearest_first(grid) == [MAX_ID, 40, 1]


@pytest.mark.parametrize("path", ["", "12", "000000000a", "0000000001 ", "０００００００００1", "1" * 130])
def test_anything_else_is_not_a_path(path: str) -> None:
    with pytest.raises(InvalidPath):
        ids_on_path(path)


@pytest.mark.parametrize("organisation_id", [0, -1, MAX_ID + 1])
def test_an_id_outside_the_column_cannot_be_on_a_path(organisation_id: int) -> None:
    with pytest.raises(InvalidPath):
        segment(organisation_id)


def test_the_tree_has_a_bounded_depth() -> None:
    path = None
    for node in range(1, MAX_DEPTH + 1):
        path = child_path(path, node)
    with pytest.raises(InvalidPath, match="deeper"):
        child_path(path, MAX_DEPTH + 1)


def test_the_subtree_range_holds_the_node_and_its_descendants_only() -> None:
    root = child_path(None, 5)
    child = child_path(root, MAX_ID)
    low, high = subtree_range(root)
    assert low <= root < high and low <= child < high
    for outside in (child_path(None, 4), child_path(None, 6), child_path(None, 50), child_path(child_path(None, 4), 5)):
        assert not low <= outside < high
    assert is_in_subtree(child, root) and not is_in_subtree(root, child)


@st.composite
def trees(draw: st.DrawFn) -> dict[int, int | None]:
    """Parent of each node, ids drawn anywhere in the column's range (so
    neighbouring ids and ids sharing digit prefixes are common)."""
    node_ids = draw(st.lists(ids | st.integers(min_value=1, max_value=60), min_size=1, max_size=30, unique=True))
    parents: dict[int, int | None] = {}
    depth: dict[int, int] = {}
    for node in node_ids:
        candidates = [other for other in parents if depth[other] < MAX_DEPTH - 1]
        parent = draw(st.none() | st.sampled_from(candidates)) if candidates else None
        parents[node] = parent
        depth[node] = 0 if parent is None else depth[parent] + 1
    return parents


def _naive_chain(parents: dict[int, int | None], node: int) -> list[int]:
    chain = [node]
    while (parent := parents[chain[-1]]) is not None:
        chain.append(parent)
    return chain


def _paths(parents: dict[int, int | None]) -> dict[int, str]:
    paths: dict[int, str] = {}
    for node in parents:  # parents come before their children
        parent = parents[node]
        paths[node] = child_path(paths[parent] if parent is not None else None, node)
    return paths


@given(parents=trees())
@settings(max_examples=300, deadline=None)
def test_paths_give_the_same_ancestors_and_subtrees_as_walking_parents(parents: dict[int, int | None]) -> None:
    paths = _paths(parents)
    for node, path in paths.items():
        assert ancestors_nearest_first(path) == _naive_chain(parents, node)
        low, high = subtree_range(path)
        in_range = {other for other, other_path in paths.items() if low <= other_path < high}
        below = {other for other in parents if node in _naive_chain(parents, other)}
        assert in_range == below


@given(parents=trees())
@settings(max_examples=200, deadline=None)
def test_the_migration_writes_the_paths_the_code_writes(parents: dict[int, int | None]) -> None:
    """Nodes created before paths existed get exactly the paths they would
    have been created with, whatever order the rows come in."""
    shuffled = dict(sorted(parents.items()))
    assert _migration()._paths(shuffled) == _paths(parents)
