"""The ceiling for ``GET /api/v1/me/wallet``: a Litestar app doing one indexed read.

``bench/wallet_read.py`` serves it beside Fengling, with the same server and
the same number of workers, on the same database, and reports Fengling's
rate as a ratio to this one (issue #10, target 3). It is what the framework
and the driver cost for one authenticated-free request that reads one row by
a unique index and answers a small JSON object: no token, no principal, no
guard, no holds, no pydantic model. Nothing here imports the project, so the
ceiling does not move when the project changes.

- PostgreSQL: an asyncpg pool of up to ``POOL_MAX_SIZE`` connections per
  worker (as ``api/app.py`` opens), without asyncpg's 4-statement reset on
  release (as ``core/engines.py``), and ``SELECT … FROM ledger_account
  WHERE code = $1`` (the unique index on ``code``).
- SQLite: one ``sqlite3`` connection per worker, the same statement run
  straight on the event loop (no thread hop: the cheapest way to read a row
  from Python, so a ceiling, not a like-for-like path).

Run by the bench as ``bench.wallet_ceiling:create_app`` (a factory), with
``FENGLING_DATABASE_URL`` pointing at the bench's database.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from litestar import Litestar, get
from litestar.datastructures import State

POOL_MAX_SIZE = 10
ACCOUNT_SQL = "SELECT code, balance_minor, held_minor FROM ledger_account WHERE code = $1"


def _amount(minor: int) -> str:
    """Hundredths as a 2-place string, the wire form of an amount."""
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole}.{cents:02d}"


async def _no_reset(connection: asyncpg.Connection) -> None:
    """Nothing to reset: the ceiling keeps no session state and never leaves a transaction open."""


@get("/health", sync_to_thread=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/accounts/{code:str}")
async def account(code: str, state: State) -> dict[str, Any]:
    if state.sqlite is not None:
        row = state.sqlite.execute(ACCOUNT_SQL.replace("$1", "?"), (code,)).fetchone()
    else:
        row = await state.pool.fetchrow(ACCOUNT_SQL, code)
    if row is None:
        return {"account_code": code, "found": False}
    return {"account_code": row[0], "balance": _amount(row[1]), "held": _amount(row[2])}


def create_app() -> Litestar:
    url = os.environ["FENGLING_DATABASE_URL"]

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if url.startswith("sqlite:///"):
            app.state.sqlite = sqlite3.connect(url.removeprefix("sqlite:///"), check_same_thread=False)
            app.state.pool = None
            try:
                yield
            finally:
                app.state.sqlite.close()
            return
        app.state.sqlite = None
        app.state.pool = await asyncpg.create_pool(url, min_size=1, max_size=POOL_MAX_SIZE, reset=_no_reset)
        try:
            yield
        finally:
            await app.state.pool.close()

    return Litestar(route_handlers=[health, account], lifespan=[lifespan], debug=False)
