import sqlite3
from datetime import datetime, timezone

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-30T15:54:04:419320"
VERSION = "1.38.0"
DESCRIPTION = "the chain moves from ledger_entry to ledger_chain_block"

# Sealing used to write each entry's chain position and link into its row
# (a second row version per entry). The chain now lives in
# ledger_chain_block (ledger/chain.py), one row per sealing run. Its own
# migration: Piccolo runs a migration's raw steps before its table and
# column changes, and the new table comes from the migration before.
#
# The raw step carries the chain over before the columns go: one block per
# old checkpoint (the entries sealed up to it, its link as the block head,
# its sealing time), written out here so this migration keeps meaning what
# it meant when it landed. A checkpoint past the last sealed entry (a tail
# cut before this migration) becomes an empty block, which verify reports.
#
# SQLite cannot drop a UNIQUE column (chain_seq), so there the step also
# rebuilds ledger_entry without that UNIQUE, in SQLite's documented way:
# foreign keys off, outside any transaction, then one transaction, then a
# foreign key check, on its own connection. That is why this migration is
# not wrapped in a transaction on SQLite (it is on PostgreSQL).
LINK_BYTES = 8
PAGE = 5000


def _link_prefix(chain_hash):
    try:
        return bytes.fromhex(chain_hash or "")[:LINK_BYTES].ljust(LINK_BYTES, b"\0")
    except ValueError:
        return b"\0" * LINK_BYTES


async def _carry_chain(fetch, execute, now):
    """Write the blocks. ``fetch``/``execute`` take SQL with {} placeholders."""
    checkpoints = await fetch(
        "SELECT chain_seq, chain_hash, sealed_at FROM ledger_chain_checkpoint "
        "ORDER BY chain_seq, id"
    )
    sealed_through = 0
    block = []
    next_checkpoint = 0

    async def write(rows, head_seq, head, sealed_at):
        nonlocal sealed_through
        for row in rows:
            sealed_through = max(sealed_through, int(row["id"]))
        await execute(
            "INSERT INTO ledger_chain_block "
            "(head_seq, head, entry_ids, links, sealed_through, sealed_at) "
            "VALUES ({}, {}, {}, {}, {}, {})",
            head_seq,
            head,
            b"".join(int(row["id"]).to_bytes(8, "big") for row in rows),
            b"".join(_link_prefix(row["chain_hash"]) for row in rows),
            sealed_through,
            sealed_at,
        )

    last_seq = 0
    while True:
        rows = await fetch(
            "SELECT id, chain_seq, chain_hash FROM ledger_entry "
            "WHERE chain_seq > {} ORDER BY chain_seq LIMIT {}",
            last_seq,
            PAGE,
        )
        if not rows:
            break
        for row in rows:
            while (
                next_checkpoint < len(checkpoints)
                and int(checkpoints[next_checkpoint]["chain_seq"]) < int(row["chain_seq"])
            ):
                checkpoint = checkpoints[next_checkpoint]
                if block:
                    await write(
                        block,
                        int(checkpoint["chain_seq"]),
                        checkpoint["chain_hash"],
                        checkpoint["sealed_at"],
                    )
                    block = []
                next_checkpoint += 1
            block.append(row)
        last_seq = int(rows[-1]["chain_seq"])
    if block and next_checkpoint < len(checkpoints):
        checkpoint = checkpoints[next_checkpoint]
        await write(block, int(checkpoint["chain_seq"]), checkpoint["chain_hash"], checkpoint["sealed_at"])
        next_checkpoint += 1
    elif block:
        # Sealed after the last checkpoint (no sealing run left one so).
        await write(block, int(block[-1]["chain_seq"]), block[-1]["chain_hash"], now)
    for checkpoint in checkpoints[next_checkpoint:]:
        await write([], int(checkpoint["chain_seq"]), checkpoint["chain_hash"], checkpoint["sealed_at"])


async def _postgres():
    from ledger.tables import LedgerEntry

    async def fetch(sql, *args):
        return await LedgerEntry.raw(sql, *args).run()

    await _carry_chain(fetch, fetch, datetime.now(timezone.utc))


async def _sqlite(path):
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    connection.row_factory = sqlite3.Row
    try:
        connection.execute("PRAGMA foreign_keys = OFF")
        connection.execute("BEGIN IMMEDIATE")
        try:
            await _sqlite_steps(connection)
            problems = connection.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise RuntimeError(f"foreign key check failed after rebuilding ledger_entry: {problems[:5]}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    finally:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.close()


async def _sqlite_steps(connection):
    async def fetch(sql, *args):
        return connection.execute(sql.replace("{}", "?"), args).fetchall()

    await _carry_chain(fetch, fetch, datetime.now(timezone.utc))

    connection.execute("DROP INDEX IF EXISTS ledger_entry_unsealed")
    (table_sql,) = connection.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'ledger_entry'"
    ).fetchone()
    unique_seq = '"chain_seq" INTEGER UNIQUE'
    if table_sql.count(unique_seq) != 1 or not table_sql.startswith('CREATE TABLE "ledger_entry"'):
        raise RuntimeError(f"unexpected ledger_entry definition: {table_sql}")
    rebuilt_sql = table_sql.replace(unique_seq, '"chain_seq" INTEGER').replace(
        'CREATE TABLE "ledger_entry"', 'CREATE TABLE "ledger_entry_rebuilt"', 1
    )
    others = [
        row[0]
        for row in connection.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'ledger_entry' "
            "AND type IN ('index', 'trigger') AND sql IS NOT NULL"
        )
    ]
    connection.execute(rebuilt_sql)
    connection.execute('INSERT INTO "ledger_entry_rebuilt" SELECT * FROM "ledger_entry"')
    connection.execute('DROP TABLE "ledger_entry"')
    connection.execute('ALTER TABLE "ledger_entry_rebuilt" RENAME TO "ledger_entry"')
    for statement in others:
        connection.execute(statement)


async def forwards():
    engine = engine_finder()
    on_sqlite = engine is not None and engine.engine_type == "sqlite"
    manager = MigrationManager(
        migration_id=ID,
        app_name="ledger",
        description=DESCRIPTION,
        wrap_in_transaction=not on_sqlite,
    )

    async def run():
        from ledger.tables import LedgerEntry

        db = LedgerEntry._meta.db
        if db.engine_type == "sqlite":
            await _sqlite(db.path)
            # Connections that read the schema before the rebuild still
            # hold the old one, and SQLite checks "cannot drop a UNIQUE
            # column" against it before noticing the change: let the steps
            # below open fresh ones (core.engines keeps connections open).
            close = getattr(db, "close_connections", None)
            if close is not None:
                close()
        else:
            await _postgres()

    manager.add_raw(run)

    manager.drop_table(
        class_name="LedgerChainCheckpoint",
        tablename="ledger_chain_checkpoint",
        schema=None,
    )

    manager.drop_column(
        table_class_name="LedgerEntry",
        tablename="ledger_entry",
        column_name="chain_hash",
        db_column_name="chain_hash",
        schema=None,
    )

    manager.drop_column(
        table_class_name="LedgerEntry",
        tablename="ledger_entry",
        column_name="chain_seq",
        db_column_name="chain_seq",
        schema=None,
    )

    return manager
