"""The materialised path of an organisation node, as pure functions.

Every node stores its path: the ids from the root down to the node itself,
each written as ten zero-padded decimal digits, with no separator
(``0000000001`` ``0000000004`` ``0000000009`` for node 9 under 4 under the
root 1). So:

- the ancestors of a node are read off its own path (one row, by primary key);
- the subtree of a node is every row whose path starts with the node's path,
  which is the index range ``[path, path + "9999999999")``: a descendant
  continues the path with a segment of at most ``MAX_ID`` (below
  ``9999999999``), and any other path at or after ``path`` differs inside it.

Only ASCII digits, all segments the same width: the order of two paths is the
same under every collation (byte order on SQLite, the database's collation on
PostgreSQL), so a plain B-tree index serves the range on both engines.

A path is written once, when the node is created (``community/organisations.py``);
nodes do not move, so no path is ever rewritten.
"""

from __future__ import annotations

from core.ids import MAX_ID

SEGMENT_DIGITS = 10  # MAX_ID (2**31 - 1) has ten digits
# The tree has six ranks (``community.roles.LEVEL_RANK``); twelve segments
# leave room and bound the column (``community.tables.Organisation.path``).
MAX_DEPTH = 12
MAX_PATH_CHARS = SEGMENT_DIGITS * MAX_DEPTH
# Above every segment a real id can have: the end of a subtree's range.
SUBTREE_END = "9" * SEGMENT_DIGITS


class InvalidPath(ValueError):
    """A stored path that is not a chain of ids: a data error, never user input."""


def segment(organisation_id: int) -> str:
    """One node's part of a path."""
    if not 1 <= organisation_id <= MAX_ID:
        raise InvalidPath(f"organisation id {organisation_id} cannot be on a path")
    return f"{organisation_id:0{SEGMENT_DIGITS}d}"


def child_path(parent_path: str | None, organisation_id: int) -> str:
    """The path of ``organisation_id`` under a parent with ``parent_path``
    (``None`` for a root)."""
    path = (parent_path or "") + segment(organisation_id)
    if len(path) > MAX_PATH_CHARS:
        raise InvalidPath(f"the tree may not be deeper than {MAX_DEPTH} levels")
    return path


def ids_on_path(path: str) -> list[int]:
    """The ids on ``path``, root first, the node itself last."""
    if not path or len(path) % SEGMENT_DIGITS or len(path) > MAX_PATH_CHARS or not path.isascii() or not path.isdigit():
        raise InvalidPath(f"{path!r} is not an organisation path")
    return [int(path[start : start + SEGMENT_DIGITS]) for start in range(0, len(path), SEGMENT_DIGITS)]


def ancestors_nearest_first(path: str) -> list[int]:
    """The node and its ancestors, nearest first (the node, its parent, …, the root)."""
    return ids_on_path(path)[::-1]


def subtree_range(path: str) -> tuple[str, str]:
    """``(low, high)``: the node's subtree is exactly the paths ``p`` with
    ``low <= p < high``."""
    ids_on_path(path)  # refuses anything that is not a path
    return path, path + SUBTREE_END


def is_in_subtree(path: str, root_path: str) -> bool:
    """Is the node at ``path`` the root at ``root_path`` or below it?"""
    low, high = subtree_range(root_path)
    return low <= path < high
