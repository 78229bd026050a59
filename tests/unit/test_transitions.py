"""activities/transitions: the status × action table, every cell of it,
without a database. Allowed cells give the status after the action (or a
replay: the step has already happened); the rest are refused with the
error the API maps (wrong kind: 422, wrong status: 409)."""

from __future__ import annotations

from itertools import product

import pytest

from activities.errors import ActivityNotOpen, InvalidActivity
from activities.models import Kind, Status
from activities.transitions import AWARDED_STATUSES, TRANSITIONS, Action, Move, decide, initial_status

S = Status
REPLAY = "replay"

# (action, kind) → {status before: status after, or REPLAY}; a status not
# listed is refused with ActivityNotOpen; a kind not listed, InvalidActivity.
EXPECTED: dict[tuple[Action, Kind], dict[Status, Status | str]] = {
    (Action.ADD_ROUTE, Kind.PATROL): {S.CHECKED_IN: S.CHECKED_IN},
    (Action.CHECK_OUT, Kind.PATROL): {
        S.CHECKED_IN: S.SUBMITTED,
        S.SUBMITTED: REPLAY,
        S.HELD: REPLAY,
        S.VERIFIED: REPLAY,
        S.REJECTED: REPLAY,
    },
    **{
        (Action.VERIFY, kind): {
            S.SUBMITTED: S.VERIFIED,
            S.VERIFIED: REPLAY,
            S.ASSIGNED: REPLAY,
            S.HANDLED: REPLAY,
            S.CLOSED: REPLAY,
        }
        for kind in Kind
    },
    **{(Action.HOLD, kind): {S.SUBMITTED: S.HELD, S.HELD: REPLAY} for kind in Kind},
    **{
        (Action.CLEAR, kind): {
            S.HELD: S.VERIFIED,
            S.VERIFIED: REPLAY,
            S.ASSIGNED: REPLAY,
            S.HANDLED: REPLAY,
            S.CLOSED: REPLAY,
        }
        for kind in Kind
    },
    **{
        (Action.REJECT, kind): {
            S.SUBMITTED: S.REJECTED,
            S.HELD: S.REJECTED,
            S.VERIFIED: S.REJECTED,
            S.ASSIGNED: S.REJECTED,
            S.HANDLED: S.REJECTED,
            S.CLOSED: S.REJECTED,
            S.REJECTED: REPLAY,
        }
        for kind in Kind
    },
    (Action.ASSIGN, Kind.REPORT): {S.VERIFIED: S.ASSIGNED, S.ASSIGNED: S.ASSIGNED},
    (Action.HANDLE, Kind.REPORT): {
        S.VERIFIED: S.HANDLED,
        S.ASSIGNED: S.HANDLED,
        S.HANDLED: REPLAY,
        S.CLOSED: REPLAY,
    },
    (Action.RATE, Kind.REPORT): {S.HANDLED: S.CLOSED, S.CLOSED: REPLAY},
}

CELLS = list(product(Action, Kind, Status))


@pytest.mark.parametrize(("action", "kind", "status"), CELLS)
def test_every_cell_of_the_table(action: Action, kind: Kind, status: Status) -> None:
    """Each (action, kind, status) gives exactly the move, replay or refusal the table says."""
    expected = EXPECTED.get((action, kind))
    if expected is None:
        with pytest.raises(InvalidActivity) as wrong_kind:
            decide(action, activity_id=7, kind=kind, status=status)
        assert wrong_kind.value.field == "activity_id"
        return
    if status not in expected:
        with pytest.raises(ActivityNotOpen) as wrong_status:
            decide(action, activity_id=7, kind=kind, status=status)
        assert wrong_status.value.field == "activity_id"
        return
    move = decide(action, activity_id=7, kind=kind, status=status)
    if expected[status] == REPLAY:
        assert move == Move(before=status, to=status, replay=True)
    else:
        assert move == Move(before=status, to=Status(expected[status]))


def test_a_patrol_starts_under_way_everything_else_submitted() -> None:
    assert initial_status(Kind.PATROL) is Status.CHECKED_IN
    assert initial_status(Kind.SERVICE) is initial_status(Kind.REPORT) is Status.SUBMITTED


def test_refusals_name_the_activity_and_its_status() -> None:
    """The messages clients see (unchanged from before the table)."""
    with pytest.raises(ActivityNotOpen, match="activity 7 is checked_in; only submitted activities can be verified"):
        decide(Action.VERIFY, activity_id=7, kind=Kind.PATROL, status=Status.CHECKED_IN)
    with pytest.raises(ActivityNotOpen, match="activity 7 is checked_in; it can be rejected once submitted"):
        decide(Action.REJECT, activity_id=7, kind=Kind.PATROL, status=Status.CHECKED_IN)
    with pytest.raises(ActivityNotOpen, match="report 7 is submitted; it cannot be handled now"):
        decide(Action.HANDLE, activity_id=7, kind=Kind.REPORT, status=Status.SUBMITTED)
    with pytest.raises(InvalidActivity, match="only reports are assigned"):
        decide(Action.ASSIGN, activity_id=7, kind=Kind.SERVICE, status=Status.VERIFIED)
    with pytest.raises(InvalidActivity, match="activity 7 is not a patrol"):
        decide(Action.CHECK_OUT, activity_id=7, kind=Kind.REPORT, status=Status.SUBMITTED)
    with pytest.raises(ActivityNotOpen, match="patrol 7 is already checked out"):
        decide(Action.ADD_ROUTE, activity_id=7, kind=Kind.PATROL, status=Status.SUBMITTED)


def test_a_rejected_activity_never_comes_back() -> None:
    """No action leads out of rejected (a rejection is final; its award was reversed)."""
    for action, kind in product(Action, Kind):
        try:
            move = decide(action, activity_id=1, kind=kind, status=Status.REJECTED)
        except (ActivityNotOpen, InvalidActivity):
            continue
        assert move.to is Status.REJECTED


def test_only_verify_leaves_submitted_for_an_awarded_status() -> None:
    """Invariant behind 'verifying twice awards once': the awarded statuses
    are reached from submitted by verify alone, and verify replays in each."""
    for action, kind in product(Action, Kind):
        try:
            move = decide(action, activity_id=1, kind=kind, status=Status.SUBMITTED)
        except (ActivityNotOpen, InvalidActivity):
            continue
        if move.to in AWARDED_STATUSES:
            assert action is Action.VERIFY
    assert TRANSITIONS[Action.VERIFY].done == AWARDED_STATUSES
