"""The feed's and the rebuild's reads, as fixed SQL (``core.fixed_sql``).

``feed.changes_at`` runs these for every page of chain blocks (up to a few
thousand entry ids each). Measured on a rebuild (``bench/RESULTS.md``):
through Piccolo's query builder, converting each id of an ``IN (...)`` list
cost more client CPU than everything else the rebuild did per entry; a
fixed text with one array (PostgreSQL) or JSON (SQLite) argument costs
nothing per id and binds no parameter per id either.
"""

from __future__ import annotations

from core.fixed_sql import fixed_sql

ENTRIES_OF_KINDS = fixed_sql(
    "SELECT id, kind, metadata, created_at, reverses FROM ledger_entry"
    " WHERE id = ANY($1::bigint[]) AND kind = ANY($2::varchar[])",
    sqlite="SELECT id, kind, metadata, created_at, reverses FROM ledger_entry"
    " WHERE id IN (SELECT value FROM json_each(?1)) AND kind IN (SELECT value FROM json_each(?2))",
)
"""The entries among the ids (1) whose kind is one of (2)."""

POSTING_LEGS = fixed_sql(
    "SELECT posting.entry, posting.amount_minor, account.code FROM ledger_posting AS posting"
    " JOIN ledger_account AS account ON account.id = posting.account"
    " WHERE posting.entry = ANY($1::bigint[]) AND posting.amount_minor > 0 AND account.code LIKE 'volunteer:%:wallet'",
    sqlite="SELECT posting.entry, posting.amount_minor, account.code FROM ledger_posting AS posting"
    " JOIN ledger_account AS account ON account.id = posting.account"
    " WHERE posting.entry IN (SELECT value FROM json_each(?1)) AND posting.amount_minor > 0"
    " AND account.code LIKE 'volunteer:%:wallet'",
)
"""(entry, amount, account code) of the legs of the entries (1) that may
credit a volunteer wallet (``earnings.credited_wallet`` still decides:
only those, so the other legs are not sent)."""

HOMES = fixed_sql(
    "SELECT id, home_organisation FROM community_member WHERE id = ANY($1::int[])",
    sqlite="SELECT id, home_organisation FROM community_member WHERE id IN (SELECT value FROM json_each(?1))",
)

TEAM_JOINS = fixed_sql(
    "SELECT member, team, joined_at FROM community_team_member WHERE member = ANY($1::int[])",
    sqlite="SELECT member, team, joined_at FROM community_team_member"
    " WHERE member IN (SELECT value FROM json_each(?1))",
)
"""The current memberships of the members (1)."""

PAST_TEAM_JOINS = fixed_sql(
    "SELECT member, team, joined_at, left_at FROM community_past_team_member WHERE member = ANY($1::int[])",
    sqlite="SELECT member, team, joined_at, left_at FROM community_past_team_member"
    " WHERE member IN (SELECT value FROM json_each(?1))",
)
"""The ended memberships of the members (1)."""

VISIBILITIES = fixed_sql(
    "SELECT id, ranking_visibility, ranking_visibility_version FROM community_member WHERE id = ANY($1::int[])",
    sqlite="SELECT id, ranking_visibility, ranking_visibility_version FROM community_member"
    " WHERE id IN (SELECT value FROM json_each(?1))",
)
