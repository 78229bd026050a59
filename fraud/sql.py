"""The fraud app's writes on a fixed-SQL path (``core.fixed_sql``).

Placing an order is a fixed-SQL script (``marketplace.orders``); its
screening stores the decision (and, for a review, opens the case) in the
same transaction, so these are the same INSERTs ``fraud.decisions`` and
``fraud.cases`` make through Piccolo, as statements a script can send.
"""

from __future__ import annotations

from core.fixed_sql import fixed_sql

DECISION_VALUES = 11
"""How many values ``fraud.decisions.decision_values`` gives a decision row."""


def insert_decision_sql(first_parameter: int) -> str:
    """The INSERT of one decision row, its values
    (``fraud.decisions.decision_values``) bound to ``$first_parameter`` and
    the ten after it, returning its id: for embedding in a caller's
    statement (``marketplace.sql.PLACE_ORDER``)."""
    numbers = ", ".join(f"${number}" for number in range(first_parameter, first_parameter + DECISION_VALUES))
    return (
        "INSERT INTO fraud_decision (subject, subject_id, member, issuer, outcome, score, ruleset_version,"
        f" thresholds, results, decided_at, shadow) VALUES ({numbers}) RETURNING id"
    )


INSERT_DECISION = fixed_sql(insert_decision_sql(1))
"""(``fraud.decisions.decision_values``) → the decision's id."""

INSERT_CASE = fixed_sql(
    "INSERT INTO fraud_case (decision, subject, subject_id, member, verifier, organisation, hold_id,"
    " amount_minor, reason_zh, reason_en, status, due_at, taken_by, taken_until, decided_by, decided_at,"
    " label, note, objection, created_at, score, rules, campaign)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open', $11, NULL, NULL, NULL, NULL, '', '', '', $12,"
    " $13, $14, NULL) RETURNING id"
)
"""(decision, subject, subject id, member, verifier, organisation, hold id,
amount in hundredths, reason zh, reason en, due at, now, score, rules) →
the case's id."""

# The status is written into the text, not sent as a parameter, in both
# statements below: only then can both engines read the partial index
# ``fraud_case_open_member`` (member, due_at) WHERE status = 'open', which
# holds open cases only, so neither grows with a member's decided cases.
# The literal is ``CaseStatus.OPEN``'s value, as in the index;
# ``tests/integration/fraud/test_pending_read.py`` checks the plans.
OPEN_CASES_OF_MEMBER = fixed_sql(
    "SELECT id, subject, subject_id, amount_minor, reason_zh, reason_en, due_at, objection FROM fraud_case"
    " WHERE member = $1 AND status = 'open' ORDER BY due_at LIMIT 50"
)
"""(member id) → the member's open review cases, earliest deadline first:
what the wallet shows as pending review."""

HAS_OPEN_CASE = "EXISTS (SELECT 1 FROM fraud_case WHERE member = $3 AND status = 'open')"
"""An SQL expression, true when member ``$3`` has an open case: the column
the wallet's statement adds (``fraud.pending``), so that a member with no
case (nearly every one) costs no second statement."""

EXEMPTIONS_OF_MEMBER = fixed_sql(
    "SELECT rule, NULL AS partner FROM fraud_snooze WHERE member = $1 AND expires_at > $2"
    " UNION ALL"
    " SELECT NULL AS rule, CASE WHEN member_low = $1 THEN member_high ELSE member_low END AS partner"
    " FROM fraud_allow_pair WHERE member_low = $1 OR member_high = $1"
)
"""(member, now) → the member's active snoozes (``rule``) and allow-listed
partners (``partner``), in one statement on the member indexes
(``fraud.exemptions``; the award screening's script sends it too)."""
