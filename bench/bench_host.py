"""The machine a benchmark runs on: what it is, how loaded it is, whose CPU
a run used, and the throwaway folders and databases a run makes.

Shared by the benchmarks in ``bench/`` (imported as a sibling module: the
scripts run as ``python bench/<name>.py``, so ``bench/`` is on ``sys.path``).

CPU accounting, per measured run:

- **client**: this process, all threads (``time.process_time``; the
  user/system split from ``os.times``). On SQLite this includes SQLite
  itself, which runs in-process.
- **server**: only the PostgreSQL backends that serve the run's own
  connections. Their PIDs come from ``pg_backend_pid()`` on every pooled
  connection, and their CPU from ``/proc/PID/schedstat`` (nanoseconds the
  scheduler ran them; ``/proc/PID/stat`` ticks as a fallback). Other
  databases' backends, autovacuum, the WAL writer and the checkpointer are
  not counted: on a shared machine they belong to someone else, or to no
  transfer in particular.
- **machine**: every CPU's busy time from ``/proc/stat``; ``other`` is the
  machine's busy time minus client and server, i.e. other processes and
  kernel work done for nobody in particular. A large ``other`` means the run
  shared the machine.

Throwaway resources: ``Throwaway`` makes temporary folders and PostgreSQL
databases and removes them when the process exits however it ends: normal
exit, an exception, Ctrl-C, or SIGTERM/SIGHUP (turned into ``SystemExit`` so
``finally`` blocks and ``atexit`` run). A child process it was told about is
terminated first. ``FL_BENCH_KEEP=1`` keeps everything for inspection (the
paths are printed).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlparse, urlunparse

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


###############################################################################
# CPU accounting
###############################################################################


def process_cpu_seconds(pid: int) -> float | None:
    """CPU time the scheduler gave ``pid`` so far (None if it is gone or not
    ours to read). ``schedstat`` is exact (ns); ``stat`` counts ticks."""
    proc = Path("/proc") / str(pid)
    try:
        return int((proc / "schedstat").read_text().split()[0]) / 1e9
    except (OSError, IndexError, ValueError):
        pass
    try:
        fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime
    except (OSError, IndexError, ValueError):
        return None


def is_postgres_process(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "comm").read_text().strip() == "postgres"
    except OSError:
        return False


def backends_cpu_seconds(pids: Iterable[int]) -> float | None:
    """Summed CPU of the given backends, or None if any cannot be read (a
    server on another machine or in a container with its own PIDs)."""
    total = 0.0
    for pid in pids:
        seconds = process_cpu_seconds(pid) if is_postgres_process(pid) else None
        if seconds is None:
            return None
        total += seconds
    return total


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies summed over all CPUs, from /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return float(sum(fields[:8]) - idle), float(sum(fields[:8]))


@dataclass(frozen=True, slots=True)
class CpuSample:
    process: float
    user: float
    system: float
    server: float | None
    busy: float
    total: float

    @classmethod
    def now(cls, backend_pids: Sequence[int]) -> CpuSample:
        times = os.times()
        busy, total = machine_cpu()
        return cls(
            process=time.process_time(),
            user=times.user,
            system=times.system,
            server=backends_cpu_seconds(backend_pids) if backend_pids else None,
            busy=busy,
            total=total,
        )


def cpu_per_operation(before: CpuSample, after: CpuSample, operations: int) -> dict[str, float | None]:
    """µs of CPU per operation between two samples: client (and its
    user/system split), server, other; plus the machine's busy share."""
    client = after.process - before.process
    server = None if before.server is None or after.server is None else after.server - before.server
    busy_seconds = (after.busy - before.busy) / CLK_TCK
    span = after.total - before.total
    per = 1e6 / operations if operations else float("nan")
    return {
        "client_cpu_us": client * per,
        "client_user_us": (after.user - before.user) * per,
        "client_sys_us": (after.system - before.system) * per,
        "server_cpu_us": None if server is None else server * per,
        "other_cpu_us": (busy_seconds - client - (server or 0.0)) * per if span > 0 else float("nan"),
        "machine_busy": (after.busy - before.busy) / span if span > 0 else float("nan"),
    }


###############################################################################
# The machine
###############################################################################


def log(message: str) -> None:
    """A progress line on stderr, stamped with the time (the report goes to stdout)."""
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q`` quantile of ``values`` (NaN when empty)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def machine_line() -> str:
    """The machine in one line, for a report's header."""
    info = machine_info(None)
    return f"{info['nproc']} cores, {info['cpu']}, {info['memory']}, Python {info['python']}, kernel {info['kernel']}"


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def uptime_line() -> str:
    """What ``uptime`` prints (the load the issue asks to record)."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"load average: {load_average()}"


def _cpu_by_process() -> dict[int, tuple[str, int]]:
    """(command name, utime+stime ticks) of every process."""
    out: dict[int, tuple[str, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, tail = (entry / "stat").read_text().rsplit(")", 1)
            fields = tail.split()
            out[int(entry.name)] = (head.split("(", 1)[1], int(fields[11]) + int(fields[12]))
        except (OSError, IndexError, ValueError):
            continue
    return out


def busiest_processes(count: int = 5, seconds: float = 1.0, exclude: Iterable[int] = ()) -> list[str]:
    """The processes that used the most CPU over the next ``seconds``, to
    name what shared the machine (a share of one CPU, like ``top``)."""
    skip = set(exclude)
    before = _cpu_by_process()
    time.sleep(seconds)
    after = _cpu_by_process()
    used = [
        (ticks - before[pid][1], name)
        for pid, (name, ticks) in after.items()
        if pid in before and pid not in skip and ticks > before[pid][1]
    ]
    used.sort(reverse=True)
    return [f"{name} {ticks / CLK_TCK / seconds:.0%}" for ticks, name in used[:count]]


def machine_info(pg_version: str | None) -> dict[str, str]:
    info: dict[str, str] = {}
    info["nproc"] = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip() or str(os.cpu_count())
    try:
        meminfo = Path("/proc/meminfo").read_text()
        kb = int(next(line for line in meminfo.splitlines() if line.startswith("MemTotal")).split()[1])
        info["memory"] = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        info["memory"] = "?"
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(
            line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")
        )
    except (OSError, StopIteration):
        info["cpu"] = platform.processor() or "?"
    info["kernel"] = platform.release()
    info["python"] = platform.python_version()
    import sqlite3

    info["sqlite"] = sqlite3.sqlite_version
    if pg_version is not None:
        info["postgresql"] = pg_version
    return info


###############################################################################
# Throwaway folders and databases
###############################################################################


def with_database(url: str, name: str) -> str:
    parsed = urlparse(url)
    return urlunparse(parsed._replace(path=f"/{name}"))


async def pg_admin(url: str, sql: str) -> Any:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


class Throwaway:
    """Temporary folders and databases of one bench run, removed at exit."""

    def __init__(self) -> None:
        self.keep = bool(os.environ.get("FL_BENCH_KEEP"))
        self._dirs: list[Path] = []
        self._databases: list[tuple[str, str]] = []  # (admin url, name)
        self._children: list[subprocess.Popen[str]] = []
        atexit.register(self.clean)
        for signum in (signal.SIGTERM, signal.SIGHUP):
            with contextlib.suppress(ValueError, OSError):  # not the main thread / not supported
                signal.signal(signum, self._exit_on_signal)

    @staticmethod
    def _exit_on_signal(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    def folder(self, prefix: str) -> Path:
        path = Path(tempfile.mkdtemp(prefix=prefix))
        self._dirs.append(path)
        return path

    def database(self, admin_url: str, prefix: str) -> str:
        """A new empty database on the server of ``admin_url``; its name."""
        name = f"{prefix}{uuid.uuid4().hex[:10]}"
        asyncio.run(pg_admin(admin_url, f'CREATE DATABASE "{name}"'))
        self._databases.append((admin_url, name))
        return name

    def child(self, process: subprocess.Popen[str]) -> subprocess.Popen[str]:
        """A worker to stop before its database is dropped."""
        self._children.append(process)
        return process

    def clean(self) -> None:
        """Stop children, then drop the databases and remove the folders
        (safe to call twice)."""
        for process in self._children:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        self._children.clear()
        if self.keep:
            for path in self._dirs:
                print(f"FL_BENCH_KEEP: kept {path}", file=sys.stderr)
            for _url, name in self._databases:
                print(f"FL_BENCH_KEEP: kept database {name}", file=sys.stderr)
            self._dirs.clear()
            self._databases.clear()
            return
        while self._databases:
            url, name = self._databases.pop()
            try:
                asyncio.run(pg_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            except Exception as error:
                print(f"could not drop database {name}: {error}", file=sys.stderr)
        while self._dirs:
            shutil.rmtree(self._dirs.pop(), ignore_errors=True)


def run_worker(
    script: Path, engine: str, *, name: str, pg_url: str, repo: Path, worker_args: Sequence[str], result_tag: str
) -> dict[str, Any]:
    """Run ``script --_worker *worker_args`` in a child process with the
    project at ``repo`` on a throwaway database of ``engine`` (a SQLite file
    in a throwaway folder, or a new PostgreSQL database on ``pg_url``), and
    return the JSON it printed after ``result_tag``. The folder and the
    database are removed afterwards (``FL_BENCH_KEEP=1`` keeps them)."""
    import json

    throwaway = Throwaway()
    folder = throwaway.folder(f"fl-{name}-bench-")
    env = {**os.environ, "FENGLING_DATA_DIR": str(folder), "PYTHONPATH": str(repo)}
    if engine == "postgres":
        admin_url = f"{pg_url}/postgres"
        env["FENGLING_DATABASE_URL"] = f"{pg_url}/{throwaway.database(admin_url, f'fl_bench_{name}_')}"
    else:
        env["FENGLING_DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    try:
        command = [sys.executable, str(script), "--_worker", *worker_args]
        proc = subprocess.run(command, env=env, cwd=repo, stdout=subprocess.PIPE, text=True, check=False)
        line = next((x for x in proc.stdout.splitlines() if x.startswith(result_tag)), None)
        if proc.returncode != 0 or line is None:
            raise SystemExit(f"{engine} worker failed (exit {proc.returncode})")
        return dict(json.loads(line[len(result_tag) :]))
    finally:
        throwaway.clean()


def checkout_version(repo: Path) -> str:
    """The commit a bench measured (its hash and subject), marked when the
    checkout had uncommitted changes to tracked files."""
    found = subprocess.run(
        ["git", "-C", str(repo), "log", "-1", "--format=%h %s"], capture_output=True, text=True, check=False
    )
    dirty = subprocess.run(
        ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.strip()[:70] + (" (+ uncommitted changes)" if dirty.stdout.strip() else "")
