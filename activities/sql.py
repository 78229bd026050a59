"""Statements of the activities app written as text (Piccolo's ``raw``),
where one statement replaces several round trips on the verify path."""

from __future__ import annotations

from activities.models import Status


def _approved_sql(who: str) -> str:
    """Approvals (not rejected) within [since, now], of ``who`` (a SQL
    condition with its own placeholders), as one scalar subquery."""
    return (
        f"SELECT count(*) FROM activities_activity WHERE {who} AND verifier IS NOT NULL"
        f" AND verified_at >= {{}} AND verified_at <= {{}} AND status <> '{Status.REJECTED.value}'"
    )


# The verifier–volunteer facts in one statement (four counts and the pair's
# other days), each a subquery on the member or the verifier index.
VERIFICATIONS_SQL = (
    f"SELECT ({_approved_sql('member = {}')}) AS member_approvals,"
    f" ({_approved_sql('member = {} AND verifier = {}')}) AS pair_approvals,"
    f" ({_approved_sql('verifier = {}')}) AS verifier_approvals,"
    f" ({_approved_sql('member = {} AND verifier = {}')}) AS reverse_approvals,"
    " (SELECT count(DISTINCT award_day) FROM activities_activity WHERE member = {} AND verifier = {}"
    f" AND verified_at >= {{}} AND verified_at <= {{}} AND status <> '{Status.REJECTED.value}'"
    " AND award_day <> {}) AS other_days"
)
"""(member, since, now, member, verifier, since, now, verifier, since, now,
verifier, member, since, now, member, verifier, since, now, award day) →
member_approvals, pair_approvals, verifier_approvals, reverse_approvals,
other_days (``activities.screening._verifications``)."""
