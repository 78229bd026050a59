"""What one posting sends to the database (issue #10, target 1).

The posting path was rebuilt as fixed statements so that a transfer costs
five round trips on PostgreSQL (BEGIN, the account lock, the entry with
its postings in one statement, the balances, COMMIT) and one synchronous
transaction on SQLite. A later change that adds a statement to the path
slows every point earned and spent; these tests say so at once, where the
benchmark would only say it when someone runs it.
"""

from __future__ import annotations

from core.database import pooled_connections
from ledger import posting
from tests.support.database import on_postgres
from tests.support.ledger_helpers import WALLET, WALLET_2, fund, open_chart
from tests.support.round_trips import driver_log

# BEGIN, LOCK_ACCOUNTS, INSERT_ENTRY_WITH_POSTINGS, STORE_BALANCES, COMMIT.
POSTGRES_TRANSFER_ROUND_TRIPS = 5
# BEGIN IMMEDIATE, LOCK_ACCOUNTS, INSERT_ENTRY, INSERT_POSTING x2, STORE_BALANCES x2, COMMIT.
SQLITE_TRANSFER_STATEMENTS = 8


async def test_a_transfer_sends_its_fixed_statements_and_nothing_else() -> None:
    await open_chart()
    async with pooled_connections(max_size=2):
        with driver_log() as log:
            await fund(WALLET, "50")
            await posting.transfer(
                debit_code=WALLET, credit_code=WALLET_2, amount="1.00", kind="gift", reason_zh="转赠"
            )
            with log.counting() as sent:
                await posting.transfer(
                    debit_code=WALLET,
                    credit_code=WALLET_2,
                    amount="2.50",
                    kind="gift",
                    reason_zh="转赠",
                    idempotency_key="round-trips:1",
                )
    if on_postgres():
        assert len(sent) == POSTGRES_TRANSFER_ROUND_TRIPS, sent
        assert sent[0].startswith("BEGIN"), sent
        assert sent[-1].startswith("COMMIT"), sent
    else:
        assert len(sent) == SQLITE_TRANSFER_STATEMENTS, sent
        assert (sent[0], sent[-1]) == ("BEGIN IMMEDIATE", "COMMIT"), sent
    assert not any(
        statement.lstrip().upper().startswith("SELECT") and "ledger_entry" in statement for statement in sent
    ), "idempotency must cost no look-up on the common path (INSERT ... ON CONFLICT)"
