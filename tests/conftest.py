"""Test harness shared by every layer.

The engine is chosen *before* anything imports ``piccolo_conf``:
- ``FENGLING_TEST_DATABASE_URL`` (set by ``.ci/run`` to a throwaway
  PostgreSQL database) runs the suite on PostgreSQL;
- otherwise a fresh SQLite file in a temporary folder, in RAM (``/dev/shm``)
  where the machine has one and ``TMPDIR`` names no other place: SQLite
  syncs every commit to disk, which no test needs (the transactions and
  locks are the same on tmpfs); the folder is removed when the run ends.
Tests never read ``FENGLING_DATABASE_URL`` directly, so running the suite
can never wipe a developer's own database. Likewise ``FENGLING_TEST_REDIS_URL``
selects a real Redis (default: the in-process stand-in).

Passwords are hashed with a cheap argon2id for the whole run (see
``tests/support/passwords.py``); production's parameters are proved by
``tests/unit/test_password_parameters.py``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

_RAM_DISK = "/dev/shm"  # noqa: S108 -- mkdtemp below makes a private (0700), unpredictably named folder in it
_in_ram = "TMPDIR" not in os.environ and os.path.isdir(_RAM_DISK) and os.access(_RAM_DISK, os.W_OK)
_tmp = tempfile.mkdtemp(prefix="fengling-test-", dir=_RAM_DISK if _in_ram else None)
atexit.register(shutil.rmtree, _tmp, ignore_errors=True)
os.environ["FENGLING_DATA_DIR"] = _tmp
os.environ["FENGLING_DATABASE_URL"] = os.environ.get("FENGLING_TEST_DATABASE_URL") or f"sqlite:///{_tmp}/test.sqlite3"
os.environ["FENGLING_REDIS_URL"] = os.environ.get("FENGLING_TEST_REDIS_URL") or "memory://"
os.environ["FENGLING_SECRET_KEY"] = "test-secret-key-not-for-production-0123456789abcdef"

import pytest  # noqa: E402

from tests.support.passwords import install_cheap_hasher  # noqa: E402

install_cheap_hasher()


def pytest_report_header() -> list[str]:
    url = os.environ["FENGLING_DATABASE_URL"]
    engine = "postgresql" if url.startswith("postgres") else "sqlite"
    redis = (
        "in-process stand-in" if os.environ["FENGLING_REDIS_URL"] == "memory://" else os.environ["FENGLING_REDIS_URL"]
    )
    return [f"fengling: database={engine} ({url}), redis={redis}"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test by its layer, so ``-m unit`` or ``-m integration``
    picks one; the default run takes both."""
    for item in items:
        parts = item.path.parts
        if "unit" in parts:
            item.add_marker(pytest.mark.unit)
        elif "integration" in parts:
            item.add_marker(pytest.mark.integration)
        elif "browser" in parts:
            item.add_marker(pytest.mark.browser)
