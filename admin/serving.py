"""How ``fengling serve`` runs the API: the HTTP server, its workers, its logs
and which proxies it believes.

Two servers can run it, and ``--server auto`` (the default) picks by the
database, from ``bench/wallet_read.py`` (``bench/RESULTS.md``, the wallet
read, same machine, same runs):

- **PostgreSQL: Granian.** Fengling's wallet read cost 4-10 % less CPU
  per request under Granian in every run (357 against 395 µs in the final
  one) and served more in 3 of 4 runs (2,308 against 1,959 req/s in the
  final one); the one-read ceiling app was faster under Granian in 4 of 5
  runs. Granian's HTTP handling is cheaper per request; our own Python
  dominates the wallet read, so the gain there is smaller.
- **SQLite: uvicorn.** The same read on SQLite served 2,720 req/s under
  uvicorn against 1,629 under Granian (medians, 3 rounds each) at the same
  CPU per request: each SQLite read is a hop to a reader thread and back,
  and those hand-backs were slower under Granian's worker loop (the
  ceiling, which reads on the loop without a thread, was faster under
  Granian).

``--server granian`` or ``--server uvicorn`` forces one.

Both get the same three things from the settings:

- ``X-Forwarded-For`` is believed only from ``FENGLING_TRUSTED_PROXIES``.
  uvicorn's own default believes it from 127.0.0.1 (or
  ``$FORWARDED_ALLOW_IPS``), so anyone reaching the port from loopback could
  choose their address and get fresh per-address tries with every request.
  With no trusted proxies the header is not read at all and the client
  address is the socket peer. (uvicorn: its ``proxy_headers`` options;
  Granian has none, so the app is wrapped in Granian's own proxy-header
  wrapper, which picks the client address the same way: the right-most
  address not itself a trusted proxy.)
- The access log (one line per request) only with ``FENGLING_ACCESS_LOG=1``;
  errors are logged either way (``admin/logging_config.py``).
- The log set-up of ``admin/logging_config.py``: the console and a rotating
  file, phone numbers masked.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from admin.logging_config import log_config
from fengling_settings import Settings, get_settings


class HttpServer(StrEnum):
    AUTO = "auto"
    GRANIAN = "granian"
    UVICORN = "uvicorn"


DEFAULT_SERVER = HttpServer.AUTO


def server_for(requested: HttpServer, settings: Settings) -> HttpServer:
    """The server to run: ``requested``, or for ``auto`` Granian on
    PostgreSQL and uvicorn on SQLite (why: the module's doc)."""
    if requested is not HttpServer.AUTO:
        return requested
    return HttpServer.UVICORN if settings.database_url.startswith("sqlite") else HttpServer.GRANIAN


# What the servers import in each worker: a factory that builds the app.
UVICORN_TARGET = "admin.serving:served_api"
GRANIAN_TARGET = "admin.serving:served_app"


def believing_trusted_proxies(app: Any, settings: Settings) -> Any:
    """``app`` wrapped to take the client address from ``X-Forwarded-For``
    when the peer is a trusted proxy, and not wrapped at all when there are
    none (Granian's wrapper, for Granian, which has no option for it)."""
    if not settings.trusted_proxies:
        return app
    from granian.utils.proxies import wrap_asgi_with_proxy_headers

    return wrap_asgi_with_proxy_headers(app, trusted_hosts=list(settings.trusted_proxies))


def served_api() -> Any:
    """The app as a server serves it (uvicorn's factory, imported in each
    worker): what startup built is frozen out of the garbage collector's
    sight (``api.app.freeze_what_startup_built``)."""
    from api.app import create_app

    return create_app(freeze_after_startup=True)


def served_app() -> Any:
    """The app as Granian serves it (its factory, imported in each worker):
    ``served_api``, behind the trusted proxies' headers."""
    return believing_trusted_proxies(served_api(), get_settings())


def uvicorn_options(settings: Settings, *, host: str, port: int, workers: int) -> dict[str, Any]:
    """What ``serve --server uvicorn`` hands uvicorn besides the app."""
    trusted = list(settings.trusted_proxies)
    return {
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "log_config": log_config(settings.data_dir),
        "access_log": settings.access_log,
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted,
    }


def granian_options(settings: Settings, *, host: str, port: int, workers: int) -> dict[str, Any]:
    """What ``serve`` hands Granian besides the target (``served_app``)."""
    from granian.constants import Interfaces

    return {
        "factory": True,
        "interface": Interfaces.ASGI,
        "address": host,
        "port": port,
        "workers": workers,
        "log_dictconfig": log_config(settings.data_dir),
        "log_access": settings.access_log,
        # The API speaks plain HTTP/1.1 JSON; no websockets to upgrade to.
        "websockets": False,
    }


def run(server: HttpServer, settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Serve the API with ``server`` (resolved by ``server_for``) until interrupted."""
    if server is HttpServer.UVICORN:
        import uvicorn

        uvicorn.run(UVICORN_TARGET, **uvicorn_options(settings, host=host, port=port, workers=workers))
        return
    from granian import Granian

    Granian(GRANIAN_TARGET, **granian_options(settings, host=host, port=port, workers=workers)).serve()
