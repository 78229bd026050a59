# ruff: noqa: E501  (a report generator: long format strings read better on one line)
"""The ledger benchmark's report: Markdown, so a run pastes into RESULTS.md as it is.

Posting figures are always ratios to the ceiling measured in the same run:
each round's ours/ceiling, then the median rate of each side and the
median of the per-round ratios, which is what the targets are checked
against (a round's ratio compares two runs a few seconds apart, so a
machine that gets busier or quieter over the run moves both).
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable, Sequence
from typing import Any

ENGINE_NAMES = {"postgres": "PostgreSQL", "sqlite": "SQLite"}
# Issue #10's targets: (engine, tasks) -> (minimum ours/ceiling, minimum ours transfers/s or None)
TARGETS: dict[tuple[str, int], tuple[float, float | None]] = {
    ("postgres", 8): (0.85, None),
    ("postgres", 1): (0.80, None),
    ("sqlite", 1): (0.80, 1500.0),
}
READ_TIME_CAP_S = 10.0

Write = Callable[[str], None]


def report(
    results: list[dict[str, Any]], context: dict[str, Any], args: argparse.Namespace, total_s: float, command: str
) -> str:
    out: list[str] = []
    w = out.append
    w("")
    w(f"# Fengling ledger benchmark, {context['started_utc']}")
    w("")
    _run_section(context, command, total_s, w)
    if any(r["posting"] for r in results):
        _summary_section(results, w)
        _rounds_section(results, args, w)
    _statements_section(results, w)
    if not args.skip_reads and not args.list_statements:
        _reads_section(results, args, w)
    _profile_section(results, w)
    return "\n".join(out)


def _run_section(context: dict[str, Any], command: str, total_s: float, w: Write) -> None:
    m = context["machine"]
    w(f"- **Command:** `{command}`")
    w(f"- **Code:** {context['code']}")
    w(
        f"- **Machine:** {m.get('nproc', '?')} CPUs ({m.get('cpu', '?')}), {m.get('memory', '?')} RAM, kernel {m.get('kernel', '?')}, "
        f"Python {m.get('python', '?')}, SQLite {m.get('sqlite', '?')}"
        + (f", PostgreSQL {m['postgresql']}" if "postgresql" in m else "")
    )
    w(
        f"- **Load at start:** `{context['uptime_start']}`; busiest processes: {', '.join(context['busiest_start']) or '?'}"
    )
    w(f"- **Load at end:** `{context['uptime_end']}`; busiest processes: {', '.join(context['busiest_end']) or '?'}")
    w(f"- **Run time:** {total_s:.0f} s")
    w("")


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _pairs(result: dict[str, Any], tasks: int) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    """(round, ours, ceiling) for every complete round at ``tasks``."""
    rows = [r for r in result["posting"] if r["tasks"] == tasks]
    by_round: dict[int, dict[str, dict[str, Any]]] = {}
    for row in rows:
        by_round.setdefault(row["round"], {})[row["impl"]] = row
    return [
        (n, sides["ours"], sides["raw"]) for n, sides in sorted(by_round.items()) if {"ours", "raw"} <= sides.keys()
    ]


def _summary_section(results: list[dict[str, Any]], w: Write) -> None:
    w("## Posting against the ceiling (issue #10 targets)")
    w("")
    w("Medians over the interleaved rounds. The ratio is the median of the per-round ratios.")
    w("")
    w("| engine | tasks | rounds | ours transfers/s | ceiling transfers/s | ours/ceiling | target | met |")
    w("|---|---:|---:|---:|---:|---:|---|---|")
    for result in results:
        for tasks in sorted({r["tasks"] for r in result["posting"]}):
            pairs = _pairs(result, tasks)
            if not pairs:
                continue
            ours = _median([o["transfers_per_s"] for _, o, _ in pairs])
            raw = _median([r["transfers_per_s"] for _, _, r in pairs])
            ratio = _median([o["transfers_per_s"] / r["transfers_per_s"] for _, o, r in pairs])
            target = TARGETS.get((result["engine"], tasks))
            if target is None:
                goal, met = "—", "—"
            else:
                minimum, absolute = target
                goal = f"≥ {minimum:.2f}×" + (f" and ≥ {absolute:,.0f}/s" if absolute else "")
                ok = ratio >= minimum and (absolute is None or ours >= absolute)
                met = "**yes**" if ok else "no"
                if len(pairs) < 3:
                    met += " (fewer than 3 rounds: not a figure)"
            w(
                f"| {ENGINE_NAMES[result['engine']]} | {tasks} | {len(pairs)} | {ours:,.0f} | {raw:,.0f} | **{ratio:.2f}** | {goal} | {met} |"
            )
    w("")


def _fmt_us(value: float | None) -> str:
    return "–" if value is None or value != value else f"{value:,.0f}"  # None or NaN: not measured


def _rounds_section(results: list[dict[str, Any]], args: argparse.Namespace, w: Write) -> None:
    w("## Posting, round by round")
    w("")
    w(
        "Each run: the transfers of one side after its warm-up, all timed together. CPU is µs per transfer: "
        "client = this process (on SQLite, SQLite itself included); server = the PostgreSQL backends of the run's own "
        "pooled connections (`pg_backend_pid()`, `/proc/PID/schedstat`); other = the rest of the machine's busy time "
        "(other processes, kernel); busy = share of all CPUs in use. A large `other` means the run shared the machine."
    )
    for result in results:
        engine = result["engine"]
        for tasks in sorted({r["tasks"] for r in result["posting"]}):
            pairs = _pairs(result, tasks)
            if not pairs:
                continue
            w("")
            if engine == "postgres":
                how = f"ours on Piccolo's pool of {tasks} (no reset); the ceiling on an asyncpg pool of {tasks}, `reset` a no-op"
            else:
                how = (
                    "ours through the service's one writer per process; the ceiling on one `sqlite3` connection in the "
                    "loop's thread, whose synchronous calls run its tasks one after another"
                )
            w(f"### {ENGINE_NAMES[engine]}, {tasks} task{'s' if tasks > 1 else ''} ({how})")
            w("")
            w(
                "| round | first | ours/s | ceiling/s | ours/ceiling | ours p50 / p95 ms | ceiling p50 / p95 ms | ours client / server µs | ceiling client / server µs | other µs ours / ceiling | busy ours / ceiling | load (1 min) |"
            )
            w("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            for n, o, r in pairs:
                first = "ours" if n % 2 else "ceiling"
                w(
                    f"| {n} | {first} | {o['transfers_per_s']:,.0f} | {r['transfers_per_s']:,.0f} | {o['transfers_per_s'] / r['transfers_per_s']:.2f} "
                    f"| {o['p50_ms']:.2f} / {o['p95_ms']:.2f} | {r['p50_ms']:.2f} / {r['p95_ms']:.2f} "
                    f"| {o['client_cpu_us']:,.0f} / {_fmt_us(o['server_cpu_us'])} | {r['client_cpu_us']:,.0f} / {_fmt_us(r['server_cpu_us'])} "
                    f"| {o['other_cpu_us']:,.0f} / {r['other_cpu_us']:,.0f} | {o['machine_busy']:.0%} / {r['machine_busy']:.0%} | {o['load'].split()[0]} / {r['load'].split()[0]} |"
                )
            med = {
                side: {
                    key: _median([row[key] for row in rows if row[key] is not None])
                    for key in (
                        "transfers_per_s",
                        "p50_ms",
                        "p95_ms",
                        "client_cpu_us",
                        "server_cpu_us",
                        "other_cpu_us",
                        "machine_busy",
                    )
                }
                for side, rows in (("ours", [o for _, o, _ in pairs]), ("raw", [r for _, _, r in pairs]))
            }
            ratio = _median([o["transfers_per_s"] / r["transfers_per_s"] for _, o, r in pairs])
            o, r = med["ours"], med["raw"]
            w(
                f"| **median** | | **{o['transfers_per_s']:,.0f}** | **{r['transfers_per_s']:,.0f}** | **{ratio:.2f}** "
                f"| {o['p50_ms']:.2f} / {o['p95_ms']:.2f} | {r['p50_ms']:.2f} / {r['p95_ms']:.2f} "
                f"| {o['client_cpu_us']:,.0f} / {_fmt_us(o['server_cpu_us'])} | {r['client_cpu_us']:,.0f} / {_fmt_us(r['server_cpu_us'])} "
                f"| {o['other_cpu_us']:,.0f} / {r['other_cpu_us']:,.0f} | {o['machine_busy']:.0%} / {r['machine_busy']:.0%} | |"
            )
        transfers = args.transfers if engine == "postgres" else args.sqlite_transfers
        w("")
        w(
            f"{ENGINE_NAMES[engine]}: {transfers:,} transfers per run after {args.warmup} untimed; odd rounds ours first, even rounds the ceiling first."
        )
        c = result.get("posting_consistency")
        if c:
            w(
                f"Ledger after the posting runs: {c['entries']:,} entries, {c['postings']:,} postings, sum of balances {c['total']}, "
                f"balances ≠ sum of postings: {c['mismatched']}, balances ≠ last balance_after: {c['last_balance_after_mismatched']}, "
                f"negative wallets: {c['negative']} → **{'consistent' if c['ok'] else 'INCONSISTENT'}**."
            )
        if result.get("pragmas"):
            p = result["pragmas"]
            w(f"SQLite PRAGMAs, ours (the writer): `{p['ours']}`; the ceiling's connection: `{p['raw']}`.")
    w("")


def _statements_section(results: list[dict[str, Any]], w: Write) -> None:
    if not any(result.get("statements") for result in results):
        return
    w("## What one transfer sends")
    w("")
    w(
        "Recorded at the driver for one transfer on a warm connection (PostgreSQL: each line is one round trip, "
        "BEGIN and COMMIT included; a statement's first use on a connection adds a prepare, not counted. SQLite: "
        "each line is one statement as executed, parameters inline; a hop is one trip to the writer's or a reader's "
        "thread). `[module.NAME]` is the `FixedSql` constant the statement was sent from."
    )
    for result in results:
        s = result.get("statements")
        if not s:
            continue
        ours, raw = s["ours"], s["raw"]
        w("")
        if result["engine"] == "postgres":
            w(f"### PostgreSQL: ours {len(ours['sent'])} round trips, the ceiling {len(raw['sent'])}")
        else:
            w(
                f"### SQLite: ours {len(ours['sent'])} statements in {ours['hops']} thread hop{'s' if ours['hops'] != 1 else ''}, "
                f"the ceiling {len(raw['sent'])} statements in no hop"
            )
        w("")
        w("| # | ours | the ceiling |")
        w("|---:|---|---|")
        for i in range(max(len(ours["sent"]), len(raw["sent"]))):
            cells = []
            for side in (ours, raw):
                if i < len(side["sent"]):
                    text, label, arity = side["sent"][i]
                    shown = text if len(text) <= 140 else text[:136] + " ..."
                    args = f" ({arity} args)" if arity else ""
                    cells.append((f"`[{label}]` " if label else "") + f"`{shown}`{args}".replace("|", "\\|"))
                else:
                    cells.append("")
            w(f"| {i + 1} | {cells[0]} | {cells[1]} |")
        w("")
        if s["problems"]:
            w("**The ceiling does NOT send what ours sends; fix `bench/ledger_ceiling.py` before trusting the ratio:**")
            for problem in s["problems"]:
                w(f"- {problem}")
        else:
            w("The ceiling sends the same statements in the same order.")
    w("")


def _reads_section(results: list[dict[str, Any]], args: argparse.Namespace, w: Write) -> None:
    w("## Reads at scale")
    w("")
    w(
        f"History bulk-loaded (not posted through the service), checked for consistency, then each call timed "
        f"{args.read_calls} times (stopped after {READ_TIME_CAP_S:.0f} s) after up to 100 warm-up calls. wallet = a random one "
        "of 1,000 per call; issuer = a hot account (every 10th entry); campaign = hot until entry 500,000, dormant since. "
        "as-of reads ask for a random moment of the history. 'SQL only' = the call's last statement alone on the driver, "
        "one connection, repeated."
    )
    for result in results:
        reads = result["reads"]
        if not reads:
            continue
        engine = ENGINE_NAMES[result["engine"]]
        w("")
        w(f"### {engine}")
        w("")
        sizes = [r["entries"] for r in reads]
        head = " | ".join(f"{n:,} entries: median (p95) ms" for n in sizes)
        growth = f" | {sizes[-1]:,} / {sizes[0]:,}" if len(sizes) > 1 else ""
        w(f"| call | {head}{growth} | SQL only ms, {' → '.join(f'{n:,}' for n in sizes)} |")
        w("|---|" + "---:|" * len(sizes) + ("---:|" if len(sizes) > 1 else "") + "---|")
        for label in reads[-1]["calls"]:
            cells = []
            for r in reads:
                row = r["calls"].get(label)
                cells.append(
                    f"{row['median_ms']:.2f} ({row['p95_ms']:.2f})"
                    + ("" if row["calls"] >= args.read_calls else f" [{row['calls']} calls]")
                    if row
                    else "–"
                )
            ratio = ""
            if len(reads) > 1 and label in reads[0]["calls"]:
                ratio = f" | ×{reads[-1]['calls'][label]['median_ms'] / reads[0]['calls'][label]['median_ms']:.2f}"
            sql_only = " → ".join(
                f"{r['calls'][label]['sql_only']['median_ms']:.3f}"
                for r in reads
                if "sql_only" in r["calls"].get(label, {})
            )
            w(f"| `{label}` | {' | '.join(cells)}{ratio} | {sql_only} |")
        w("")
        for r in reads:
            phases = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in r["phases"].items())
            w(
                f"- {r['entries']:,} entries ({r['avg_wallet_postings']:,.0f} postings per wallet, issuer {r['issuer_postings']:,}, "
                f"campaign {r['campaign_postings']:,}): loaded in {r['load_s']:.0f} s ({phases}); database {r['database_bytes'] / 2**30:.2f} GiB; consistency check {r['check_s']:.0f} s: "
                f"{'consistent' if r['consistent'] else 'INCONSISTENT'}."
            )
        for note in result.get("notes", []):
            w(f"- NOTE: {note}")
        _plans(result, w)
    w("")


def _plans(result: dict[str, Any], w: Write) -> None:
    w("")
    kind = "EXPLAIN ANALYZE" if result["engine"] == "postgres" else "EXPLAIN QUERY PLAN"
    w(f"Plans ({kind}; 'generic' = the plan a prepared statement switches to after 5 runs):")
    w("")
    for r in result["reads"]:
        for label, row in r["calls"].items():
            if "plan" in row:
                w(f"- {r['entries']:,} `{label}`: {plan_summary(row['plan'])}")
            if "generic_plan" in row:
                w(f"- {r['entries']:,} `{label}` generic: {plan_summary(row['generic_plan'])}")


def plan_summary(plan: str) -> str:
    """One line: the scan/sort nodes, rows filtered away, execution time."""
    keep = []
    for line in plan.splitlines():
        text = line.strip().lstrip("->").strip()
        if any(
            word in text
            for word in (
                "Scan",
                "Sort ",
                "Sort Key",
                "Rows Removed",
                "Execution Time",
                "SEARCH",
                "SCAN",
                "TEMP B-TREE",
                "Limit",
            )
        ):
            if "ledger_entry_pkey" in text or "INTEGER PRIMARY KEY" in text:
                continue  # the per-row join to ledger_entry is the same in every plan
            keep.append(text.split(" (actual")[0])
    return " | ".join(keep)


def _profile_section(results: list[dict[str, Any]], w: Write) -> None:
    """cProfile summaries of single-task posting runs, when profiled."""
    for result in results:
        for impl, prof in (result.get("profile") or {}).items():
            w("")
            w(
                f"### cProfile, {ENGINE_NAMES[result['engine']]} {'ours' if impl == 'ours' else 'the ceiling'}: {prof['transfers']} single-task transfers, "
                f"{prof['wall_s'] / prof['transfers'] * 1e6:.0f} µs/transfer with the profiler on"
            )
            w("")
            w("```")
            for group, seconds in prof["groups_s"].items():
                if seconds / prof["profiled_s"] >= 0.005:
                    w(
                        f"{group:<40}{seconds:>7.2f}s {seconds / prof['profiled_s']:>5.0%}  {seconds / prof['transfers'] * 1e6:>6.0f} us/transfer"
                    )
            w("")
            w("top functions by own time (ncalls count coroutine resumes, not calls):")
            for line in prof["top_tottime"].splitlines()[:22]:
                w(line)
            if impl == "ours":
                w("")
                w("ledger/, core/, piccolo and pydantic functions by cumulative time:")
                for line in prof["top_cumulative"].splitlines()[:32]:
                    w(line)
            w("```")
