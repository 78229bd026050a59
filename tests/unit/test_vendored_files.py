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
