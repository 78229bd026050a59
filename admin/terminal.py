"""What the ``fengling`` commands share on the terminal: how a command
runs its work on the database, the progress bar of a long job, and the
``--now`` option of jobs that can be run as if at another time.

A long job reports ``(done, total)`` through a callback and knows nothing
of rich; the bar is transient, so the job's own summary line is what stays
on screen.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Iterator
from datetime import datetime
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.outages import unavailable_dependency
from core.calendar import CHINA_ZONE
from core.database import pooled_connections

T = TypeVar("T")
Advance = Callable[[int, int], None]

COMMAND_POOL_SIZE = 4
"""Connections a command may hold at once on PostgreSQL: its jobs run one
transaction at a time, a few reads beside it at most."""


OUTAGE_MESSAGES = {
    "database": "无法连接数据库 the database cannot be reached",
    "redis": "无法连接 Redis, Redis cannot be reached",
}


def run_command(work: Coroutine[Any, Any, T]) -> T:
    """Run a command's work to the end on a new event loop. On PostgreSQL
    its queries share a small connection pool for the run: without one,
    every query outside a transaction opened a connection of its own, and
    a job over the whole community (the demo load, a statement, an expiry
    sweep) spent most of its time connecting.

    A database or Redis that cannot be reached (``api.outages``) ends the
    command with one line naming it and exit status 1, not a traceback: a
    cron job's log then says what was down. Anything else propagates."""

    async def pooled() -> T:
        try:
            async with pooled_connections(max_size=COMMAND_POOL_SIZE):
                return await work
        finally:
            work.close()  # unstarted if the pool could not open: no "never awaited" warning on top of the error

    try:
        return asyncio.run(pooled())
    except Exception as error:
        # A broken pipe is the terminal's (output piped to ``head``), not the database's.
        dependency = None if isinstance(error, BrokenPipeError) else unavailable_dependency(error)
        if dependency not in OUTAGE_MESSAGES:
            raise
        Console(stderr=True).print(f"[red]{OUTAGE_MESSAGES[dependency]}: {escape(str(error))}[/red]")
        raise typer.Exit(1) from error


def progress_columns() -> tuple[TextColumn, BarColumn, MofNCompleteColumn, TimeElapsedColumn]:
    """The house bar: what is being done, the bar, done/total, time taken."""
    return TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()


@contextlib.contextmanager
def progress_bar(console: Console, label: str) -> Iterator[Advance]:
    """A transient bar labelled ``label``; yields the ``(done, total)``
    callback to hand to the job (its total may be unknown until it starts)."""
    with Progress(*progress_columns(), console=console, transient=True) as progress:
        task = progress.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield advance


def pretend_now(console: Console, now: str | None) -> datetime | None:
    """Parse a job's ``--now``: an ISO time, China time when it names no
    zone. Prints the reason and exits with status 2 on anything else."""
    if now is None:
        return None
    try:
        moment = datetime.fromisoformat(now)
    except ValueError as error:
        console.print(f"[red]--now must be an ISO time like 2026-11-23T09:00:00+08:00, got {escape(now)}[/red]")
        raise typer.Exit(2) from error
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=CHINA_ZONE)
