"""Photo uploads: decoded, re-encoded, then stored on disk under their SHA-256.

What reaches the disk is never the uploaded bytes. Each upload is
- read up to the route's byte limit (413 beyond it);
- recognised as PNG, JPEG or WebP by its first bytes, not its name or
  declared type (415 otherwise);
- decoded with Pillow, but only after its header shows at most
  ``MAX_PIXELS`` pixels, so a small file declaring a huge canvas (a
  decompression bomb) is refused (413) before any memory is spent on it; a
  file that does not decode is refused (422);
- turned upright (EXIF orientation), shrunk to at most ``MAX_SIDE_PX`` on
  its long side, and re-encoded in its own format without metadata: EXIF
  (GPS position, camera serial), text chunks and anything appended after
  the image (a ``<script>`` behind a PNG header) are gone.

The re-encoded bytes are stored under their SHA-256: the same photo
uploaded twice is one file, and the database keeps only the hash.

Nothing here blocks the event loop: decoding, re-encoding and hashing
(CPU-bound) and every read and write of a file (up to 5 MB) run in a worker
thread (``anyio.to_thread.run_sync``).
"""

from __future__ import annotations

import hashlib
import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from anyio import to_thread
from litestar.datastructures import UploadFile
from litestar.params import KwargDefinition, PathParameter
from PIL import Image, ImageOps, UnidentifiedImageError

from api.errors import ProblemException
from fengling_settings import get_settings

# 40 megapixels: more than any phone camera takes; decoded as RGBA it is
# 160 MB, the most one upload may cost in memory.
MAX_PIXELS = 40_000_000
# Enough for a phone screen and for zooming into a hazard photo.
MAX_SIDE_PX = 2048
JPEG_QUALITY = 85
WEBP_QUALITY = 85

_IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp"}
_PILLOW_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
Sha256 = Annotated[str, PathParameter(pattern=r"^[0-9a-f]{64}$")]


@dataclass
class ImageUpload:
    """A ``multipart/form-data`` body whose one file part is named ``data``.

    A model rather than a bare ``UploadFile``: Litestar 2 crashes
    (StopIteration) on a multipart body without a file part when the body is
    a bare ``UploadFile``; a model turns that into a validation error."""

    data: Annotated[
        UploadFile,
        KwargDefinition(
            description=(
                "The image file: PNG, JPEG or WebP (recognised by its content, not its name), within the "
                f"operation's size limit (413 beyond it) and {MAX_PIXELS // 1_000_000} megapixels. It is stored "
                f"re-encoded, at most {MAX_SIDE_PX} px on its long side, without metadata (EXIF, GPS)."
            ),
            schema_extra={"contentMediaType": "image/*"},
        ),
    ]


@dataclass(frozen=True, slots=True)
class StoredImage:
    sha256: str
    content_type: str
    size_bytes: int


class ImageRefused(Exception):
    """Why an upload is not an image we keep: (status, message)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def image_type(head: bytes) -> str | None:
    for magic, media_type in _IMAGE_TYPES.items():
        if head.startswith(magic) and (media_type != "image/webp" or head[8:12] == b"WEBP"):
            return media_type
    return None


def reencode(content: bytes, media_type: str) -> bytes:
    """Decode ``content`` (already recognised as ``media_type``) and return
    it re-encoded: upright, at most ``MAX_SIDE_PX`` on the long side, no
    metadata, nothing but the first frame. Raises ``ImageRefused``."""
    expected = _PILLOW_FORMATS[media_type]
    with warnings.catch_warnings():
        # Pillow warns (and past twice its own limit, raises) about big
        # canvases; the explicit check below decides instead.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(content), formats=[expected]) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise ImageRefused(
                        413, f"the image is {width}×{height} pixels; at most {MAX_PIXELS // 1_000_000} megapixels"
                    )
                image.load()
                upright = ImageOps.exif_transpose(image)
        except ImageRefused:
            raise
        except Image.DecompressionBombError as error:
            raise ImageRefused(413, f"the image has too many pixels; at most {MAX_PIXELS // 1_000_000} MP") from error
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
            raise ImageRefused(422, "the image cannot be decoded; upload a PNG, JPEG or WebP photo") from error
    upright.thumbnail((MAX_SIDE_PX, MAX_SIDE_PX), Image.Resampling.LANCZOS)
    output = io.BytesIO()
    if expected == "JPEG":
        upright.convert("RGB").save(output, "JPEG", quality=JPEG_QUALITY, optimize=True)
    elif expected == "WEBP":
        mode = "RGBA" if upright.mode in ("RGBA", "LA", "P", "PA") else "RGB"
        upright.convert(mode).save(output, "WEBP", quality=WEBP_QUALITY)
    else:
        if upright.mode not in ("1", "L", "LA", "RGB", "RGBA", "I;16"):
            upright = upright.convert("RGBA")
        upright.save(output, "PNG", optimize=True)
    return output.getvalue()


def _clean(content: bytes, media_type: str) -> tuple[bytes, str]:
    """``reencode`` and the SHA-256 of its result: the CPU-bound part of an
    upload, run in a worker thread."""
    clean = reencode(content, media_type)
    return clean, hashlib.sha256(clean).hexdigest()


def upload_folder(kind: str) -> Path:
    return get_settings().data_dir / "uploads" / kind


@dataclass(frozen=True, slots=True)
class PreparedImage:
    """An upload decoded and re-encoded, not yet on disk."""

    sha256: str
    content_type: str
    content: bytes

    @property
    def size_bytes(self) -> int:
        return len(self.content)


async def prepare_image(upload: UploadFile, *, max_bytes: int, problem_code: str) -> PreparedImage:
    """Read at most ``max_bytes``, check the type, decode and re-encode (see
    the module docstring). Nothing is written."""
    content = await upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise ProblemException(
            413, problem_code, f"the image is larger than {max_bytes // (1024 * 1024)} MB", field="data"
        )
    media_type = image_type(content[:16])
    if media_type is None:
        raise ProblemException(415, problem_code, "the image must be PNG, JPEG or WebP", field="data")
    try:
        clean, sha256 = await to_thread.run_sync(_clean, content, media_type)
    except ImageRefused as refused:
        code = "image_too_large" if refused.status == 413 else "image_invalid"
        raise ProblemException(refused.status, code, refused.message, field="data") from refused
    return PreparedImage(sha256=sha256, content_type=media_type, content=clean)


def _write_atomically(folder: Path, image: PreparedImage) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / image.sha256
    if not target.exists():
        temporary = folder / f".{image.sha256}.{secrets.token_hex(4)}.part"
        temporary.write_bytes(image.content)
        temporary.replace(target)


async def save_image(kind: str, image: PreparedImage) -> StoredImage:
    """Write ``uploads/<kind>/<sha256>`` atomically (temporary file, then
    rename); writing the same photo again changes nothing."""
    await to_thread.run_sync(_write_atomically, upload_folder(kind), image)
    return StoredImage(sha256=image.sha256, content_type=image.content_type, size_bytes=image.size_bytes)


async def store_image(upload: UploadFile, *, kind: str, max_bytes: int, problem_code: str) -> StoredImage:
    """``prepare_image`` then ``save_image``: for uploads with no record of
    their own to check first (catalog images)."""
    return await save_image(kind, await prepare_image(upload, max_bytes=max_bytes, problem_code=problem_code))


def _read_file(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None


async def read_image(kind: str, sha256: str) -> tuple[bytes, str]:
    """The stored image ``uploads/<kind>/<sha256>`` and its media type (read
    in a worker thread); 404 if there is none."""
    content = await to_thread.run_sync(_read_file, upload_folder(kind) / sha256)
    if content is None:
        raise ProblemException(404, "not_found", "no such image", field="sha256")
    return content, image_type(content[:16]) or "application/octet-stream"
