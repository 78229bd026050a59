"""The fixed-SQL runner's pure parts: one statement text per engine from
one source, and a script driven step by step (on an in-memory SQLite
connection, which is a library here, not the project's database)."""

from __future__ import annotations

import sqlite3

import pytest

from core.fixed_sql import Dialect, Script, drive_sqlite, fixed_sql, postgres_only

PAIR = fixed_sql("SELECT $1 AS first, $2 AS second, $1 AS again")
CODES = fixed_sql(
    "SELECT code FROM t WHERE code = ANY($1)",
    sqlite="SELECT value AS code FROM json_each(?1) ORDER BY value",
)


def test_sqlite_reads_postgres_parameters_as_numbered_question_marks() -> None:
    assert PAIR.postgres == "SELECT $1 AS first, $2 AS second, $1 AS again"
    assert PAIR.sqlite == "SELECT ?1 AS first, ?2 AS second, ?1 AS again"


def test_an_explicit_sqlite_text_is_kept_as_written() -> None:
    assert CODES.sqlite.startswith("SELECT value AS code FROM json_each(?1)")


def test_a_script_receives_each_statements_rows_and_returns_its_result() -> None:
    def script(_: Dialect) -> Script[tuple[int, str, list[str]]]:
        pair = yield PAIR(7, "seven")
        codes = yield CODES(["b", "a"])
        return int(pair[0]["again"]), str(pair[0]["second"]), [row["code"] for row in codes]

    with sqlite3.connect(":memory:") as connection:
        assert drive_sqlite(connection, script(Dialect.SQLITE)) == (7, "seven", ["a", "b"])


def test_a_postgres_only_statement_never_reaches_sqlite() -> None:
    only_postgres = postgres_only("WITH x AS (INSERT INTO t VALUES (1) RETURNING id) SELECT id FROM x")

    def script(_: Dialect) -> Script[None]:
        yield only_postgres()

    with sqlite3.connect(":memory:") as connection, pytest.raises(TypeError, match="PostgreSQL-only"):
        drive_sqlite(connection, script(Dialect.SQLITE))


def test_a_rule_that_refuses_mid_script_stops_it_before_the_next_statement() -> None:
    sent: list[str] = []

    def script(_: Dialect) -> Script[None]:
        rows = yield PAIR(1, "one")
        sent.append(str(rows[0]["second"]))
        raise LookupError("refused by a rule")
        yield PAIR(2, "two")  # never sent

    with sqlite3.connect(":memory:") as connection, pytest.raises(LookupError):
        drive_sqlite(connection, script(Dialect.SQLITE))
    assert sent == ["one"]
