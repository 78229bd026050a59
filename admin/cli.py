"""The ``fengling`` command line: serve, migrate, demo data, ledger tools."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from admin.logging_config import log_config
from fengling_settings import get_settings

app = typer.Typer(help="风铃 Fengling: volunteer points ledger and points supermarket.", no_args_is_help=True)
ledger_app = typer.Typer(help="Ledger tools: verify, balances, statements, jobs.", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")
market_app = typer.Typer(help="Points supermarket: order expiry, shop statements.", no_args_is_help=True)
app.add_typer(market_app, name="marketplace")
activities_app = typer.Typer(help="Activities: response deadlines and escalation.", no_args_is_help=True)
app.add_typer(activities_app, name="activities")
console = Console()


def _migrate() -> None:
    from admin.migrations import migrate

    asyncio.run(migrate())


def _print_demo_logins() -> None:
    from seeds.demo import DEMO_LOGINS

    table = Table(title="演示账号 Demo logins")
    for column in ("role", "name", "phone", "password"):
        table.add_column(column)
    for login in DEMO_LOGINS:
        table.add_row(login.role, login.name, login.phone, login.password)
    console.print(table)


def _load_demo() -> bool:
    from seeds.demo import load_demo

    return asyncio.run(load_demo())


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="API worker processes.")] = 1,
    demo: Annotated[bool, typer.Option("--demo", help="Load the demo organisation into an empty database.")] = False,
) -> None:
    """Migrate, then run the API (OpenAPI UI at /schema)."""
    import uvicorn

    settings = get_settings()
    if workers > 1 and settings.uses_embedded_redis:
        console.print(
            "[red]--workers > 1 needs a real Redis (FENGLING_REDIS_URL); the in-process stand-in is per worker.[/red]"
        )
        raise typer.Exit(2)
    _migrate()
    if demo:
        if _load_demo():
            console.print("[green]已载入演示数据 Demo data loaded.[/green]")
        else:
            console.print("Database already has data; demo data not loaded again.")
        _print_demo_logins()
    console.print(f"数据目录 data dir: {settings.data_dir}")
    console.print(f"API docs: http://{host}:{port}/schema")
    console.print(f"日志 logs: {settings.data_dir / 'logs' / 'fengling.log'}")
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=log_config(settings.data_dir),
    )


@app.command()
def migrate() -> None:
    """Apply pending database migrations."""
    _migrate()
    console.print("[green]migrations applied[/green]")


@app.command("demo")
def demo_command() -> None:
    """Load the demo organisation (only into an empty database)."""
    _migrate()
    console.print("loaded" if _load_demo() else "database not empty; nothing loaded")
    _print_demo_logins()


@ledger_app.command("verify")
def ledger_verify(
    seal: Annotated[bool, typer.Option(help="Seal committed entries first.")] = True,
    expect_head: Annotated[
        str | None, typer.Option(help="SEQ:HASH printed by an earlier verify; it must still be in the chain.")
    ] = None,
) -> None:
    """Recompute the hash chain and trial balance; exit 1 on any fault.

    Prints the chain head: record it somewhere outside the database (the
    monthly report to the superior office) and pass it back with
    --expect-head to prove nothing sealed since was cut off or rewritten.
    """
    expected: tuple[int, str] | None = None
    if expect_head is not None:
        seq_text, _, hash_text = expect_head.partition(":")
        if not seq_text.isdigit() or len(hash_text) != 64:
            console.print("[red]--expect-head must look like 1234:<64 hex characters>[/red]")
            raise typer.Exit(2)
        expected = (int(seq_text), hash_text)
    from ledger.chain import chain_head
    from ledger.verify import verify_ledger

    async def run() -> int:
        from ledger.chain import seal_pending

        sealed = await seal_pending() if seal else 0
        total, _ = await chain_head()
        with Progress(
            TextColumn("verifying chain"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("chain", total=total)
            report = await verify_ledger(
                seal_first=False, progress=lambda n: progress.advance(task, n), expect_head=expected
            )
        report.sealed_now = sealed
        console.print(
            f"entries checked: {report.entries_checked}, accounts: {report.accounts_checked}, "
            f"sealed now: {report.sealed_now}, unsealed: {report.unsealed}"
        )
        console.print(f"chain head: {report.head_seq}:{report.head_hash}")
        if report.ok:
            console.print("[green]OK: chain intact, every entry balanced, balances match postings[/green]")
            return 0
        console.print(f"[red]FAULTS: {len(report.faults)}; first broken entry: {report.first_broken_entry_id}[/red]")
        for fault in report.faults:
            console.print(escape(f"  [{fault.check}] {fault.detail}"))
        return 1

    raise typer.Exit(asyncio.run(run()))


@ledger_app.command("balance")
def ledger_balance(
    code: Annotated[str, typer.Argument(help="Account code, e.g. volunteer:1:wallet")],
    as_of: Annotated[datetime | None, typer.Option(help="ISO time with zone, e.g. 2026-11-01T00:00:00+08:00")] = None,
) -> None:
    """Balance, held and available points of one account."""
    from ledger.accounts import balance_as_of, get_balance
    from ledger.errors import LedgerError

    async def run() -> None:
        account = await get_balance(code)
        console.print(f"{account.code}  {account.name_zh}")
        console.print(f"balance {account.balance}  held {account.held}  available {account.available}")
        if as_of is not None:
            console.print(f"balance as of {as_of.isoformat()}: {await balance_as_of(code, as_of)}")

    try:
        asyncio.run(run())
    except LedgerError as error:
        console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(1) from error


@ledger_app.command("statement")
def ledger_statement(
    code: Annotated[str, typer.Argument(help="Account code")],
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    cursor: Annotated[str | None, typer.Option(help="next_cursor from the previous page")] = None,
) -> None:
    """One page of an account's postings, newest first."""
    from ledger.errors import LedgerError
    from ledger.statements import statement

    try:
        page = asyncio.run(statement(code, cursor=cursor, limit=limit))
    except LedgerError as error:
        console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(1) from error
    table = Table(title=f"{code} statement")
    for column in ("time", "entry", "kind", "reason", "amount", "balance"):
        table.add_column(column, justify="right" if column in {"amount", "balance", "entry"} else "left")
    for line in page.lines:
        table.add_row(
            line.created_at.strftime("%Y-%m-%d %H:%M"),
            str(line.entry_id),
            line.kind,
            line.reason_zh,
            str(line.amount),
            str(line.balance_after),
        )
    console.print(table)
    if page.next_cursor:
        console.print(f"next page: --cursor {page.next_cursor}")


@ledger_app.command("seal")
def ledger_seal() -> None:
    """Append committed entries to the hash chain."""
    from ledger.chain import seal_pending

    console.print(f"sealed {asyncio.run(seal_pending())} entries")


@ledger_app.command("expire-holds")
def ledger_expire_holds() -> None:
    """Release every active hold past its deadline."""
    from ledger.holds import expire_holds

    console.print(f"expired {asyncio.run(expire_holds())} holds")


@market_app.command("expire-orders")
def marketplace_expire_orders() -> None:
    """Close orders not picked up in time: points and stock come back."""
    from marketplace.orders import expire_orders

    console.print(f"expired {asyncio.run(expire_orders())} orders")


@market_app.command("statement")
def marketplace_statement(
    shop_id: Annotated[int, typer.Argument(help="Shop id")],
    period: Annotated[str, typer.Argument(help="Month, e.g. 2026-11")],
    csv_path: Annotated[str | None, typer.Option("--csv", help="Also write the CSV here")] = None,
) -> None:
    """A shop's monthly settlement statement."""
    from marketplace.errors import MarketplaceError
    from marketplace.settlement import build_statement, statement_csv

    try:
        statement = asyncio.run(build_statement(shop_id, period))
    except MarketplaceError as error:
        console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(1) from error
    table = Table(title=f"{statement.shop_name_zh} {period} 结算单")
    for column in ("order", "time", "type", "item", "qty", "points"):
        table.add_column(column, justify="right" if column in {"order", "qty", "points"} else "left")
    for line in statement.lines:
        table.add_row(
            str(line.order_id),
            line.at.strftime("%Y-%m-%d %H:%M"),
            line.kind,
            line.item_name_zh,
            str(line.quantity),
            str(line.points),
        )
    console.print(table)
    console.print(
        f"redeemed {statement.redeemed}  returned {statement.returned}  net {statement.net}  "
        f"{'settled' if statement.settled else 'not settled'}"
    )
    if csv_path:
        Path(csv_path).write_text(statement_csv(statement), encoding="utf-8")
        console.print(f"CSV written to {csv_path}")


@activities_app.command("escalate")
def activities_escalate(
    now: Annotated[
        str | None, typer.Option(help="Pretend it is this time (ISO; China time if no zone), e.g. 2026-11-23T09:00")
    ] = None,
) -> None:
    """Escalate activities past their response deadline one level up the tree."""
    from activities.calendar import CHINA_ZONE
    from activities.deadlines import escalate_overdue

    moment: datetime | None = None
    if now is not None:
        try:
            moment = datetime.fromisoformat(now)
        except ValueError as error:
            console.print(f"[red]--now must be an ISO time like 2026-11-23T09:00:00+08:00, got {escape(now)}[/red]")
            raise typer.Exit(2) from error
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=CHINA_ZONE)
    console.print(f"升级超期事项 escalated {asyncio.run(escalate_overdue(now=moment))} overdue items")


if __name__ == "__main__":
    app()
