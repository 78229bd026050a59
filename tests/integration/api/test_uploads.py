"""Uploads are decoded and re-encoded; bombs, junk and floods are refused.

Before: only the first bytes were checked (a PNG header followed by
``<script>`` was stored and served as uploaded), a 10 KB PNG declaring
100000×100000 pixels was accepted, EXIF (GPS) was kept, there was no daily
quota and unattached photos stayed forever.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import struct
import time
import zlib
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from PIL import Image
from typer.testing import CliRunner

from activities.photos import remove_unattached_photos
from activities.tables import Photo
from admin.cli import app as cli
from api.activities.uploads import MAX_SIDE_PX, upload_folder
from api.app import create_app
from core.clock import utc_now
from fengling_settings import get_settings
from tests.integration.api.conftest import login_headers
from tests.support.marketplace_helpers import assert_same, snapshot_everything

PHOTOS = "/api/v1/activities/photos"
POSITION = {"latitude": 35.06, "longitude": 118.35}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


def _bomb_png() -> bytes:
    """About 10 KB that declares 100000×100000 RGB pixels (30 GB decoded)."""
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    data = zlib.compress(b"\x00" * 2_000_000, 9)  # the first rows, all black
    png = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")
    return png + b"\x00" * max(0, 10_240 - len(png))


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "FenglingPhone"  # Make
    exif[0x8825] = {1: "N", 2: (35.0, 3.0, 0.0), 3: "E", 4: (118.0, 21.0, 0.0)}  # GPS
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def _files(kind: str = "reports") -> set[str]:
    folder = upload_folder(kind)
    return {path.name for path in folder.iterdir()} if folder.is_dir() else set()


async def _upload(client: AsyncTestClient[Litestar], headers: dict[str, str], content: bytes, name: str = "p.png"):  # type: ignore[no-untyped-def]
    return await client.post(PHOTOS, headers=headers, files={"data": (name, content, "image/png")})


async def test_a_png_with_a_script_appended_is_stored_without_it(client: AsyncTestClient[Litestar], demo: None) -> None:
    """The polyglot is accepted as the image it starts with, but what is
    stored and served is the re-encoded picture: no script, nosniff."""
    volunteer = await login_headers(client, "volunteer")
    polyglot = _png(8, 8) + b"<script>alert(document.cookie)</script>"
    response = await _upload(client, volunteer, polyglot)
    assert response.status_code == 201, response.text
    sha256 = response.json()["sha256"]
    stored = (upload_folder("reports") / sha256).read_bytes()
    assert b"<script" not in stored
    assert Image.open(io.BytesIO(stored)).size == (8, 8)
    served = await client.get(f"{PHOTOS}/{sha256}", headers=volunteer)
    assert served.status_code == 200
    assert b"<script" not in served.content
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"


async def test_a_small_png_declaring_a_huge_canvas_is_refused(client: AsyncTestClient[Litestar], demo: None) -> None:
    """10 KB declaring 100000×100000 px: 413 naming the field, before it is
    decoded; no row, no file."""
    volunteer = await login_headers(client, "volunteer")
    bomb = _bomb_png()
    assert len(bomb) <= 11_000
    before, files = await snapshot_everything(), _files()
    response = await _upload(client, volunteer, bomb)
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "image_too_large" and response.json()["field"] == "data"
    assert_same(before, await snapshot_everything())
    assert _files() == files


async def test_a_file_that_does_not_decode_is_a_422(client: AsyncTestClient[Litestar], demo: None) -> None:
    volunteer = await login_headers(client, "volunteer")
    before, files = await snapshot_everything(), _files()
    response = await _upload(client, volunteer, b"\x89PNG\r\n\x1a\n" + b"garbage" * 100)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "image_invalid" and response.json()["field"] == "data"
    assert_same(before, await snapshot_everything())
    assert _files() == files


async def test_exif_is_stripped_and_big_photos_are_shrunk(client: AsyncTestClient[Litestar], demo: None) -> None:
    """A JPEG's EXIF (camera, GPS position) is gone from what is stored; a
    photo larger than 2048 px on its long side is shrunk, keeping its shape;
    the same upload twice is the same photo."""
    volunteer = await login_headers(client, "volunteer")
    original = _jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif()
    response = await client.post(PHOTOS, headers=volunteer, files={"data": ("p.jpg", original, "image/jpeg")})
    assert response.status_code == 201, response.text
    stored = (upload_folder("reports") / response.json()["sha256"]).read_bytes()
    assert not Image.open(io.BytesIO(stored)).getexif()
    assert b"Exif" not in stored and b"FenglingPhone" not in stored

    wide = await _upload(client, volunteer, _png(3000, 1000))
    assert wide.status_code == 201, wide.text
    shrunk = Image.open(upload_folder("reports") / wide.json()["sha256"])
    assert shrunk.size == (MAX_SIDE_PX, 683)
    again = await _upload(client, volunteer, _png(3000, 1000))
    assert again.json()["sha256"] == wide.json()["sha256"]


async def test_catalog_images_are_re_encoded_too(client: AsyncTestClient[Litestar], demo: None) -> None:
    organizer = await login_headers(client, "organizer")
    items = (await client.get("/api/v1/catalog/items", headers=organizer)).json()["items"]
    path = f"/api/v1/catalog/items/{items[0]['id']}/image"
    response = await client.post(
        path, headers=organizer, files={"data": ("p.png", _png(4, 4) + b"<script>x</script>", "image/png")}
    )
    assert response.status_code in (200, 201), response.text
    stored = [(upload_folder("catalog") / name).read_bytes() for name in _files("catalog")]
    assert stored and all(b"<script" not in content for content in stored)
    bomb = await client.post(path, headers=organizer, files={"data": ("b.png", _bomb_png(), "image/png")})
    assert bomb.status_code == 413 and bomb.json()["field"] == "data"


@pytest.fixture
async def quota_client(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[AsyncTestClient[Litestar]]:
    monkeypatch.setenv("FENGLING_UPLOAD_DAILY_QUOTA", "3")
    get_settings.cache_clear()
    try:
        async with AsyncTestClient(app=create_app(run_background_jobs=False)) as client:
            yield client
    finally:
        get_settings.cache_clear()


async def test_the_daily_upload_quota_is_a_429_until_tomorrow(
    quota_client: AsyncTestClient[Litestar], demo: None
) -> None:
    """With a quota of 3, the fourth new photo of the day is refused with
    Retry-After (seconds to China midnight) and writes nothing; sending one
    of the three again is not a new photo and still works."""
    volunteer = await login_headers(quota_client, "volunteer")
    for shade in range(3):
        response = await _upload(quota_client, volunteer, _png(4, 4, (shade, 0, 0)))
        assert response.status_code == 201, response.text
    before = await snapshot_everything()
    refused = await _upload(quota_client, volunteer, _png(4, 4, (9, 9, 9)))
    assert refused.status_code == 429, refused.text
    assert refused.json()["code"] == "upload_quota_exceeded"
    assert 0 < int(refused.headers["retry-after"]) <= 24 * 3600
    assert_same(before, await snapshot_everything())
    assert (await _upload(quota_client, volunteer, _png(4, 4, (0, 0, 0)))).status_code == 201
    other = await login_headers(quota_client, "grid_worker")
    assert (await _upload(quota_client, other, _png(4, 4, (9, 9, 9)))).status_code == 201


async def test_parallel_uploads_cannot_overrun_the_quota(quota_client: AsyncTestClient[Litestar], demo: None) -> None:
    """Eight different photos sent at once against a quota of 3: exactly 3
    are recorded (the count runs under the member's row lock)."""
    volunteer = await login_headers(quota_client, "volunteer")
    responses = await asyncio.gather(
        *(_upload(quota_client, volunteer, _png(4, 4, (shade, 1, 2))) for shade in range(8))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] * 3 + [429] * 5, [r.text for r in responses]
    assert await Photo.count().run() == 3


async def test_unattached_photos_are_removed_after_a_day(client: AsyncTestClient[Litestar], demo: None) -> None:
    """Of two photos, the one attached to a report stays; the other is
    removed (row and file) once a day has passed, not before; a stray file
    no row names goes too. The CLI command runs the same job."""
    shutil.rmtree(upload_folder("reports"), ignore_errors=True)  # files of earlier tests
    volunteer = await login_headers(client, "volunteer")
    kept = (await _upload(client, volunteer, _png(4, 4, (1, 1, 1)))).json()["sha256"]
    dropped = (await _upload(client, volunteer, _png(4, 4, (2, 2, 2)))).json()["sha256"]
    report = await client.post(
        "/api/v1/activities/reports",
        headers=volunteer,
        json={"report_kind": "hazard", "title": "井盖松动", "position": POSITION, "photos": [kept]},
    )
    assert report.status_code == 201, report.text
    stray = upload_folder("reports") / ("f" * 64)
    stray.write_bytes(b"left over")
    old = time.time() - 2 * 24 * 3600
    os.utime(stray, (old, old))

    assert await remove_unattached_photos() == 1  # only the stray file: the photos are young
    assert not stray.exists()
    assert {row["sha256"] for row in await Photo.select(Photo.sha256).run()} == {kept, dropped}

    later = utc_now() + timedelta(hours=25)
    assert await remove_unattached_photos(now=later) == 1
    assert {row["sha256"] for row in await Photo.select(Photo.sha256).run()} == {kept}
    assert _files() == {kept}
    assert await remove_unattached_photos(now=later) == 0
    served = await client.get(f"{PHOTOS}/{kept}", headers=volunteer)
    assert served.status_code == 200


def test_the_cli_removes_unattached_photos() -> None:
    result = CliRunner().invoke(cli, ["activities", "remove-unattached-photos"])
    assert result.exit_code == 0, result.output
    assert "removed 0 unattached photos" in result.output
