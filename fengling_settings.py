"""Process-wide settings, read once from the environment.

Every knob the service has is an environment variable named ``FENGLING_*``
and documented in the README. Tests set the environment *before* importing
anything that builds an engine (``piccolo_conf``), then call
``get_settings.cache_clear()`` if they change it.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

EMBEDDED_REDIS_URL = "memory://"

# HS256 wants a key at least as long as its hash (RFC 7518 §3.2).
SECRET_KEY_MIN_BYTES = 32


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    """Folder for the SQLite file, uploads, logs and the generated secret key."""

    database_url: str
    """``sqlite:///path`` (embedded default) or ``postgres://user@host:port/db``."""

    redis_url: str
    """``redis://host:port/db``, or ``memory://`` for the in-process stand-in."""

    secret_key: str
    """Signs login tokens. Generated once and kept in the data dir when unset."""

    token_ttl_minutes: int
    """How long a login token stays valid."""

    login_max_failures: int
    """Wrong passwords for one phone number before that login is locked."""

    login_lock_minutes: int
    """How long a login stays locked after too many wrong passwords."""

    order_pickup_days: int
    """Days a member has to pick up a redeemed item before the order expires."""

    pickup_max_failures: int
    """Wrong pickup codes per shop (and per code) before that counter is throttled."""

    pickup_lock_minutes: int
    """Window and lock time of the pickup-code throttle."""

    background_jobs: bool
    """Run the chain sealer and hold expiry inside each API process."""

    accept_working_days: int
    """Working days to accept (verify) a submitted activity or report."""

    finish_working_days: int
    """Working days to finish handling an accepted report."""

    complex_working_days: int
    """Working days to finish handling a report marked complex."""

    holidays: frozenset[date]
    """Public holidays (non-working days) for response deadlines, China time."""

    makeup_workdays: frozenset[date]
    """Make-up working days (调休): weekend days that count as working days."""

    trusted_proxies: tuple[str, ...]
    """Addresses or networks of reverse proxies whose ``X-Forwarded-For`` is
    believed. Empty (the default): the client address is the socket peer."""

    adjustment_approval_above: Decimal
    """Manual adjustments above this many points wait for a second
    organiser or admin (four-eyes) before they post."""

    adjustment_daily_limit: Decimal
    """What one organiser or admin may post by hand on their own word in any
    24 hours, all adjustments together; beyond it, each further adjustment
    waits for a second person however small (so splitting a large move
    into small ones does not get round four-eyes). One account may likewise
    receive at most ``adjustment_approval_above`` in 24 hours this way."""

    adjustment_approval_hours: int
    """How long a pending adjustment waits for its second person before it
    is voided."""

    upload_daily_quota: int
    """Photos one member may upload per China-time day."""

    hsts: bool
    """Send ``Strict-Transport-Security`` (only behind HTTPS)."""

    cookie_secure: bool
    """Mark the pages' session and CSRF cookies ``Secure`` (sent over HTTPS
    only). On in production behind HTTPS; off for a plain-HTTP laptop or LAN
    deployment, where a Secure cookie would never come back."""

    sqlite_synchronous: str
    """SQLite's ``PRAGMA synchronous``: ``FULL`` (every commit survives a
    power cut) or ``NORMAL`` (faster; the last commits before a power cut may
    be lost, never corrupted). See ``core/sqlite_connections.py``."""

    principal_cache_seconds: int
    """How long an API process may keep a member's principal (name, home,
    roles, session version) in memory instead of reading it per request.
    Changes made through the services reach every process at once (after
    commit, over Redis); this bounds anything that bypassed them (a lost
    message, a row edited by hand). 0: read the member on every request."""

    access_log: bool
    """Log one line per request (the server's access log). Off by default:
    it cost up to a quarter of the throughput of a cheap read under load
    (``bench/RESULTS.md``). Errors are logged either way."""

    @property
    def uses_embedded_redis(self) -> bool:
        return self.redis_url == EMBEDDED_REDIS_URL


def _choice_env(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = (os.environ.get(name) or default).strip().upper()
    if raw not in choices:
        raise SystemExit(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from error


def _bounded_int_env(name: str, default: int, lowest: int, highest: int) -> int:
    value = _int_env(name, default)
    if not lowest <= value <= highest:
        raise SystemExit(f"{name} must be {lowest}-{highest}, got {value}")
    return value


def _working_days_env(name: str, default: int) -> int:
    value = _int_env(name, default)
    # At least one day, so a re-set deadline always lies after the moment it
    # was set; at most 60 (activities.calendar.MAX_WORKING_DAYS).
    if not 1 <= value <= 60:
        raise SystemExit(f"{name} must be 1-60 working days, got {value}")
    return value


def _dates_env(name: str) -> frozenset[date]:
    """A comma-separated list of ISO dates, e.g. ``2026-10-01,2026-10-02``."""
    days: set[date] = set()
    for part in (os.environ.get(name) or "").split(","):
        text = part.strip()
        if not text:
            continue
        try:
            if len(text) != 10:
                raise ValueError(text)
            days.add(date.fromisoformat(text))
        except ValueError as error:
            raise SystemExit(f"{name} must list dates like 2026-10-01 separated by commas, got {text!r}") from error
    return frozenset(days)


def _calendar_env() -> tuple[frozenset[date], frozenset[date]]:
    holidays = _dates_env("FENGLING_HOLIDAYS")
    makeup = _dates_env("FENGLING_MAKEUP_WORKDAYS")
    both = sorted(day.isoformat() for day in holidays & makeup)
    if both:
        raise SystemExit(
            f"FENGLING_HOLIDAYS and FENGLING_MAKEUP_WORKDAYS both list {', '.join(both)}; a day is one or the other"
        )
    weekdays = sorted(day.isoformat() for day in makeup if day.weekday() < 5)
    if weekdays:
        # A weekday is a working day anyway: listing one is a typo for another date.
        raise SystemExit(f"FENGLING_MAKEUP_WORKDAYS must be Saturdays or Sundays; {', '.join(weekdays)} is not")
    return holidays, makeup


def _bool_env(name: str, default: bool) -> bool:
    raw = (os.environ.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SystemExit(f"{name} must be 1/0 (or true/false), got {raw!r}")


def _points_env(name: str, default: str) -> Decimal:
    raw = (os.environ.get(name) or "").strip() or default
    try:
        value = Decimal(raw)
    except InvalidOperation as error:
        raise SystemExit(f"{name} must be an amount of points such as 500.00, got {raw!r}") from error
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise SystemExit(f"{name} must be a non-negative amount with at most 2 decimal places, got {raw!r}")
    return value.quantize(Decimal("0.01"))


def _proxies_env(name: str) -> tuple[str, ...]:
    """Comma-separated addresses or networks, e.g. ``10.0.0.0/8,127.0.0.1``."""
    proxies: list[str] = []
    for part in (os.environ.get(name) or "").split(","):
        text = part.strip()
        if not text:
            continue
        try:
            proxies.append(str(ipaddress.ip_network(text, strict=False)))
        except ValueError as error:
            raise SystemExit(f"{name} must list IP addresses or networks, got {text!r}") from error
    return tuple(proxies)


def write_private_file(path: Path, content: str) -> bool:
    """Create ``path`` readable by its owner only (0600 from the first byte,
    ``O_EXCL`` so an existing file is never overwritten). Returns False when
    the file already exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
    return True


def _secret_key(data_dir: Path) -> str:
    from_env = os.environ.get("FENGLING_SECRET_KEY")
    if from_env:
        if len(from_env.encode()) < SECRET_KEY_MIN_BYTES:
            raise SystemExit(
                f"FENGLING_SECRET_KEY must be at least {SECRET_KEY_MIN_BYTES} bytes "
                "(e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return from_env
    key_file = data_dir / "secret_key"
    # O_EXCL: of two workers starting together, one creates the file and the
    # other reads what it wrote; the key is never world-readable, not even
    # for an instant.
    write_private_file(key_file, secrets.token_urlsafe(48))
    key = key_file.read_text().strip()
    if len(key.encode()) < SECRET_KEY_MIN_BYTES:
        raise SystemExit(f"{key_file} holds a key shorter than {SECRET_KEY_MIN_BYTES} bytes; delete it for a new one")
    return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    data_dir = Path(os.environ.get("FENGLING_DATA_DIR") or "var").resolve()
    # Everything the service writes (database, uploads, logs, keys) is for
    # its own user only.
    os.umask(0o077)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    (data_dir / "uploads").mkdir(mode=0o700, exist_ok=True)
    database_url = os.environ.get("FENGLING_DATABASE_URL") or (f"sqlite:///{data_dir / 'fengling.sqlite3'}")
    holidays, makeup_workdays = _calendar_env()
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        redis_url=os.environ.get("FENGLING_REDIS_URL") or EMBEDDED_REDIS_URL,
        secret_key=_secret_key(data_dir),
        token_ttl_minutes=_int_env("FENGLING_TOKEN_TTL_MINUTES", 12 * 60),
        login_max_failures=_int_env("FENGLING_LOGIN_MAX_FAILURES", 5),
        login_lock_minutes=_int_env("FENGLING_LOGIN_LOCK_MINUTES", 15),
        order_pickup_days=_int_env("FENGLING_ORDER_PICKUP_DAYS", 7),
        pickup_max_failures=_int_env("FENGLING_PICKUP_MAX_FAILURES", 10),
        pickup_lock_minutes=_int_env("FENGLING_PICKUP_LOCK_MINUTES", 10),
        background_jobs=os.environ.get("FENGLING_BACKGROUND_JOBS", "1") not in {"0", "false", "no"},
        accept_working_days=_working_days_env("FENGLING_ACCEPT_WORKING_DAYS", 1),
        finish_working_days=_working_days_env("FENGLING_FINISH_WORKING_DAYS", 3),
        complex_working_days=_working_days_env("FENGLING_COMPLEX_WORKING_DAYS", 5),
        holidays=holidays,
        makeup_workdays=makeup_workdays,
        trusted_proxies=_proxies_env("FENGLING_TRUSTED_PROXIES"),
        adjustment_approval_above=_points_env("FENGLING_ADJUSTMENT_APPROVAL_ABOVE", "500.00"),
        adjustment_daily_limit=_points_env("FENGLING_ADJUSTMENT_DAILY_LIMIT", "2000.00"),
        adjustment_approval_hours=_int_env("FENGLING_ADJUSTMENT_APPROVAL_HOURS", 72),
        upload_daily_quota=_int_env("FENGLING_UPLOAD_DAILY_QUOTA", 30),
        hsts=_bool_env("FENGLING_HSTS", False),
        cookie_secure=_bool_env("FENGLING_COOKIE_SECURE", False),
        sqlite_synchronous=_choice_env("FENGLING_SQLITE_SYNCHRONOUS", "FULL", ("FULL", "NORMAL")),
        principal_cache_seconds=_bounded_int_env("FENGLING_PRINCIPAL_CACHE_SECONDS", 10, 0, 300),
        access_log=_bool_env("FENGLING_ACCESS_LOG", False),
    )
