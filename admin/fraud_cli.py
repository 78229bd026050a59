"""``fengling fraud …``: the seeded fraud corpus (``fraud.simulate``).

``simulate`` generates the synthetic programme with its planted fraud,
runs every registered rule over it, prints each rule's precision and
recall and whether the gate passes (exit status 1 if not), and can write
the corpus as JSON lines for benchmarks (``--out``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from admin.terminal import pretend_now, run_command

fraud_app = typer.Typer(
    help="Fraud rules: the seeded fraud corpus and its gate, overdue reviews, backtests.", no_args_is_help=True
)
console = Console()


@fraud_app.command("simulate")
def simulate(
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same corpus.")] = 7,
    weeks: Annotated[int, typer.Option(min=3, max=52, help="Weeks of activity.")] = 4,
    scale: Annotated[int, typer.Option(min=1, max=500, help="Multiplies the grids (4 per unit).")] = 1,
    out: Annotated[
        Path | None, typer.Option(help="Write the corpus (and its labels, apart) as JSON lines here.")
    ] = None,
) -> None:
    """Generate the fraud corpus and score the rules on it."""
    from fraud.simulate import generate, score, subject_count, write_jsonl

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        building = progress.add_task("生成 generating", total=8 * scale)
        corpus = generate(seed=seed, weeks=weeks, scale=scale, progress=lambda _: progress.advance(building))
        judging = progress.add_task("评估 judging", total=subject_count(corpus))
        report = score(corpus, progress=lambda: progress.advance(judging))
    table = Table(title=f"欺诈规则 Fraud rules · seed {seed}, {weeks} weeks, scale {scale}")
    for column in ("rule", "hits", "precision", "recall"):
        table.add_column(column)
    for row in report.table():
        table.add_row(*row)
    console.print(table)
    console.print(
        f"activities: {len(corpus.activities)}, orders: {len(corpus.orders)}; "
        f"planted fraud flagged: {report.flagged_planted}/{report.planted} ({report.recall:.0%}); "
        f"honest flagged: {report.flagged_honest}/{report.honest} ({report.false_positive_rate:.2%}); "
        f"confirmations found: {report.confirmations_found}/{report.confirmations}"
    )
    if out is not None:
        for path in write_jsonl(corpus, out):
            console.print(f"wrote {escape(str(path))}")
    failures = report.failures()
    if failures:
        for failure in failures:
            console.print(f"[red]gate fails: {escape(failure)}[/red]")
        raise typer.Exit(1)
    console.print("[green]gate passes: every planted fraud flagged, false positives within 1%[/green]")


@fraud_app.command("expire-reviews")
def expire_reviews(
    now: Annotated[
        str | None, typer.Option(help="Pretend it is this time (ISO; China time if no zone), e.g. 2026-11-23T09:00")
    ] = None,
) -> None:
    """Release small held amounts whose review is overdue; escalate larger ones up the tree."""

    from jobs.review_deadlines import expire_reviews as run

    moment = pretend_now(console, now)
    console.print(f"逾期审核 overdue reviews released or escalated: {run_command(run(now=moment))}")


@fraud_app.command("backtest")
def backtest(
    since: Annotated[str, typer.Option(help="Replay decisions from this day on (YYYY-MM-DD, China time).")],
    show: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many changed decisions listed.")] = 200,
) -> None:
    """Replay past awards and orders through the current rules and settings; list the decisions that would change."""
    from datetime import date, datetime, time

    from admin.fraud_backtest import backtest as replay
    from admin.fraud_backtest import summary
    from core.calendar import CHINA_ZONE

    try:
        day = date.fromisoformat(since)
    except ValueError as error:
        console.print(f"[red]--since must be a day like 2026-11-01, got {escape(since)}[/red]")
        raise typer.Exit(2) from error
    replays = run_command(replay(datetime.combine(day, time(0, 0), tzinfo=CHINA_ZONE)))
    table = Table(title=f"回测 Backtest since {day.isoformat()} (China time)")
    for column in ("subject", "id", "member", "decided (China time)", "was", "now", "score", "rules hit now"):
        table.add_column(column)
    changed = [item for item in replays if item.changed]
    for item in changed[:show]:
        stored = item.stored
        table.add_row(
            stored.subject.value,
            str(stored.subject_id),
            str(stored.member_id),
            stored.decided_at.astimezone(CHINA_ZONE).strftime("%Y-%m-%d %H:%M"),
            stored.outcome.value,
            item.now.outcome.value,
            f"{stored.score} → {item.now.score}",
            ", ".join(item.hits_now()) or "-",
        )
    console.print(table)
    counts = summary(replays)
    console.print(
        f"replayed {counts['replayed']}, would change {counts['changed']} "
        f"(newly flagged {counts['now_flagged']}, newly allowed {counts['now_allowed']})"
    )
