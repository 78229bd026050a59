"""What counts on a board, and boards as a fold over counted entries (pure).

**Points earned**, never the balance: an entry counts when it is an award
(kinds in ``COUNTED_KINDS``: ``award`` for verified service, patrols and
reports, ``award_bonus`` for the useful-report bonus; both posted by
``campaigns.budget.pay``, budget → ``volunteer:<id>:wallet``) and credits
a volunteer wallet. The reversal of a counted entry (kind ``reversal``,
``reverses`` set) takes the same points off again, in the periods and
scopes of the award it reverses. Spending (redemptions, holds, settlement),
funding, manual adjustments (corrections between accounts, not service)
and anything else never moves a board.

**Held for fraud review** (issue #12): an award whose metadata carries
``HELD_FOR_REVIEW_KEY`` with a true value does not count. Issue #12 either
holds the award as a ledger hold and posts it (an ``award`` entry) only
once cleared, which counts from then on with no change here, or marks the
award entry held and posts a clearing entry of kind ``CLEARED_KIND``
naming it in ``metadata["clears_entry_id"]``: add the clearing's handling
where ``counted_sign`` says so (the feed resolves it like a reversal, with
the sign +1).

A board is a map member → (points, minute reached): ``fold`` applies
counted changes in chain order (the ledger's commit order, see
``leaderboards/feed.py``); the Redis script applies exactly the same rule,
and the property tests check the two agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leaderboards.scores import minute_of

COUNTED_KINDS = frozenset({"award", "award_bonus"})
REVERSAL_KIND = "reversal"
HELD_FOR_REVIEW_KEY = "held_for_review"
CLEARED_KIND = "award_cleared"
WALLET_PREFIX = "volunteer:"
WALLET_SUFFIX = ":wallet"


def wallet_member(account_code: str) -> int | None:
    """The member whose wallet ``account_code`` is, or None."""
    if not (account_code.startswith(WALLET_PREFIX) and account_code.endswith(WALLET_SUFFIX)):
        return None
    middle = account_code[len(WALLET_PREFIX) : -len(WALLET_SUFFIX)]
    return int(middle) if middle.isdigit() else None


def is_counted_award(kind: str, metadata: Mapping[str, Any]) -> bool:
    """An award that counts on the boards (not one held for review)."""
    return kind in COUNTED_KINDS and not metadata.get(HELD_FOR_REVIEW_KEY)


def credited_wallet(postings: Iterable[tuple[str, int]]) -> tuple[int, int] | None:
    """The (member, hundredths) a set of (account code, signed amount) legs
    credits to one volunteer wallet, or None if no wallet is credited."""
    for code, amount_minor in postings:
        member = wallet_member(code)
        if member is not None and amount_minor > 0:
            return member, amount_minor
    return None


@dataclass(frozen=True, slots=True)
class Change:
    """One counted movement on the boards: an award (+) or its reversal (−)."""

    # Chain position of the entry that made it: the order changes apply in,
    # and what makes applying them exactly-once (leaderboards/redis_boards.py).
    seq: int
    member_id: int
    delta_minor: int
    # The ledger time of this entry: the tie-break minute.
    changed_at: datetime
    # The boards it moves: (scope, period) pairs, from the *award's* time
    # and facts (a reversal moves the boards its award moved).
    boards: tuple[tuple[str, str], ...]

    @property
    def minute(self) -> int:
        return minute_of(self.changed_at)


Board = dict[int, tuple[int, int]]  # member → (points_minor, minute reached)


def apply_change(boards: dict[tuple[str, str], Board], change: Change) -> None:
    """One change on every board it moves: points add up, the minute becomes
    the change's, and a member back at zero leaves the board."""
    member_id, delta_minor, minute = change.member_id, change.delta_minor, change.minute
    for board_key in change.boards:
        board = boards.get(board_key)
        if board is None:
            board = boards[board_key] = {}
        held = board.get(member_id)
        points = delta_minor if held is None else held[0] + delta_minor
        if points == 0:
            board.pop(member_id, None)
            if not board:
                del boards[board_key]
        else:
            board[member_id] = (points, minute)


def fold(changes: Iterable[Change]) -> dict[tuple[str, str], Board]:
    """Every board, from the counted changes in chain order."""
    boards: dict[tuple[str, str], Board] = {}
    for change in sorted(changes, key=lambda change: change.seq):
        apply_change(boards, change)
    return boards
