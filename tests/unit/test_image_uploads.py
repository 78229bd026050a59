"""api/activities/uploads: recognising, re-encoding and storing an image,
without a database, and never on the event loop (the CPU-bound decoding
and the file reads and writes run in worker threads)."""

from __future__ import annotations

import io
import struct
import threading
import zlib
from pathlib import Path

import pytest
from litestar.datastructures import UploadFile
from PIL import Image

from api.activities import uploads
from api.activities.uploads import MAX_SIDE_PX, ImageRefused, PreparedImage, image_type, reencode
from api.errors import ProblemException


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_images_are_recognised_by_their_first_bytes() -> None:
    assert image_type(_png(2, 2)[:16]) == "image/png"
    assert image_type(b"\xff\xd8\xff\xe0" + b"\x00" * 12) == "image/jpeg"
    assert image_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert image_type(b"RIFF\x00\x00\x00\x00WAVEfmt ") is None  # RIFF, but not an image
    assert image_type(b"<svg xmlns=") is None


def test_what_is_appended_after_the_image_is_dropped_and_big_images_shrink() -> None:
    clean = reencode(_png(4096, 1024) + b"<script>alert(1)</script>", "image/png")
    assert b"<script>" not in clean
    with Image.open(io.BytesIO(clean)) as image:
        assert image.size == (MAX_SIDE_PX, MAX_SIDE_PX // 4)


def test_a_huge_canvas_is_refused_before_decoding_and_garbage_is_a_422() -> None:
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IEND", b"")
    with pytest.raises(ImageRefused) as too_big:
        reencode(bomb, "image/png")
    assert too_big.value.status == 413
    with pytest.raises(ImageRefused) as garbage:
        reencode(b"\x89PNG\r\n\x1a\n" + b"not really", "image/png")
    assert garbage.value.status == 422


async def test_decoding_reading_and_writing_run_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Re-encoding (CPU-bound, up to 40 MP) and the 5 MB file I/O run in
    worker threads: the loop's own thread never executes them."""
    loop_thread = threading.get_ident()
    seen: dict[str, int] = {}

    def spy(name: str, work: object) -> object:
        assert callable(work)

        def wrapped(*args: object) -> object:
            seen[name] = threading.get_ident()
            return work(*args)

        return wrapped

    monkeypatch.setattr(uploads, "reencode", spy("reencode", uploads.reencode))
    monkeypatch.setattr(uploads, "_write_atomically", spy("write", uploads._write_atomically))
    monkeypatch.setattr(uploads, "_read_file", spy("read", uploads._read_file))
    monkeypatch.setattr(uploads, "upload_folder", lambda kind: tmp_path / kind)

    upload = UploadFile(content_type="image/png", filename="p.png", file_data=_png(40, 30))
    prepared = await uploads.prepare_image(upload, max_bytes=5 * 1024 * 1024, problem_code="invalid_activity")
    assert isinstance(prepared, PreparedImage) and prepared.content_type == "image/png"
    stored = await uploads.save_image("reports", prepared)
    content, media_type = await uploads.read_image("reports", stored.sha256)
    assert content == prepared.content and media_type == "image/png"
    assert set(seen) == {"reencode", "write", "read"}
    assert loop_thread not in seen.values()
    with pytest.raises(ProblemException):
        await uploads.read_image("reports", "0" * 64)
