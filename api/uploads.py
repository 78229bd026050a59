"""Photo uploads: checked, then stored on disk under their SHA-256.

Content addressing makes an upload idempotent (the same bytes are one file)
and lets the database keep only the hash. Only PNG, JPEG and WebP are
accepted, recognised by their first bytes rather than the name or the
declared type, and never more than the size limit is read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from litestar.datastructures import UploadFile
from litestar.params import PathParameter

from api.errors import ProblemException
from fengling_settings import get_settings

_IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp"}
Sha256 = Annotated[str, PathParameter(pattern=r"^[0-9a-f]{64}$")]


@dataclass
class ImageUpload:
    """A model rather than a bare ``UploadFile``: Litestar 2 crashes
    (StopIteration) on a multipart body without a file part when the body is
    a bare ``UploadFile``; a model turns that into a validation error."""

    data: UploadFile


@dataclass(frozen=True, slots=True)
class StoredImage:
    sha256: str
    content_type: str
    size_bytes: int


def image_type(head: bytes) -> str | None:
    for magic, media_type in _IMAGE_TYPES.items():
        if head.startswith(magic) and (media_type != "image/webp" or head[8:12] == b"WEBP"):
            return media_type
    return None


def upload_folder(kind: str) -> Path:
    return get_settings().data_dir / "uploads" / kind


async def store_image(upload: UploadFile, *, kind: str, max_bytes: int, problem_code: str) -> StoredImage:
    """Read at most ``max_bytes``, check the type, write ``uploads/<kind>/<sha256>``
    atomically (temporary file, then rename)."""
    content = await upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise ProblemException(
            413, problem_code, f"the image is larger than {max_bytes // (1024 * 1024)} MB", field="data"
        )
    media_type = image_type(content[:16])
    if media_type is None:
        raise ProblemException(415, problem_code, "the image must be PNG, JPEG or WebP", field="data")
    digest = hashlib.sha256(content).hexdigest()
    folder = upload_folder(kind)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / digest
    if not target.exists():
        temporary = target.with_suffix(".part")
        temporary.write_bytes(content)
        temporary.replace(target)
    return StoredImage(sha256=digest, content_type=media_type, size_bytes=len(content))


def read_image(kind: str, sha256: str) -> tuple[bytes, str]:
    target = upload_folder(kind) / sha256
    if not target.is_file():
        raise ProblemException(404, "not_found", "no such image", field="sha256")
    content = target.read_bytes()
    return content, image_type(content[:16]) or "application/octet-stream"
