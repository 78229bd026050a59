"""Perceptual hashes of photos, for the near-duplicate photo rule.

A 64-bit DCT hash (``imagehash.phash``) survives re-encoding, resizing and
small crops or colour changes that change every byte and so the SHA-256;
``fraud.rules.hamming`` compares two of them. CPU-bound: call it in a
worker thread.
"""

from __future__ import annotations

import io

import imagehash
from PIL import Image, UnidentifiedImageError

from fraud.rules import PHASH_HEX_DIGITS


def perceptual_hash(content: bytes) -> str:
    """The photo's perceptual hash as 16 hex digits; "" if it cannot be
    decoded (the rule then has nothing to compare)."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            text = str(imagehash.phash(image))
    except (UnidentifiedImageError, OSError, ValueError):
        return ""
    return text if len(text) == PHASH_HEX_DIGITS else ""
