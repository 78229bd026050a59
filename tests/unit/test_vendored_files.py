"""Every vendored front-end file is exactly the one its manifest records
(``web/vendor.py``): a hand edit or a partial refresh fails here."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from web.vendor import VENDOR_DIRS, VendoredFile, VendorError, check_integrity, extract, read_manifest, sha256_of


def test_every_vendor_folder_has_a_manifest_listing_its_files() -> None:
    for folder in VENDOR_DIRS:
        listed = {f.file for f in read_manifest(folder)}
        present = {p.name for p in folder.iterdir() if p.name != "manifest.json"}
        assert listed, f"{folder} has no manifest entries"
        assert listed == present, f"{folder}: manifest lists {listed}, folder holds {present}"


ENTRIES = [(folder, f) for folder in VENDOR_DIRS for f in read_manifest(folder)]


@pytest.mark.parametrize(("folder", "vendored"), ENTRIES, ids=[f.file for _, f in ENTRIES])
def test_each_vendored_file_matches_its_recorded_sha256(folder: Path, vendored: VendoredFile) -> None:
    assert sha256_of(folder / vendored.file) == vendored.sha256


def test_each_manifest_entry_names_an_npm_tarball_and_its_integrity() -> None:
    for folder in VENDOR_DIRS:
        for f in read_manifest(folder):
            assert f.tarball.startswith(f"https://registry.npmjs.org/{f.package}/-/")
            assert f.tarball.endswith(f"-{f.version}.tgz")
            assert f.integrity.startswith("sha512-")


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def test_a_tarball_matching_its_integrity_is_accepted_and_its_file_extracted() -> None:
    tarball = _tarball({"package/dist/x.js": b"x()"})
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    check_integrity(tarball, integrity)
    assert extract(tarball, "package/dist/x.js") == b"x()"


def test_a_tarball_not_matching_its_integrity_is_refused() -> None:
    tarball = _tarball({"package/dist/x.js": b"x()"})
    other = "sha512-" + base64.b64encode(hashlib.sha512(b"something else").digest()).decode()
    with pytest.raises(VendorError):
        check_integrity(tarball, other)


def test_a_file_missing_from_the_tarball_is_refused() -> None:
    with pytest.raises(VendorError):
        extract(_tarball({"package/a.js": b""}), "package/b.js")


def _fake_registry(monkeypatch: pytest.MonkeyPatch, tarball: bytes, integrity: str) -> None:
    import json

    from web import vendor

    def get(url: str) -> bytes:
        if url == "https://registry.npmjs.org/lib/1.0.0":
            meta = {"version": "1.0.0", "dist": {"tarball": TARBALL_URL, "integrity": integrity}}
            return json.dumps(meta).encode()
        assert url == TARBALL_URL
        return tarball

    monkeypatch.setattr(vendor, "_get", get)


TARBALL_URL = "https://registry.npmjs.org/lib/-/lib-1.0.0.tgz"


def test_a_refresh_rewrites_the_file_and_its_manifest_from_a_verified_tarball(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from web.vendor import Wanted, add, refresh

    tarball = _tarball({"package/lib.js": b"lib()"})
    _fake_registry(monkeypatch, tarball, "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode())
    add(tmp_path, Wanted("lib", "1.0.0", "package/lib.js", "lib.js"))
    (tmp_path / "lib.js").write_bytes(b"edited by hand")
    [refreshed] = refresh(tmp_path)
    assert (tmp_path / "lib.js").read_bytes() == b"lib()"
    assert read_manifest(tmp_path) == [refreshed]
    assert refreshed.sha256 == hashlib.sha256(b"lib()").hexdigest()
    assert refreshed.tarball == TARBALL_URL
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lib.js", "manifest.json"]


def test_a_refresh_whose_tarball_fails_its_integrity_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from web.vendor import Wanted, add, refresh

    good = _tarball({"package/lib.js": b"lib()"})
    _fake_registry(monkeypatch, good, "sha512-" + base64.b64encode(hashlib.sha512(good).digest()).decode())
    add(tmp_path, Wanted("lib", "1.0.0", "package/lib.js", "lib.js"))
    manifest = (tmp_path / "manifest.json").read_text()
    tampered = _tarball({"package/lib.js": b"evil()"})
    _fake_registry(monkeypatch, tampered, "sha512-" + base64.b64encode(hashlib.sha512(good).digest()).decode())
    with pytest.raises(VendorError):
        refresh(tmp_path)
    assert (tmp_path / "lib.js").read_bytes() == b"lib()"
    assert (tmp_path / "manifest.json").read_text() == manifest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lib.js", "manifest.json"]


def test_the_cli_refreshes_every_vendor_folder_and_passes_version_moves(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from admin.cli import app
    from web import vendor

    calls: list[tuple[Path, dict[str, str] | None]] = []

    def fake_refresh(folder: Path, versions: dict[str, str] | None = None) -> list[VendoredFile]:
        calls.append((folder, versions))
        return []

    monkeypatch.setattr(vendor, "refresh", fake_refresh)
    result = CliRunner().invoke(app, ["vendor", "refresh", "--version", "htmx.org=2.0.12"])
    assert result.exit_code == 0, result.output
    assert calls == [(folder, {"htmx.org": "2.0.12"}) for folder in VENDOR_DIRS]


def test_the_cli_exits_non_zero_when_a_download_cannot_be_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from admin.cli import app
    from web import vendor

    def failing(folder: Path, versions: dict[str, str] | None = None) -> list[VendoredFile]:
        raise VendorError("tarball does not match its registry integrity")

    monkeypatch.setattr(vendor, "refresh", failing)
    result = CliRunner().invoke(app, ["vendor", "refresh"])
    assert result.exit_code == 1
    assert "integrity" in result.output


def test_the_cli_refuses_a_version_move_without_a_version() -> None:
    from typer.testing import CliRunner

    from admin.cli import app

    result = CliRunner().invoke(app, ["vendor", "refresh", "--version", "htmx.org"])
    assert result.exit_code == 2
    assert "PACKAGE=VERSION" in result.output
