#!/usr/bin/env python
# ruff: noqa: E501  (a measuring script: long format strings read better on one line)
"""The app's own cost per ``GET /api/v1/me/wallet``, with no HTTP server: the
ASGI app called directly, in this process.

``bench/wallet_cpu.py`` measures a served request (the server, its sockets,
the database backends); on this 2-core VM its figures move with the
machine's load and include the HTTP server's per-request cost, which no
change to the app touches. This script isolates the part the app owns: it
builds the app as ``fengling serve`` does (``create_app``, pooled, startup
frozen out of the GC), runs its lifespan, logs the demo volunteer in
through the app, then calls ``await app(scope, receive, send)`` for each
request on one event loop (uvloop, as Granian's default) and reports
``time.process_time`` per request (this process only: PostgreSQL's backend
is not in it).

Under valgrind's callgrind it counts *instructions* per request instead,
which no other load on the machine changes (``--callgrind``: the
instrumentation is switched on, ``callgrind_control -i on``, only around the
measured requests; divide the ``Collected`` total by ``--requests``)::

    createdb -h 127.0.0.1 -U postgres NAME
    .venv/bin/python bench/wallet_inprocess.py --database-url postgres://postgres@127.0.0.1:5432/NAME --seed
    .venv/bin/python bench/wallet_inprocess.py --database-url postgres://postgres@127.0.0.1:5432/NAME --rounds 5
    valgrind --tool=callgrind --instr-atstart=no .venv/bin/python bench/wallet_inprocess.py \\
        --database-url postgres://postgres@127.0.0.1:5432/NAME --callgrind --requests 1000 --warmup 300
    .venv/bin/python bench/wallet_inprocess.py … --profile /tmp/wallet.prof   # cProfile (inflates small calls)
    .venv/bin/python bench/wallet_inprocess.py … --ceiling                    # bench/wallet_ceiling.py's app instead

``--seed`` migrates and fills the database exactly as ``wallet_read.py``
does (the demo, the volunteer's 5 active holds, the rest of the ledger).
To compare checkouts on the same seed, run each checkout's copy of this
script with ``PYTHONPATH`` set to that checkout. Requests run one at a time
unless ``--concurrency`` runs that many at once (``asyncio.gather``), as a
loaded server interleaves them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
VOLUNTEER_PHONE = "13800000001"  # seeds/demo.py DEMO_LOGINS, the volunteer
VOLUNTEER_PASSWORD = "fengling-volunteer"  # noqa: S105 (the published demo login)
WALLET_PATH = "/api/v1/me/wallet"
Headers = list[tuple[bytes, bytes]]


def _environment(args: argparse.Namespace) -> None:
    """What the app reads at import: set before anything imports the project."""
    os.environ["FENGLING_DATABASE_URL"] = args.database_url
    os.environ["FENGLING_REDIS_URL"] = args.redis_url
    os.environ["FENGLING_BACKGROUND_JOBS"] = "0"
    os.environ["FENGLING_ACCESS_LOG"] = "0"
    os.environ.setdefault("FENGLING_SECRET_KEY", "bench-inprocess-" + "0" * 48)
    os.environ.setdefault("FENGLING_DATA_DIR", args.data_dir)


def _scope(method: str, path: str, headers: Headers) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def call(app: Any, method: str, path: str, headers: Headers, body: bytes = b"") -> tuple[int, bytes]:
    """One request through the ASGI app: (status, body)."""
    sent: list[dict[str, Any]] = []
    request = {"type": "http.request", "body": body, "more_body": False}

    async def receive() -> dict[str, Any]:
        return request

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(_scope(method, path, headers), receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


async def login(app: Any) -> str:
    body = json.dumps({"phone": VOLUNTEER_PHONE, "password": VOLUNTEER_PASSWORD}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    status, answer = await call(app, "POST", "/api/v1/auth/login", headers, body)
    if status not in (200, 201):
        raise SystemExit(f"login answered {status}: {answer[:300]!r}")
    return str(json.loads(answer)["access_token"])


def build_app(args: argparse.Namespace) -> Any:
    if args.ceiling:
        sys.path.insert(0, str(BENCH_DIR))
        from wallet_ceiling import create_app as create_ceiling

        return create_ceiling()
    from api.app import create_app

    return create_app(run_background_jobs=False, freeze_after_startup=True)


async def first_request(app: Any, args: argparse.Namespace) -> tuple[str, Headers]:
    """The measured path and headers, after checking one answer."""
    if args.ceiling:
        path, headers = f"/accounts/{args.ceiling_account}", [(b"host", b"127.0.0.1:8000")]
        status, body = await call(app, "GET", path, headers)
        if status != 200 or not json.loads(body).get("balance"):
            raise SystemExit(f"unexpected ceiling answer {status}: {body[:300]!r}")
        return path, headers
    token = await login(app)
    headers = [(b"host", b"127.0.0.1:8000"), (b"authorization", f"Bearer {token}".encode())]
    status, body = await call(app, "GET", WALLET_PATH, headers)
    if status != 200 or not json.loads(body)["has_wallet"]:
        raise SystemExit(f"unexpected wallet answer {status}: {body[:300]!r}")
    return WALLET_PATH, headers


async def callgrind_instrumentation(on: bool) -> None:
    process = await asyncio.create_subprocess_exec(
        "callgrind_control", "-i", "on" if on else "off", str(os.getpid()), stdout=asyncio.subprocess.DEVNULL
    )
    if await process.wait() != 0:
        raise SystemExit("callgrind_control failed: run this script under valgrind --tool=callgrind")


async def measured(args: argparse.Namespace, batch: Callable[[int], Awaitable[None]], count: int) -> None:
    if args.callgrind:
        await callgrind_instrumentation(on=True)
        await batch(count)
        await callgrind_instrumentation(on=False)
        print(f"callgrind: {count} requests measured; Ir per request = Collected / {count}")
        return
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
        await batch(count)
        profiler.disable()
        profiler.dump_stats(args.profile)
        print(f"profile of {count} requests written to {args.profile}")
        return
    rounds = []
    for number in range(args.rounds):
        cpu0 = time.process_time()
        await batch(count)
        rounds.append((time.process_time() - cpu0) / count * 1e6)
        print(f"  round {number + 1}: {rounds[-1]:.1f} µs/req", file=sys.stderr)
    shown = ", ".join(f"{value:.1f}" for value in rounds)
    print(
        f"app CPU in process: median {statistics.median(rounds):.1f} µs/req, min {min(rounds):.1f} (rounds {shown}); {count} requests a round, concurrency {args.concurrency}"
    )


async def measure(args: argparse.Namespace) -> None:
    app = build_app(args)
    async with app.lifespan():
        path, headers = await first_request(app, args)

        async def batch(count: int) -> None:
            async def one_task(requests: int) -> None:
                for _ in range(requests):
                    await call(app, "GET", path, headers)

            await asyncio.gather(*(one_task(count // args.concurrency) for _ in range(args.concurrency)))

        await batch(args.warmup)
        await measured(args, batch, (args.requests // args.concurrency) * args.concurrency)


async def seed(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(BENCH_DIR))
    from wallet_read import seed as seed_wallet

    print(await seed_wallet(args.holds))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database to fill (--seed) and read")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--seed", action="store_true", help="migrate and seed the database, then stop")
    parser.add_argument("--holds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--profile", help="write a cProfile of one round's requests here")
    parser.add_argument("--ceiling", action="store_true", help="measure bench/wallet_ceiling.py's app instead")
    parser.add_argument("--ceiling-account", default="volunteer:1:wallet", help="the account the ceiling reads")
    parser.add_argument("--callgrind", action="store_true", help="instrument one round only (under callgrind)")
    args = parser.parse_args()
    args.data_dir = tempfile.mkdtemp(prefix="fl-wallet-inprocess-")  # the app's data folder, removed at the end
    _environment(args)
    import uvloop

    try:
        uvloop.run(seed(args) if args.seed else measure(args))
    finally:
        shutil.rmtree(args.data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
