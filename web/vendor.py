"""Front-end libraries vendored from the npm registry, with a manifest.

No build step and no CDN: each library's file is committed under a static
folder, and ``manifest.json`` beside it records, per file, the npm package,
its version, the tarball URL, the tarball's ``dist.integrity`` (checked on
download) and the SHA-256 of the file as committed.
``tests/unit/test_vendored_files.py`` checks every file against its
SHA-256; ``fengling vendor refresh`` re-downloads each package, verifies
the tarball against the registry's integrity and rewrites file and manifest.

Vendored:
- ``htmx.org`` into ``web/static/vendor/`` (the one interactivity library of
  the pages). Pinned to the 2.x line: htmx 4 changed attribute inheritance
  and the request machinery, and the pages are written against 2.x.
- ``jsqr`` into ``web/static/vendor/`` (the counter's QR decoder where the
  browser has no ``BarcodeDetector``; loaded on the counter page only).
- ``echarts`` into ``web/static/vendor/`` (``dist/echarts.simple.min.js``:
  bar, line and pie charts, half the size of the full build; the organiser
  dashboard's charts, ``web/static/dashboard.js``).
- ``axe-core`` into ``tests/browser/vendor/`` (the accessibility checks of the
  browser tests; never served).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
ROOT = Path(__file__).resolve().parent.parent
DOWNLOAD_TIMEOUT_SECONDS = 60
MAX_TARBALL_BYTES = 50 * 1024 * 1024


class VendorError(Exception):
    """A download that cannot be trusted (integrity mismatch, missing file)."""


@dataclass(frozen=True, slots=True)
class VendoredFile:
    """One committed file and where it came from."""

    package: str
    version: str
    source: str  # the path inside the npm tarball, e.g. package/dist/htmx.min.js
    file: str  # the committed file, relative to the manifest's folder
    sha256: str
    tarball: str
    integrity: str


@dataclass(frozen=True, slots=True)
class Wanted:
    """What a vendor folder should hold: a package's file at a version."""

    package: str
    version: str
    source: str
    file: str


# The folders holding vendored files, each with its manifest.json.
VENDOR_DIRS = (ROOT / "web" / "static" / "vendor", ROOT / "tests" / "browser" / "vendor")
MANIFEST = "manifest.json"


def read_manifest(folder: Path) -> list[VendoredFile]:
    path = folder / MANIFEST
    if not path.exists():
        return []
    return [VendoredFile(**row) for row in json.loads(path.read_text(encoding="utf-8"))["files"]]


def write_manifest(folder: Path, files: list[VendoredFile]) -> None:
    body = {
        "about": "Vendored from the npm registry by `fengling vendor refresh` (web/vendor.py). Do not edit by hand.",
        "files": [asdict(f) for f in sorted(files, key=lambda f: f.file)],
    }
    (folder / MANIFEST).write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_integrity(tarball: bytes, integrity: str) -> None:
    """npm's Subresource-Integrity string (``sha512-<base64>``; several may be
    listed, separated by spaces): at least one must match, sha512 or sha256/384."""
    for item in integrity.split():
        algorithm, _, expected = item.partition("-")
        if algorithm not in ("sha512", "sha384", "sha256"):
            continue
        digest = base64.b64encode(hashlib.new(algorithm, tarball).digest()).decode("ascii")
        if digest == expected:
            return
    raise VendorError(f"tarball does not match its registry integrity {integrity!r}")


def _get(url: str) -> bytes:
    if not url.startswith(REGISTRY + "/"):
        raise VendorError(f"refusing to download from outside the npm registry: {url}")
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:  # noqa: S310 (https registry only)
        data: bytes = response.read(MAX_TARBALL_BYTES + 1)
    if len(data) > MAX_TARBALL_BYTES:
        raise VendorError(f"{url} is larger than {MAX_TARBALL_BYTES} bytes")
    return data


def extract(tarball: bytes, source: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        try:
            member = archive.getmember(source)
        except KeyError as error:
            raise VendorError(f"{source} is not in the tarball") from error
        handle = archive.extractfile(member)
        if handle is None:
            raise VendorError(f"{source} is not a file")
        return handle.read()


def fetch(wanted: Wanted, folder: Path) -> VendoredFile:
    """Download the package's tarball, check it against the registry's
    integrity, and write the wanted file into ``folder``."""
    meta = json.loads(_get(f"{REGISTRY}/{wanted.package}/{wanted.version}"))
    tarball_url: str = meta["dist"]["tarball"]
    integrity: str = meta["dist"]["integrity"]
    tarball = _get(tarball_url)
    check_integrity(tarball, integrity)
    content = extract(tarball, wanted.source)
    target = folder / wanted.file
    target.write_bytes(content)
    return VendoredFile(
        package=wanted.package,
        version=meta["version"],
        source=wanted.source,
        file=wanted.file,
        sha256=hashlib.sha256(content).hexdigest(),
        tarball=tarball_url,
        integrity=integrity,
    )


def refresh(folder: Path, versions: dict[str, str] | None = None) -> list[VendoredFile]:
    """Re-download every file of ``folder``'s manifest (at the recorded
    version, or the one ``versions`` names for its package) and rewrite the
    manifest. Nothing is written unless every download verifies."""
    versions = versions or {}
    wanted = [Wanted(f.package, versions.get(f.package, f.version), f.source, f.file) for f in read_manifest(folder)]
    return _fetch_all(folder, wanted)


def add(folder: Path, wanted: Wanted) -> list[VendoredFile]:
    """Vendor one more file into ``folder`` (or replace the same file)."""
    kept = [Wanted(f.package, f.version, f.source, f.file) for f in read_manifest(folder) if f.file != wanted.file]
    return _fetch_all(folder, [*kept, wanted])


def _fetch_all(folder: Path, wanted: list[Wanted]) -> list[VendoredFile]:
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / ".staging"
    staging.mkdir(exist_ok=True)
    try:
        files = [fetch(w, staging) for w in wanted]
        for f in files:
            (staging / f.file).replace(folder / f.file)
    finally:
        for leftover in staging.iterdir():
            leftover.unlink()
        staging.rmdir()
    write_manifest(folder, files)
    return files
