"""Settings that guard secrets: the secret key's length and how key files
are created. Pure file-system tests, no database."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from fengling_settings import SECRET_KEY_MIN_BYTES, _secret_key, write_private_file


def test_a_short_secret_key_from_the_environment_stops_the_service(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FENGLING_SECRET_KEY", "x" * (SECRET_KEY_MIN_BYTES - 1))
    with pytest.raises(SystemExit, match="at least 32 bytes"):
        _secret_key(tmp_path)
    monkeypatch.setenv("FENGLING_SECRET_KEY", "x" * SECRET_KEY_MIN_BYTES)
    assert _secret_key(tmp_path) == "x" * SECRET_KEY_MIN_BYTES


def test_a_generated_secret_key_is_long_and_readable_by_its_owner_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("FENGLING_SECRET_KEY", raising=False)
    key = _secret_key(tmp_path)
    assert len(key.encode()) >= SECRET_KEY_MIN_BYTES
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    # A second worker starting later reads the same key, never a new one.
    assert _secret_key(tmp_path) == key


def test_a_truncated_key_file_is_refused_rather_than_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("FENGLING_SECRET_KEY", raising=False)
    (tmp_path / "secret_key").write_text("short")
    with pytest.raises(SystemExit, match="shorter than 32 bytes"):
        _secret_key(tmp_path)


def test_private_files_are_0600_from_creation_and_never_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "codes.csv"
    old_umask = os.umask(0o000)  # even under a permissive umask
    try:
        assert write_private_file(target, "secret") is True
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert write_private_file(target, "other") is False
    assert target.read_text() == "secret"


def test_the_data_dir_and_what_is_created_in_it_are_for_the_service_user_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """umask 077: the SQLite file, uploads and logs created later are not
    world-readable either."""
    from fengling_settings import get_settings

    data_dir = tmp_path / "data"
    monkeypatch.setenv("FENGLING_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    try:
        get_settings()
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
        assert stat.S_IMODE((data_dir / "uploads").stat().st_mode) == 0o700
        (data_dir / "fengling.sqlite3").write_bytes(b"")
        assert stat.S_IMODE((data_dir / "fengling.sqlite3").stat().st_mode) == 0o600
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
