"""What caused a statement line, from its entry's ``cause_ref``
(``activity:<id>``, ``order:<id>``, ``settlement:<shop>:<period>``…), as a
page can show it: a kind the catalog names and the id. Pure."""

from __future__ import annotations

# cause_ref prefixes a member may follow to their own object.
SHOWN_CAUSES = ("activity", "order")


def cause_of(cause_ref: str) -> tuple[str | None, int | None]:
    """(kind, id) for a cause the member can open, else (None, None)."""
    kind, _, rest = cause_ref.partition(":")
    if kind not in SHOWN_CAUSES or not rest.isdigit() or rest.startswith("0"):
        return None, None
    return kind, int(rest)
