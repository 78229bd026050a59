"""What the ``fengling`` commands share on the terminal: the progress bar
of a long job, and the ``--now`` option of jobs that can be run as if at
another time.

A long job reports ``(done, total)`` through a callback and knows nothing
of rich; the bar is transient, so the job's own summary line is what stays
on screen.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from core.calendar import CHINA_ZONE

Advance = Callable[[int, int], None]


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
