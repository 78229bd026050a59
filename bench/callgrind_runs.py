"""What the in-process SQLite benches share: running themselves again under
valgrind's callgrind, reading the instruction counts back, and pointing
Fengling at a throwaway SQLite file for the length of a run.

Instruction counts do not move with the machine's load, so on a busy or
noisy machine they are the figures to compare checkouts by
(``ledger_floor.py``, ``ledger_posting_parts.py``, ``posting_pieces.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parent.parent

T = TypeVar("T")

_TRIGGER = re.compile(r"^desc: Trigger: Client Request: dump (\S+)|^desc: Trigger: dump (\S+)", re.M)
_TOTAL = re.compile(r"^(?:summary|totals): (\d+)", re.M)


def callgrind(*arguments: str) -> None:
    """Zero (``-z``) or dump (``-d NAME``) this process's callgrind counters;
    nothing happens outside valgrind."""
    subprocess.run(["callgrind_control", *arguments, str(os.getpid())], capture_output=True, check=False)


def need_valgrind(flag: str) -> None:
    if shutil.which("valgrind") is None:
        raise SystemExit(f"{flag} needs valgrind (apt-get install -y valgrind)")


def run_under_callgrind(script: str, arguments: Sequence[str], folder: Path, name: str = "callgrind.out") -> Path:
    """Run ``script`` with ``arguments`` in a new Python under callgrind,
    its dumps written into ``folder``; the path of its final output."""
    out = folder / name
    command = ["valgrind", "--tool=callgrind", "-q", f"--callgrind-out-file={out}", sys.executable]
    command.append(str(Path(script).resolve()))
    subprocess.run([*command, *arguments], check=True, stdout=subprocess.DEVNULL)
    return out


def total_instructions(dump: Path) -> int:
    found = _TOTAL.search(dump.read_text(errors="replace"))
    if found is None:
        raise SystemExit(f"no instruction total in {dump}")
    return int(found.group(1))


def dumped_counts(folder: Path, per: int) -> dict[str, int]:
    """Instructions per item in each dump ``callgrind("-d", NAME)`` wrote,
    keyed by NAME up to its first ``-`` (``ours-0`` → ``ours``)."""
    counts: dict[str, int] = {}
    for dump in sorted(folder.glob("callgrind.out.*")):
        text = dump.read_text(errors="replace")
        trigger, total = _TRIGGER.search(text), _TOTAL.search(text)
        if trigger and total:
            counts[(trigger.group(1) or trigger.group(2)).split("-")[0]] = int(total.group(1)) // per
    return counts


@contextmanager
def scratch_folder(prefix: str) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def throwaway_sqlite(prefix: str, *, under_callgrind: bool) -> Iterator[Path]:
    """Fengling on a new SQLite file (and the in-process Redis stand-in),
    with the repository importable; the file's folder is removed at the
    end. Under callgrind every transaction is slow, so the writer's inline
    budget is lifted there (``core.sqlite_connections``)."""
    with scratch_folder(prefix) as folder:
        os.environ.update(
            FENGLING_DATA_DIR=str(folder),
            FENGLING_DATABASE_URL=f"sqlite:///{folder}/bench.sqlite3",
            FENGLING_REDIS_URL="memory://",
            FL_BENCH_THROWAWAY="1",
        )
        os.environ.setdefault("FENGLING_SECRET_KEY", "bench-only-secret-key-0123456789abcdef0123456789")
        sys.path.insert(0, str(REPO))
        os.chdir(REPO)
        if under_callgrind:
            from core import sqlite_connections

            sqlite_connections.INLINE_BUDGET_SECONDS = float("inf")
        yield folder


def note_uptime() -> None:
    """The machine's load, on stderr, as every bench records it."""
    print(f"  {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}", file=sys.stderr)


def transfer_bench_arguments(description: str, *, transfers: int, seed: int) -> argparse.Namespace:
    """The options every in-process SQLite transfer bench takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--transfers", type=int, default=transfers)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--seed", type=int, default=seed)
    parser.add_argument("--instructions", action="store_true", help="instructions per transfer under callgrind")
    parser.add_argument("--_inside", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def run_transfer_bench(
    script: str,
    args: argparse.Namespace,
    *,
    prefix: str,
    most_under_callgrind: int,
    measure: Callable[[argparse.Namespace], Coroutine[Any, Any, T]],
    time_report: Callable[[T, argparse.Namespace], str],
    instructions_report: Callable[[Path, argparse.Namespace], str],
) -> None:
    """Time ``measure`` on a throwaway SQLite file and print ``time_report``;
    or, with ``--instructions``, run ``script`` again under callgrind (one
    round of at most ``most_under_callgrind`` transfers) and print
    ``instructions_report`` of its dumps."""
    if args.instructions and not args._inside:
        need_valgrind("--instructions")
        args.transfers = min(args.transfers, most_under_callgrind)
        with scratch_folder(f"{prefix}cg-") as folder:
            arguments = ["--_inside", "--rounds", "1", "--transfers", str(args.transfers)]
            run_under_callgrind(script, [*arguments, "--warmup", str(args.warmup), "--seed", str(args.seed)], folder)
            print(instructions_report(folder, args))
        return
    with throwaway_sqlite(prefix, under_callgrind=args._inside):
        note_uptime()
        results = asyncio.run(measure(args))
        note_uptime()
        if not args._inside:
            print(time_report(results, args))
