"""The activity status machine: which action is allowed from which status,
and which status it leads to. One machine for every kind.

    service, report:  (created) submitted → verified | rejected
    held for review:  submitted → held (fraud review) → verified | rejected
    patrol:           (created) checked_in → submitted → verified | rejected
    report, after verified:   → assigned → handled → closed (rated by the reporter)
    verified and beyond:      → rejected (the award and bonus are reversed)

=========  ==========  ===========================================  ==============================
action     kinds       from → to                                    already done (replayed)
=========  ==========  ===========================================  ==============================
add_route  patrol      checked_in → checked_in                      —
check_out  patrol      checked_in → submitted                       submitted, held, verified,
                                                                    rejected
verify     all         submitted → verified                         verified, assigned, handled,
                                                                    closed
hold       all         submitted → held                             held
clear      all         held → verified                              verified, assigned, handled,
                                                                    closed
reject     all         submitted, held, verified, assigned,         rejected
                       handled, closed → rejected
assign     report      verified, assigned → assigned                —
handle     report      verified, assigned → handled                 handled, closed
rate       report      handled → closed                             closed
=========  ==========  ===========================================  ==============================

An action on a kind it does not apply to is ``InvalidActivity``; from a
status with no move and not already done, ``ActivityNotOpen``. A step that
has already happened is answered with the activity as it stands
(``Move.replay``) and changes nothing: verifying twice awards once, and a
phone that sends its queued check-out or rating again (it never heard the
answer) gets the first one back.

Pure: no database, no clock. The services load the activity (locked), call
``decide``, check who is acting (``activities.policy``), and write the move.
Who may act is not this module's business; neither is the deadline a move
starts (``activities.deadline_rules.deadline_after``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from activities.errors import ActivityNotOpen, InvalidActivity
from activities.models import Kind, Status


class Action(StrEnum):
    ADD_ROUTE = "add_route"
    CHECK_OUT = "check_out"
    VERIFY = "verify"
    HOLD = "hold"  # verify, when the fraud rules hold the award for review
    CLEAR = "clear"  # a reviewer approves a held award
    REJECT = "reject"
    ASSIGN = "assign"
    HANDLE = "handle"
    RATE = "rate"


# Verified and beyond: the activity has had its award (if any).
AWARDED_STATUSES = frozenset({Status.VERIFIED, Status.ASSIGNED, Status.HANDLED, Status.CLOSED})
ALL_KINDS = frozenset(Kind)


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the table. ``refused`` and ``wrong_kind`` are the messages
    (``{id}``, ``{status}`` filled in) of the two refusals."""

    kinds: frozenset[Kind]
    moves: Mapping[Status, Status]
    done: frozenset[Status]
    refused: str
    wrong_kind: str = ""


def _report_rule(moves: Mapping[Status, Status], done: frozenset[Status], step: str) -> Rule:
    return Rule(
        kinds=frozenset({Kind.REPORT}),
        moves=moves,
        done=done,
        refused=f"report {{id}} is {{status}}; it cannot be {step} now",
        wrong_kind=f"only reports are {step}",
    )


_PATROL_UNDER_WAY = Rule(
    kinds=frozenset({Kind.PATROL}),
    moves={Status.CHECKED_IN: Status.CHECKED_IN},
    done=frozenset(),
    refused="patrol {id} is already checked out",
    wrong_kind="activity {id} is not a patrol",
)

TRANSITIONS: Mapping[Action, Rule] = {
    Action.ADD_ROUTE: _PATROL_UNDER_WAY,
    Action.CHECK_OUT: Rule(
        kinds=_PATROL_UNDER_WAY.kinds,
        moves={Status.CHECKED_IN: Status.SUBMITTED},
        # Every status a patrol reaches only after its check-out.
        done=frozenset({Status.SUBMITTED, Status.HELD, Status.VERIFIED, Status.REJECTED}),
        refused=_PATROL_UNDER_WAY.refused,
        wrong_kind=_PATROL_UNDER_WAY.wrong_kind,
    ),
    Action.VERIFY: Rule(
        kinds=ALL_KINDS,
        moves={Status.SUBMITTED: Status.VERIFIED},
        done=AWARDED_STATUSES,
        refused="activity {id} is {status}; only submitted activities can be verified",
    ),
    Action.HOLD: Rule(
        kinds=ALL_KINDS,
        moves={Status.SUBMITTED: Status.HELD},
        done=frozenset({Status.HELD}),
        refused="activity {id} is {status}; only submitted activities can be held for review",
    ),
    Action.CLEAR: Rule(
        kinds=ALL_KINDS,
        moves={Status.HELD: Status.VERIFIED},
        done=AWARDED_STATUSES,
        refused="activity {id} is {status}; only an activity held for review can be cleared",
    ),
    Action.REJECT: Rule(
        kinds=ALL_KINDS,
        moves=dict.fromkeys((Status.SUBMITTED, Status.HELD, *sorted(AWARDED_STATUSES)), Status.REJECTED),
        done=frozenset({Status.REJECTED}),
        refused="activity {id} is {status}; it can be rejected once submitted",
    ),
    Action.ASSIGN: _report_rule(
        {Status.VERIFIED: Status.ASSIGNED, Status.ASSIGNED: Status.ASSIGNED}, frozenset(), "assigned"
    ),
    Action.HANDLE: _report_rule(
        {Status.VERIFIED: Status.HANDLED, Status.ASSIGNED: Status.HANDLED},
        frozenset({Status.HANDLED, Status.CLOSED}),
        "handled",
    ),
    Action.RATE: _report_rule({Status.HANDLED: Status.CLOSED}, frozenset({Status.CLOSED}), "rated"),
}


def initial_status(kind: Kind) -> Status:
    """The status an activity is created in: a patrol starts under way, a
    service log or report is submitted at once."""
    return Status.CHECKED_IN if kind is Kind.PATROL else Status.SUBMITTED


@dataclass(frozen=True, slots=True)
class Move:
    """The decision: the status after the action, or ``replay`` (the step
    has already happened; ``to`` is the current status, write nothing)."""

    before: Status
    to: Status
    replay: bool = False


def decide(action: Action, *, activity_id: int, kind: Kind, status: Status) -> Move:
    """The move ``action`` makes on an activity of ``kind`` in ``status``;
    ``InvalidActivity`` (wrong kind) or ``ActivityNotOpen`` (wrong status)
    if it makes none."""
    rule = TRANSITIONS[action]
    if kind not in rule.kinds:
        raise InvalidActivity(rule.wrong_kind.format(id=activity_id), field="activity_id")
    if status in rule.done:
        return Move(before=status, to=status, replay=True)
    to = rule.moves.get(status)
    if to is None:
        raise ActivityNotOpen(rule.refused.format(id=activity_id, status=status.value), field="activity_id")
    return Move(before=status, to=to)
