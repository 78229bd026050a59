"""What a posting sends to the database, recorded where it leaves the process.

``StatementLog`` records every statement between ``start()`` and
``stop()``, for our posting path and for the raw ceiling alike, so a reader
can check that the ceiling sends the same statements in the same order:

- **PostgreSQL**: at the asyncpg ``Connection`` methods (``execute``,
  ``fetch``, ``fetchval``, ``fetchrow``, ``fetchmany``, ``executemany``).
  Piccolo, ``core.fixed_sql``, asyncpg's transactions (``BEGIN``/``COMMIT``)
  and a pool's reset all go through them, so each recorded statement is one
  round trip. (The first use of a statement on a connection adds a prepare
  round trip; asyncpg caches it per connection, so a warm pool does not pay
  it, and it is not counted.)
- **SQLite**: with ``sqlite3``'s trace callback on every connection the
  process opened (``core.sqlite_connections`` connections are registered by
  ``install_sqlite_registry`` before the first opens) and on the ceiling's
  connection. The callback sees each statement as executed, ``BEGIN
  IMMEDIATE`` and ``COMMIT`` included, with its parameters inlined. Thread
  hops (``SqliteWriter.call`` / ``SqliteReaders.call``) are counted too:
  on SQLite a hop, not a statement, is what costs like a round trip.

Each statement is labelled with the ``core.fixed_sql.FixedSql`` constant it
was sent from, when one matches (constants are found in the loaded
``ledger.*`` and ``core.*`` modules), so both sides' lists read as names.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sqlite3
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_ASYNCPG_METHODS = ("execute", "executemany", "fetch", "fetchval", "fetchrow", "fetchmany")
# An SQL literal as sqlite3's trace shows a bound parameter.
_SQLITE_LITERAL = r"(?:'(?:[^']|'')*'|X'[0-9A-Fa-f]*'|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|NULL)"
_NUMBER = re.compile(r"(?<![\w$?])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?!\w)")
_STRING = re.compile(r"'(?:[^']|'')*'")


def normalise(sql: str) -> str:
    return " ".join(sql.split())


def shape(sql: str) -> str:
    """The statement with literals replaced by ``?``: what two sends of the
    same statement with other values have in common."""
    return _NUMBER.sub("?", _STRING.sub("?", normalise(sql)))


@dataclass(frozen=True, slots=True)
class Sent:
    text: str  # as sent (PostgreSQL) or as executed, parameters inlined (SQLite)
    label: str  # the FixedSql constant it came from, or "" if none matched
    arity: int | None  # number of bound arguments (PostgreSQL), None if unknown
    args: tuple[Any, ...] = ()  # the bound arguments (PostgreSQL)

    @property
    def key(self) -> str:
        """What must be equal for two sends to be "the same statement"."""
        return self.label or shape(self.text)

    def describe(self, width: int = 150) -> str:
        text = self.text if len(self.text) <= width else self.text[: width - 4] + " ..."
        return f"[{self.label}] {text}" if self.label else text


def fixed_sql_constants(prefixes: tuple[str, ...] = ("ledger", "core")) -> dict[str, Any]:
    """Every ``FixedSql`` defined at module level in the loaded modules
    under ``prefixes``, by ``module.NAME``."""
    from core.fixed_sql import FixedSql

    found: dict[str, Any] = {}
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(prefixes):
            continue
        for attribute, value in list(vars(module).items()):
            if isinstance(value, FixedSql) and not attribute.startswith("_"):
                found.setdefault(f"{name}.{attribute}", value)
    # A constant re-exported by another module keeps its defining module's
    # name when it was seen first; dedupe by object identity.
    unique: dict[int, str] = {}
    for label, value in sorted(found.items()):
        unique.setdefault(id(value), label)
    return {label: found[label] for label in unique.values()}


class _Labeller:
    def __init__(self) -> None:
        constants = fixed_sql_constants()
        self.by_postgres_text = {normalise(c.postgres): label for label, c in constants.items()}
        self.sqlite_patterns: list[tuple[re.Pattern[str], str]] = []
        for label, constant in constants.items():
            if not constant.sqlite:  # PostgreSQL only
                continue
            pattern = re.escape(normalise(constant.sqlite))
            pattern = re.sub(r"\\\?\d*", _SQLITE_LITERAL.replace("\\", "\\\\"), pattern)
            self.sqlite_patterns.append((re.compile(pattern, re.DOTALL), label))

    def postgres(self, text: str) -> str:
        return self.by_postgres_text.get(text, "")

    def sqlite(self, text: str) -> str:
        for pattern, label in self.sqlite_patterns:
            if pattern.fullmatch(text):
                return label
        return ""


_SQLITE_CONNECTIONS: list[sqlite3.Connection] = []
_SQLITE_CONNECTIONS_LOCK = threading.Lock()


def install_sqlite_registry() -> None:
    """Remember every connection ``core.sqlite_connections`` opens from now
    on, so a ``StatementLog`` can trace them. Call before the first opens."""
    import core.sqlite_connections as module

    original = module.open_connection
    if getattr(original, "_bench_registry", False):
        return

    def registering(connection_kwargs: Any, synchronous: str) -> sqlite3.Connection:
        connection = original(connection_kwargs, synchronous)
        with _SQLITE_CONNECTIONS_LOCK:
            _SQLITE_CONNECTIONS.append(connection)
        return connection

    registering._bench_registry = True  # type: ignore[attr-defined]
    module.open_connection = registering


class StatementLog:
    """The statements sent between ``start()`` and ``stop()``."""

    def __init__(self, engine: str, extra_sqlite: list[sqlite3.Connection] | None = None) -> None:
        self.engine = engine
        self.sent: list[Sent] = []
        self.hops = 0
        self._extra_sqlite = extra_sqlite or []
        self._labeller = _Labeller()
        self._undo: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        if self.engine == "postgres":
            self._patch_asyncpg()
        else:
            self._trace_sqlite()

    def stop(self) -> None:
        while self._undo:
            self._undo.pop()()

    def __enter__(self) -> StatementLog:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _record(self, text: str, arity: int | None, args: tuple[Any, ...] = ()) -> None:
        text = normalise(text)
        with self._lock:
            if self.engine == "sqlite" and self.sent and self.sent[-1].text == text:
                return  # sqlite3's trace repeats a statement for each trigger run it starts
        label = self._labeller.postgres(text) if self.engine == "postgres" else self._labeller.sqlite(text)
        with self._lock:
            self.sent.append(Sent(text=text, label=label, arity=arity, args=args))

    def _patch_asyncpg(self) -> None:
        from asyncpg.connection import Connection

        for name in _ASYNCPG_METHODS:
            original = getattr(Connection, name)

            def wrapper(connection: Any, query: str, *args: Any, _original: Any = original, **kw: Any) -> Any:
                many = _original.__name__ == "executemany"
                self._record(query, None if many else len(args), () if many else args)
                return _original(connection, query, *args, **kw)

            setattr(Connection, name, wrapper)
            self._undo.append(functools.partial(setattr, Connection, name, original))

    def _trace_sqlite(self) -> None:
        from core.sqlite_connections import SqliteReaders, SqliteWriter

        with _SQLITE_CONNECTIONS_LOCK:
            connections = [*_SQLITE_CONNECTIONS, *self._extra_sqlite]
        for connection in connections:
            try:
                connection.set_trace_callback(lambda text: self._record(text, None))
            except sqlite3.ProgrammingError:  # closed
                continue
            self._undo.append(functools.partial(_untrace, connection))
        for cls in (SqliteWriter, SqliteReaders):
            original = cls.call

            def counting(*args: Any, _original: Any = original, **kw: Any) -> Any:
                with self._lock:
                    self.hops += 1
                return _original(*args, **kw)

            setattr(cls, "call", counting)  # noqa: B010 -- patching the class, restored by stop()
            self._undo.append(functools.partial(setattr, cls, "call", original))


def _untrace(connection: sqlite3.Connection) -> None:
    with contextlib.suppress(sqlite3.ProgrammingError):  # closed since
        connection.set_trace_callback(None)


def compare(ours: list[Sent], raw: list[Sent]) -> list[str]:
    """Where the two lists differ (empty if they send the same statements
    in the same order)."""
    problems: list[str] = []
    if len(ours) != len(raw):
        problems.append(f"ours sends {len(ours)} statements, the ceiling {len(raw)}")
    for i, (a, b) in enumerate(zip(ours, raw, strict=False), 1):
        if a.key != b.key:
            problems.append(f"statement {i} differs: ours {a.describe(80)!r} vs ceiling {b.describe(80)!r}")
        elif a.arity is not None and b.arity is not None and a.arity != b.arity:
            problems.append(
                f"statement {i} ({a.label or 'same text'}): ours binds {a.arity} arguments, the ceiling {b.arity}"
            )
    return problems
