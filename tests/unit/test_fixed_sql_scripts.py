"""The fixed-SQL runner's pure parts: one statement text per engine from
one source, and a script driven step by step (on an in-memory SQLite
connection, which is a library here, not the project's database)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from piccolo.engine.sqlite import convert_datetime_in

from core.fixed_sql import Dialect, Script, drive_sqlite, fixed_sql, postgres_only, sqlite_json_list, sqlite_time

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


def test_only_the_arguments_sqlite_reads_with_json_each_are_sent_as_json_lists() -> None:
    both = fixed_sql(
        "SELECT $1 AS first WHERE $2 = ANY($3)",
        sqlite="SELECT ?1 AS first WHERE ?2 IN (SELECT value FROM json_each(?3))",
    )
    assert both.sqlite_list_positions == (2,)
    assert PAIR.sqlite_list_positions == ()

    def script(_: Dialect) -> Script[list[str]]:
        rows = yield both("kept as sent", "b", ["a", "b"])
        return [str(row["first"]) for row in rows]

    with sqlite3.connect(":memory:") as connection:
        assert drive_sqlite(connection, script(Dialect.SQLITE)) == ["kept as sent"]


def test_a_json_each_parameter_without_a_number_is_refused_when_the_statement_is_written() -> None:
    with pytest.raises(ValueError, match="number the parameter"):
        fixed_sql("SELECT 1 WHERE $1 = ANY($2)", sqlite="SELECT 1 WHERE ? IN (SELECT value FROM json_each(?))")


# SQLite's text values end at a NUL character, whoever writes the JSON.
_TEXT = st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=12)


@given(
    st.one_of(
        st.lists(_TEXT, max_size=6),
        st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=6),
        st.lists(st.one_of(st.integers(min_value=-(2**63), max_value=2**63 - 1), _TEXT, st.none()), max_size=6),
    )
)
def test_a_list_argument_is_the_json_that_json_dumps_writes(values: list[object]) -> None:
    """The fast paths (all text, all integers) and the general one read back
    as the same list, through SQLite's own JSON reader too."""
    text = sqlite_json_list(values)
    assert json.loads(text) == values
    with sqlite3.connect(":memory:") as connection:
        read = [row[0] for row in connection.execute("SELECT value FROM json_each(?1) ORDER BY key", (text,))]
    assert read == values


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 12, 1, 13, 40, 1, 123456, tzinfo=UTC),
        datetime(2026, 12, 1, 13, 40, tzinfo=UTC),
        datetime(2026, 12, 1, 21, 40, 1, 5, tzinfo=timezone(timedelta(hours=8))),
        datetime(2026, 12, 1, 13, 40, 1),
    ],
)
def test_a_time_is_stored_as_the_text_piccolos_adapter_writes(moment: datetime) -> None:
    assert sqlite_time(moment) == convert_datetime_in(moment)
