from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt
from piccolo.columns.column_types import BigSerial
from piccolo.columns.column_types import Bytea
from piccolo.columns.column_types import ForeignKey
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.column_types import Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-30T15:53:53:528739"
VERSION = "1.38.0"
DESCRIPTION = "chain blocks and trimmed indexes"

# Storage per transfer (issue #10, target 5; bench/ledger_storage.py). The
# Piccolo steps below add the chain's own table and drop single-column
# indexes no query uses (ledger/README.md, "Indexes"). The raw step, which
# Piccolo runs first, makes the changes Piccolo cannot declare:
# - statements and as-of balances both read one account's postings newest
#   first through (account, created_at); (account, id) did the same job for
#   statements alone;
# - on PostgreSQL a posting needs no index on its id alone (nothing looks a
#   posting up by id; ids come from the sequence), so the primary key
#   constraint goes. On SQLite the id is the rowid and costs nothing;
# - on PostgreSQL one reversal per entry is a partial unique index: entries
#   that reverse nothing (nearly all) no longer put a NULL in it. SQLite
#   keeps the column's UNIQUE (it cannot drop it without rebuilding).
RAW = {
    "postgres": [
        "DROP INDEX IF EXISTS ledger_posting_account_id_id",
        "ALTER TABLE ledger_posting DROP CONSTRAINT IF EXISTS ledger_posting_pkey",
        "CREATE UNIQUE INDEX IF NOT EXISTS ledger_entry_reverses_once "
        "ON ledger_entry (reverses) WHERE reverses IS NOT NULL",
        "ALTER TABLE ledger_entry DROP CONSTRAINT IF EXISTS ledger_entry_reverses_key",
    ],
    "sqlite": [
        "DROP INDEX IF EXISTS ledger_posting_account_id_id",
    ],
}


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="ledger", description=DESCRIPTION
    )

    async def run():
        from ledger.tables import LedgerEntry

        db = LedgerEntry._meta.db
        for statement in RAW[db.engine_type]:
            await db.run_ddl(statement)

    manager.add_raw(run)

    manager.add_table(
        class_name="LedgerChainBlock",
        tablename="ledger_chain_block",
        schema=None,
        columns=None,
    )

    manager.add_column(
        table_class_name="LedgerChainBlock",
        tablename="ledger_chain_block",
        column_name="id",
        db_column_name="id",
        column_class_name="BigSerial",
        column_class=BigSerial,
        params={
            "null": False,
            "primary_key": True,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="LedgerChainBlock",
        tablename="ledger_chain_block",
        column_name="head_seq",
        db_column_name="head_seq",
        column_class_name="BigInt",
        column_class=BigInt,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="LedgerChainBlock",
        tablename="ledger_chain_block",
        column_name="head",
        db_column_name="head",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 64,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="LedgerChainBlock",
        tablename="ledger_chain_block",
        column_name="entry_ids",
        db_column_name="entry_ids",
        column_class_name="Bytea",
        column_class=Bytea,
        params={
            "default": b"",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="LedgerChainBlock",
        tablename="ledger_chain_block",
        column_name="links",
        db_column_name="links",
        column_class_name="Bytea",
        column_class=Bytea,
        params={
            "default": b"",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="LedgerChainBlock",
        tablename="ledger_chain_block",
        column_name="sealed_through",
        db_column_name="sealed_through",
        column_class_name="BigInt",
        column_class=BigInt,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="LedgerChainBlock",
        tablename="ledger_chain_block",
        column_name="sealed_at",
        db_column_name="sealed_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": TimestamptzNow(),
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.alter_column(
        table_class_name="LedgerAccount",
        tablename="ledger_account",
        column_name="code",
        db_column_name="code",
        params={"index": False},
        old_params={"index": True},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="LedgerAccount",
        tablename="ledger_account",
        column_name="owner_ref",
        db_column_name="owner_ref",
        params={"index": False},
        old_params={"index": True},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="LedgerAccount",
        tablename="ledger_account",
        column_name="scope_ref",
        db_column_name="scope_ref",
        params={"index": False},
        old_params={"index": True},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="LedgerEntry",
        tablename="ledger_entry",
        column_name="kind",
        db_column_name="kind",
        params={"index": False},
        old_params={"index": True},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="LedgerEntry",
        tablename="ledger_entry",
        column_name="cause_ref",
        db_column_name="cause_ref",
        params={"index": False},
        old_params={"index": True},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="LedgerEntry",
        tablename="ledger_entry",
        column_name="created_at",
        db_column_name="created_at",
        params={"index": False},
        old_params={"index": True},
        column_class=Timestamptz,
        old_column_class=Timestamptz,
        schema=None,
    )

    manager.alter_column(
        table_class_name="LedgerPosting",
        tablename="ledger_posting",
        column_name="account",
        db_column_name="account",
        params={"index": False},
        old_params={"index": True},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    manager.alter_column(
        table_class_name="LedgerHold",
        tablename="ledger_hold",
        column_name="status",
        db_column_name="status",
        params={"index": False},
        old_params={"index": True},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="LedgerHold",
        tablename="ledger_hold",
        column_name="cause_ref",
        db_column_name="cause_ref",
        params={"index": False},
        old_params={"index": True},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="LedgerHold",
        tablename="ledger_hold",
        column_name="expires_at",
        db_column_name="expires_at",
        params={"index": False},
        old_params={"index": True},
        column_class=Timestamptz,
        old_column_class=Timestamptz,
        schema=None,
    )

    return manager
