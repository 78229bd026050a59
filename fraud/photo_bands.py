"""Finding near-duplicate photos without comparing against every photo.

A photo's 64-bit perceptual hash is cut into ``BANDS`` bands of bits, and
each band's value is stored as a key (``activities_photo_band``, one row per
band). Two hashes that differ in at most ``BANDS - 1`` bits cannot differ in
every band (pigeonhole), so they share at least one key: looking up a new
photo's keys finds every photo within that distance, and only a few others
that happen to share a band, which the rule then measures exactly
(``fraud.rules.hamming``). This is multi-index hashing with exact band
matches; it bounds ``photo_max_distance`` at ``MAX_FINDABLE_DISTANCE``
(``fraud.thresholds`` refuses more).
"""

from __future__ import annotations

HASH_BITS = 64
BANDS = 7
MAX_FINDABLE_DISTANCE = BANDS - 1
# Bits per band, highest bits first: 10 + 6 × 9 = 64.
_WIDTHS = (10, 9, 9, 9, 9, 9, 9)
# A key is the band's number above its value: band values stay below 2^10.
_BAND_SPAN = 1 << max(_WIDTHS)

assert sum(_WIDTHS) == HASH_BITS and len(_WIDTHS) == BANDS


def band_keys(phash: str) -> list[int]:
    """The ``BANDS`` keys of a perceptual hash given as hex text (pure); none
    for an empty hash (a photo that could not be decoded)."""
    if not phash:
        return []
    value = int(phash, 16)
    keys: list[int] = []
    shift = HASH_BITS
    for band, width in enumerate(_WIDTHS):
        shift -= width
        keys.append(band * _BAND_SPAN + ((value >> shift) & ((1 << width) - 1)))
    return keys
