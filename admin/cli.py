"""The ``fengling`` command line: serve, migrate, demo data, ledger tools,
member import."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from admin import serving
from admin.fraud_cli import fraud_app
from admin.serving import DEFAULT_SERVER, HttpServer
from admin.terminal import pretend_now, progress_bar, run_command
from core.spreadsheet_cells import safe_cell
from fengling_settings import Settings, get_settings, write_private_file

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from community.member_import import ImportedMember, ImportResult
    from marketplace.signing_keys import KeyInfo

app = typer.Typer(help="风铃 Fengling: volunteer points ledger and points supermarket.", no_args_is_help=True)
ledger_app = typer.Typer(help="Ledger tools: verify, balances, statements, jobs.", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")
market_app = typer.Typer(help="Points supermarket: order expiry, shop statements.", no_args_is_help=True)
app.add_typer(market_app, name="marketplace")
members_app = typer.Typer(
    help="Members: bulk import from a CSV file, unlock a phone, create an admin.", no_args_is_help=True
)
app.add_typer(members_app, name="members")
activities_app = typer.Typer(help="Activities: response deadlines and escalation.", no_args_is_help=True)
app.add_typer(activities_app, name="activities")
boards_app = typer.Typer(help="Leaderboards: rebuild boards from the ledger, run the feed.", no_args_is_help=True)
app.add_typer(boards_app, name="leaderboards")
recognition_app = typer.Typer(help="Star levels and badges: award what history earns.", no_args_is_help=True)
app.add_typer(recognition_app, name="recognition")
vendor_app = typer.Typer(help="Vendored front-end libraries (web/vendor.py).", no_args_is_help=True)
app.add_typer(vendor_app, name="vendor")
app.add_typer(fraud_app, name="fraud")
reporting_app = typer.Typer(help="Dashboard rollups: rebuild from the source, catch up.", no_args_is_help=True)
app.add_typer(reporting_app, name="reporting")
keys_app = typer.Typer(help="Pickup-token signing keys (marketplace/signing_keys.py).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
console = Console()
# Times the CLI prints are China time (``_china``), and say so.
CHINA_TIME_COLUMN = "时间 time (China time)"


def _migrate() -> None:
    from admin.migrations import migrate

    run_command(migrate())


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

    return run_command(load_demo())


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="API worker processes.")] = 1,
    demo: Annotated[bool, typer.Option("--demo", help="Load the demo organisation into an empty database.")] = False,
    server: Annotated[
        HttpServer, typer.Option(help="HTTP server (admin/serving.py says why the default).")
    ] = DEFAULT_SERVER,
) -> None:
    """Migrate, then run the API (OpenAPI UI at /schema)."""
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
    if settings.trusted_proxies:
        console.print(f"trusted proxies (X-Forwarded-For believed): {', '.join(settings.trusted_proxies)}")
    if settings.access_log:
        console.print("access log on (FENGLING_ACCESS_LOG=1)")
    chosen = serving.server_for(server, settings)
    console.print(f"HTTP server: {chosen.value}")
    serving.run(chosen, settings, host=host, port=port, workers=workers)


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

        sealed = await seal_pending(everything=True) if seal else 0
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

    raise typer.Exit(run_command(run()))


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
            console.print(f"balance as of {_china(as_of)} (China time): {await balance_as_of(code, as_of)}")

    try:
        run_command(run())
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
    from core.errors import InvalidCursor
    from ledger.errors import LedgerError
    from ledger.statements import statement

    try:
        page = run_command(statement(code, cursor=cursor, limit=limit))
    except (LedgerError, InvalidCursor) as error:
        console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(1) from error
    table = Table(title=f"{code} statement")
    for column in (CHINA_TIME_COLUMN, "entry", "kind", "reason", "amount", "balance"):
        table.add_column(column, justify="right" if column in {"amount", "balance", "entry"} else "left")
    for line in page.lines:
        table.add_row(
            _china(line.created_at),
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
    """Append committed entries to the hash chain (every one, however late it committed)."""
    from ledger.chain import seal_pending

    console.print(f"sealed {run_command(seal_pending(everything=True))} entries")


@ledger_app.command("expire-holds")
def ledger_expire_holds() -> None:
    """Release every active hold past its deadline."""
    from ledger.holds import expire_holds

    console.print(f"expired {run_command(expire_holds())} holds")


@ledger_app.command("expire-adjustments")
def ledger_expire_adjustments() -> None:
    """Void four-eyes adjustment requests past their deadline; their held points return."""
    from community.manual_points import expire_adjustments

    console.print(f"expired {run_command(expire_adjustments())} adjustment requests")


@market_app.command("expire-orders")
def marketplace_expire_orders() -> None:
    """Close orders not picked up in time: points and stock come back."""
    from marketplace.orders import expire_orders

    console.print(f"expired {run_command(expire_orders())} orders")


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
        statement = run_command(build_statement(shop_id, period))
    except MarketplaceError as error:
        console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(1) from error
    table = Table(title=f"{statement.shop_name_zh} {period} 结算单")
    for column in ("order", CHINA_TIME_COLUMN, "type", "item", "qty", "points"):
        table.add_column(column, justify="right" if column in {"order", "qty", "points"} else "left")
    for line in statement.lines:
        table.add_row(
            str(line.order_id),
            _china(line.at),
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
    from activities.deadlines import escalate_overdue

    moment = pretend_now(console, now)
    console.print(f"升级超期事项 escalated {run_command(escalate_overdue(now=moment))} overdue items")


@activities_app.command("remove-unattached-photos")
def activities_remove_unattached_photos() -> None:
    """Delete report photos attached to nothing a day after upload (rows and files)."""
    from activities.photos import remove_unattached_photos

    console.print(f"删除未使用照片 removed {run_command(remove_unattached_photos())} unattached photos")


@activities_app.command("mark-no-shows")
def activities_mark_no_shows() -> None:
    """Close grab-order claims whose task window ended without a check-in (no points move)."""
    from activities.patrol_tasks import mark_no_shows

    console.print(f"未到岗 marked {run_command(mark_no_shows())} claims as no-shows")


@members_app.command("import")
def members_import(
    file: Annotated[Path, typer.Argument(help="CSV from Excel (UTF-8 or GBK): 姓名,手机号[,网格,角色,队伍,语言]")],
    organisation: Annotated[int, typer.Option("--organisation", help="Id of the node to import into.")],
    skip_bad_rows: Annotated[bool, typer.Option("--skip-bad-rows", help="Write the valid rows anyway.")] = False,
    invites_out: Annotated[
        Path | None, typer.Option("--invites-out", help="Write the new members' invitation codes to this CSV.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only check the file; write nothing.")] = False,
) -> None:
    """Register members from a CSV file; each gets a one-time invitation code.

    The whole file is checked first. With bad rows nothing is written (exit
    1) unless --skip-bad-rows is given. Codes are shown once: keep the
    --invites-out file safe and hand each code to its member.
    """
    from community.errors import CommunityError
    from community.member_import import MAX_IMPORT_BYTES, import_members

    if invites_out is not None and invites_out.exists():
        # Checked before anything is written: the codes are shown once, so
        # they must never be lost to a file that cannot be created.
        console.print(f"[red]{escape(str(invites_out))} already exists; name a new file for the codes[/red]")
        raise typer.Exit(1)
    try:
        with file.open("rb") as handle:
            content = handle.read(MAX_IMPORT_BYTES + 1)
    except OSError as error:
        console.print(f"[red]cannot read {escape(str(file))}: {escape(str(error))}[/red]")
        raise typer.Exit(1) from error
    labels = {"validate": "检查 validating", "write": "写入 writing"}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def advance(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(labels.get(phase, phase), total=total)
            progress.update(tasks[phase], completed=done, total=total)

        try:
            result = run_command(
                import_members(
                    content,
                    organisation_id=organisation,
                    actor_ref="cli:members-import",
                    skip_bad_rows=skip_bad_rows,
                    dry_run=dry_run,
                    progress=advance,
                )
            )
        except CommunityError as error:
            progress.stop()
            console.print(f"[red]{escape(error.message)}[/red]")
            raise typer.Exit(1) from error
    if result.errors:
        _print_bad_rows(result)
    console.print(
        f"rows {result.total_rows}, valid {result.valid_rows}, bad {len(result.bad_lines)}, "
        f"created {len(result.created)}{' (dry run)' if dry_run else ''}"
    )
    if result.created:
        _hand_out_codes(result.created, invites_out)
    if result.errors and not (skip_bad_rows and result.valid_rows):
        console.print("[red]nothing was written; fix the rows above or use --skip-bad-rows[/red]")
        raise typer.Exit(1)
    if result.written:
        console.print(f"[green]imported {len(result.created)} members into organisation {organisation}[/green]")


def _print_bad_rows(result: ImportResult) -> None:
    table = Table(title=f"有问题的行 Bad rows ({len(result.bad_lines)})")
    for column in ("line", "field", "问题", "problem"):
        table.add_column(column, justify="right" if column == "line" else "left")
    for problem in result.errors:
        table.add_row(str(problem.line), problem.field, escape(problem.message_zh), escape(problem.message))
    console.print(table)


def _hand_out_codes(created: Sequence[ImportedMember], invites_out: Path | None) -> None:
    """The new members' invitation codes: into ``invites_out`` when given,
    else on screen. Either way they are shown this once."""
    if invites_out is not None:
        _write_invites(invites_out, created)
        console.print(f"邀请码已写入 invitation codes written to {escape(str(invites_out))} (keep it safe)")
        return
    codes = Table(title="邀请码 Invitation codes (shown once)")
    for column in ("line", "id", "name", "phone", "code"):
        codes.add_column(column)
    for member in created:
        codes.add_row(str(member.line), str(member.id), member.name, member.phone, member.invitation_code)
    console.print(codes)


def _real_redis(settings: Settings, what_lives_there: str) -> Redis:
    """The deployment's Redis, for a command that must reach what the API
    processes keep there. The in-process stand-in lives inside each API
    process, out of the command line's reach: say so and stop."""
    if settings.uses_embedded_redis:
        console.print(f"[red]FENGLING_REDIS_URL is the in-process stand-in: {what_lives_there}[/red]")
        raise typer.Exit(2)
    from redis.asyncio import Redis

    return Redis.from_url(settings.redis_url)


def _lockout_redis(settings: Settings) -> Redis:
    """The Redis the API keeps its lockout counters in."""
    return _real_redis(settings, "its counters live in the API process; restarting the API clears them.")


@members_app.command("unlock")
def members_unlock(
    phone: Annotated[str, typer.Argument(help="The member's phone number, written any way (138-0000-0001, +86…).")],
) -> None:
    """Clear the failed-login and failed-invitation counters of a phone number (audited)."""
    from api.community.auth import lockout_clearer
    from community.errors import InvalidMemberData
    from community.lockouts import unlock_phone_at_console
    from community.members import normalise_phone

    settings = get_settings()
    try:
        normalised = normalise_phone(phone)
    except InvalidMemberData as error:
        console.print(f"[red]{escape(error.message)}[/red]")
        raise typer.Exit(2) from error

    async def run() -> int:
        redis = _lockout_redis(settings)
        try:
            return await unlock_phone_at_console(
                normalised, clear=lockout_clearer(redis, settings), actor_ref="cli:members-unlock"
            )
        finally:
            await redis.aclose()

    cleared = run_command(run())
    console.print(f"已解锁 unlocked {normalised} ({cleared} counter(s) cleared)")


def _read_new_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = typer.prompt("新密码 New password", hide_input=True)
    again = typer.prompt("再输一次 Repeat it", hide_input=True)
    if password != again:
        console.print("[red]the two passwords differ; nothing was created[/red]")
        raise typer.Exit(1)
    return str(password)


@members_app.command("create-admin")
def members_create_admin(
    name: Annotated[str, typer.Option("--name", help="The admin's name.")],
    phone: Annotated[str, typer.Option("--phone", help="Mainland mobile number; the login.")],
    organisation: Annotated[int, typer.Option("--organisation", help="Id of the node the admin manages.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input.")
    ] = False,
) -> None:
    """Create an admin with a password (asked twice, not echoed), audited as
    ``cli:create-admin``. For the first admin of an installation, or to
    recover when no admin can log in."""
    from community.errors import CommunityError
    from community.members import create_admin

    password = _read_new_password(password_stdin)
    try:
        member = run_command(
            create_admin(
                name=name, phone=phone, organisation_id=organisation, password=password, actor_ref="cli:create-admin"
            )
        )
    except CommunityError as error:
        console.print(f"[red]{escape(error.message)}[/red]")
        raise typer.Exit(1) from error
    console.print(
        f"[green]admin {member.id} {escape(member.name)} ({member.phone}) "
        f"created over organisation {organisation}[/green]"
    )


def _write_invites(path: Path, created: Sequence[ImportedMember]) -> None:
    """UTF-8 with BOM so Excel opens it in Chinese; readable by the owner only."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "行号 line",
            "编号 id",
            "姓名 name",
            "手机号 phone",
            "邀请码 code",
            "有效期至（北京时间） expires (China time)",
        ]
    )
    for member in created:
        row = [member.line, member.id, member.name, member.phone, member.invitation_code, _china(member.expires_at)]
        writer.writerow([safe_cell(cell) for cell in row])
    # 0600 from the first byte (never readable by others, not even briefly),
    # and never over an existing file.
    if not write_private_file(path, "\ufeff" + buffer.getvalue()):
        raise typer.Exit(1)


@vendor_app.command("refresh")
def vendor_refresh(
    version: Annotated[
        list[str] | None,
        typer.Option("--version", help="PACKAGE=VERSION to move a package to, e.g. htmx.org=2.0.11 (repeatable)."),
    ] = None,
) -> None:
    """Re-download every vendored file from the npm registry, check each
    tarball against the registry's integrity, and rewrite the manifests."""
    from web.vendor import VENDOR_DIRS, VendorError, refresh

    moves = [item.partition("=") for item in version or []]
    if any(not package or not sep or not number for package, sep, number in moves):
        console.print("[red]--version takes PACKAGE=VERSION, e.g. htmx.org=2.0.11[/red]")
        raise typer.Exit(2)
    versions = {package: number for package, _, number in moves}
    try:
        for folder in VENDOR_DIRS:
            for f in refresh(folder, versions):
                console.print(f"{escape(f.package)} {f.version} -> {folder.name}/{f.file} sha256 {f.sha256}")
    except (VendorError, OSError) as error:
        console.print(f"[red]{escape(str(error))}[/red]")
        raise typer.Exit(1) from error


if __name__ == "__main__":
    app()


def _boards_redis(settings: Settings) -> Redis:
    """The Redis the boards live in."""
    return _real_redis(
        settings,
        "the boards live in the API process, which feeds and rebuilds them itself "
        "(restarting it rebuilds them from the ledger).",
    )


@boards_app.command("rebuild")
def leaderboards_rebuild(
    scope: Annotated[
        str | None, typer.Option(help="One scope only: org:<id>, team:<id> or campaign:<id>. Default: every scope.")
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="One period only: all, week:2026-W48, month:2026-11, season:<id>.")
    ] = None,
) -> None:
    """Rebuild boards from the ledger (the source of truth); with no option,
    every board, as after Redis lost its data."""
    from leaderboards.keys import parse_scope
    from leaderboards.rebuild import RebuildBusy, rebuild

    if scope is not None:
        try:
            parse_scope(scope)
        except ValueError as error:
            console.print(f"[red]--scope: {escape(str(error))}[/red]")
            raise typer.Exit(2) from error
    redis = _boards_redis(get_settings())

    async def run() -> tuple[int, int]:
        try:
            with progress_bar(console, "重建排行榜 rebuilding boards") as advance:
                result = await rebuild(redis, scope=scope, period=period, progress=advance)
            return result.boards, result.entries
        finally:
            await redis.aclose()

    try:
        boards, entries = run_command(run())
    except RebuildBusy as error:
        console.print(f"[red]{escape(str(error))}[/red]")
        raise typer.Exit(1) from error
    console.print(f"rebuilt {boards} board(s) from {entries} ledger entries")


@boards_app.command("feed")
def leaderboards_feed() -> None:
    """Bring the boards up to the committed ledger once (the API runs this every 2 s)."""
    from leaderboards.feed import feed_once

    redis = _boards_redis(get_settings())

    async def run() -> int:
        try:
            return await feed_once(redis)
        finally:
            await redis.aclose()

    console.print(f"read {run_command(run())} ledger entries")


@boards_app.command("freeze-seasons")
def leaderboards_freeze_seasons() -> None:
    """Freeze the seasons whose last day has ended (the API does it every minute)."""
    from leaderboards.freezing import freeze_due_seasons

    redis = _boards_redis(get_settings())

    async def run() -> list[int]:
        try:
            return await freeze_due_seasons(redis)
        finally:
            await redis.aclose()

    frozen = run_command(run())
    console.print(f"已冻结赛季 froze {len(frozen)} season(s): {', '.join(map(str, frozen)) or '-'}")


@recognition_app.command("backfill")
def recognition_backfill() -> None:
    """Award the badges members' verified work and frozen seasons already
    earn (idempotent: run it as often as you like)."""
    from recognition.awarding import backfill

    async def run() -> tuple[int, int]:
        with progress_bar(console, "补发徽章 awarding badges") as advance:
            return await backfill(progress=advance)

    members, added = run_command(run())
    console.print(f"checked {members} member(s), awarded {added} badge(s)")


def _china(moment: datetime) -> str:
    from activities.calendar import CHINA_ZONE

    return moment.astimezone(CHINA_ZONE).strftime("%Y-%m-%d %H:%M")


def _print_keys(keys: Sequence[KeyInfo]) -> None:
    """One line per key (a table would wrap the 43-character public key)."""
    console.print("时间为中国时间 Times in China time (UTC+8)")
    for key in keys:
        state = (
            f"停用 retired {_china(key.retired_at)}, 验证至 verifies until {_china(key.verify_until)}"
            if key.retired_at and key.verify_until
            else "签名中 signing"
        )
        console.print(
            f"{key.key_id}  {key.public_key}  创建 created {_china(key.created_at)}  {state}",
            soft_wrap=True,
            highlight=False,
        )


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Retire the signing key and make a new one (audited as ``cli:keys-rotate``).
    Retired keys keep verifying until every token they signed has expired."""
    from marketplace.signing_keys import all_keys, rotate

    _migrate()
    made = run_command(rotate(actor_ref="cli:keys-rotate"))
    console.print(f"[green]新签名密钥 new signing key {made.key_id}[/green]")
    _print_keys(run_command(all_keys()))


@keys_app.command("list")
def keys_list() -> None:
    """Every signing key, with when it stops verifying."""
    from marketplace.signing_keys import all_keys

    _migrate()
    _print_keys(run_command(all_keys()))


@reporting_app.command("rebuild")
def reporting_rebuild() -> None:
    """Empty the dashboard's rollups and replay them from the ledger's chain
    and the activities (the source of truth)."""
    from reporting.rollups import rebuild

    async def run() -> int:
        with progress_bar(console, "重建报表汇总 rebuilding rollups") as advance:
            return await rebuild(progress=advance)

    console.print(f"rebuilt the rollups in {run_command(run())} step(s)")


@reporting_app.command("roll")
def reporting_roll() -> None:
    """Bring the rollups up to the committed ledger and activities once (the API runs this every 10 s)."""
    from reporting.rollups import catch_up

    console.print(f"read {run_command(catch_up())} entries and activities")
