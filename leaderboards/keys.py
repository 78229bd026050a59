"""Redis key names of the boards (pure).

Every key of one scope carries that scope in a hash tag (``{org:12}``), so
on Redis Cluster all of a scope's keys live in one slot and one Lua script
may touch them together; keys of different scopes never meet in a script.

Per scope ``S`` (``org:<id>``, ``team:<id>``, ``campaign:<id>``):

| key | type | holds |
|---|---|---|
| ``lb:{S}:<period>`` | sorted set | the *visible* board: member id → composite score (``scores.py``) |
| ``lb:{S}:<period>:all`` | hash | every member with points, hidden ones too: member id → composite score |
| ``lb:{S}:<period>:sum`` | string | the board's total points (hundredths), hidden members included (leagues) |
| ``lb:{S}:seq`` | string | the highest chain position applied to this scope (exactly-once) |
| ``lb:{S}:vis`` | hash | member id → ``<version>:<0|1>``, the visibility last applied here |
| ``lb:{S}:periods`` | set | the periods this scope has boards for (visibility changes walk them) |
| ``lb:{S}:visgen`` | string | visibility changes applied here (a swap refuses a board staged before one) |
| ``lb:{S}:staged:<period>[:all]`` | sorted set, hash | a rebuild's board while it is staged in chunks |
| ``lb:{S}:replaced`` | any | a replaced board for the moment between its RENAME and UNLINK |

Outside any scope: ``lb:{feed}`` (hash: ``block``, the last chain block
applied; ``seq``, its head position) and ``lb:{feed}:lock`` (the feed's and
rebuild's mutual exclusion), and per member ``lb:{member:<id>}:scopes``
(set: the scopes the member has points in, for visibility changes).
"""

from __future__ import annotations

from enum import StrEnum

PREFIX = "lb"
FEED_KEY = "lb:{feed}"
FEED_LOCK_KEY = "lb:{feed}:lock"


class ScopeKind(StrEnum):
    ORGANISATION = "org"
    TEAM = "team"
    CAMPAIGN = "campaign"


def scope_name(kind: ScopeKind, scope_id: int) -> str:
    return f"{kind.value}:{scope_id}"


def parse_scope(scope: str) -> tuple[ScopeKind, int]:
    """``org:12`` → (ORGANISATION, 12); ValueError for anything else."""
    kind_text, _, id_text = scope.partition(":")
    kinds = {kind.value: kind for kind in ScopeKind}
    if kind_text not in kinds or not id_text.isdigit() or len(id_text) > 18:
        raise ValueError(f"not a scope: {scope!r}")
    return kinds[kind_text], int(id_text)


def board_key(scope: str, period: str) -> str:
    return f"{PREFIX}:{{{scope}}}:{period}"


def all_key(scope: str, period: str) -> str:
    return f"{board_key(scope, period)}:all"


def sum_key(scope: str, period: str) -> str:
    return f"{board_key(scope, period)}:sum"


def seq_key(scope: str) -> str:
    return f"{PREFIX}:{{{scope}}}:seq"


def visibility_key(scope: str) -> str:
    return f"{PREFIX}:{{{scope}}}:vis"


def periods_key(scope: str) -> str:
    return f"{PREFIX}:{{{scope}}}:periods"


def visibility_generation_key(scope: str) -> str:
    return f"{PREFIX}:{{{scope}}}:visgen"


def staged_board_key(scope: str, period: str) -> str:
    return f"{PREFIX}:{{{scope}}}:staged:{period}"


def staged_all_key(scope: str, period: str) -> str:
    return f"{staged_board_key(scope, period)}:all"


def replaced_key(scope: str) -> str:
    return f"{PREFIX}:{{{scope}}}:replaced"


def member_scopes_key(member_id: int) -> str:
    return f"{PREFIX}:{{member:{member_id}}}:scopes"


def scope_pattern(scope: str | None) -> str:
    """A SCAN pattern for every key of ``scope`` (or of every scope)."""
    if scope is None:
        return f"{PREFIX}:{{*}}:*"
    escaped = scope.replace("*", "\\*").replace("?", "\\?").replace("[", "\\[")
    return f"{PREFIX}:{{{escaped}}}:*"
