"""The photo index's promise: any two hashes within the largest findable
distance share a band key, so the lookup misses no near duplicate."""

from __future__ import annotations

import importlib

from hypothesis import given
from hypothesis import strategies as st

from fraud.photo_bands import BANDS, MAX_FINDABLE_DISTANCE, band_keys
from fraud.rules import hamming

hashes = st.integers(0, 2**64 - 1)


@given(original=hashes, flips=st.sets(st.integers(0, 63), max_size=MAX_FINDABLE_DISTANCE))
def test_hashes_within_the_findable_distance_always_share_a_band(original: int, flips: set[int]) -> None:
    changed = original
    for bit in flips:
        changed ^= 1 << bit
    a, b = f"{original:016x}", f"{changed:016x}"
    assert hamming(a, b) == len(flips)
    assert set(band_keys(a)) & set(band_keys(b))


@given(value=hashes)
def test_every_hash_has_one_key_per_band_and_bands_never_collide(value: int) -> None:
    keys = band_keys(f"{value:016x}")
    assert len(keys) == BANDS == len({key >> 10 for key in keys})


def test_one_more_differing_bit_per_band_can_escape_the_lookup() -> None:
    """Why the distance is bounded: a bit flipped in every band leaves no key in common."""
    original = 0
    changed = 0
    start = 64
    for width in (10, 9, 9, 9, 9, 9, 9):
        start -= width
        changed |= 1 << start
    assert hamming(f"{original:016x}", f"{changed:016x}") == BANDS
    assert not set(band_keys(f"{original:016x}")) & set(band_keys(f"{changed:016x}"))


def test_an_undecodable_photo_has_no_keys() -> None:
    assert band_keys("") == []


@given(value=hashes)
def test_the_backfill_migration_computes_the_keys_new_uploads_get(value: int) -> None:
    """The migration that indexed photos uploaded before the band index keeps
    its own frozen copy of the banding: it must agree with the live one."""
    backfill = importlib.import_module("activities.piccolo_migrations.activities_2026_12_01t06_40_51_597081")
    text = f"{value:016x}"
    assert backfill.band_keys(text) == band_keys(text)
