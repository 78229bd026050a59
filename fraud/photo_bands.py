"""Finding near-duplicate photos without comparing against every photo.

Multi-index hashing: a photo's 64-bit perceptual hash is cut into
``BANDS`` bands of 16 bits, and each band's value is stored as a key
(``activities_photo_band``, one row per band). If two hashes differ in at
most ``MAX_FINDABLE_DISTANCE`` bits (7), at least one of the four bands
differs in at most one bit (were every band two bits apart or more, they
would differ in eight). So a new photo is looked up by ``lookup_keys``: each
band's value and its 16 one-bit neighbours, 68 keys. That finds every
stored photo within the distance, plus a few that share a band by chance
(about 68 in 65,536 of the window's photos), which the rule then measures
exactly (``fraud.rules.hamming``). ``fraud.thresholds`` refuses a
``photo_max_distance`` the index cannot find.
"""

from __future__ import annotations

HASH_BITS = 64
BAND_BITS = 16
BANDS = HASH_BITS // BAND_BITS
MAX_FINDABLE_DISTANCE = 2 * BANDS - 1
_MASK = (1 << BAND_BITS) - 1


def _bands(phash: str) -> list[int]:
    value = int(phash, 16)
    return [(value >> (HASH_BITS - BAND_BITS * (band + 1))) & _MASK for band in range(BANDS)]


def band_keys(phash: str) -> list[int]:
    """The keys a photo is stored under, one per band, the band's number
    above its value (pure); none for an empty hash (a photo that could not
    be decoded)."""
    if not phash:
        return []
    return [(band << BAND_BITS) | value for band, value in enumerate(_bands(phash))]


def lookup_keys(phash: str) -> list[int]:
    """The keys to look a new photo up by: each band's value and every value
    one bit from it (pure); none for an empty hash."""
    if not phash:
        return []
    keys: list[int] = []
    for band, value in enumerate(_bands(phash)):
        keys.append((band << BAND_BITS) | value)
        keys.extend((band << BAND_BITS) | (value ^ (1 << bit)) for bit in range(BAND_BITS))
    return keys
