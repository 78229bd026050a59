"""Bring the database schema up to date with Piccolo's migrations."""

from __future__ import annotations

import contextlib
import io

from piccolo.apps.migrations.commands.forwards import run_forwards

from core import database


class MigrationFailed(RuntimeError):
    pass


async def migrate(*, verbose: bool = False) -> None:
    """Run every pending migration of every app, in dependency order.

    On SQLite also switches the file to WAL journaling, so readers never
    wait for the single writer.
    """
    db = database.engine()
    if db.engine_type == "sqlite":
        await db.run_ddl("PRAGMA journal_mode=WAL")
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured) if not verbose else contextlib.nullcontext():
        result = await run_forwards("all")
    if not result.success:
        raise MigrationFailed(f"{result.message}\n{captured.getvalue()}")
