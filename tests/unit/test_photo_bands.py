"""The photo index's promise: a photo within the largest findable distance
of a stored one is always among the lookup's candidates."""

from __future__ import annotations

import importlib

from hypothesis import given
from hypothesis import strategies as st

from activities.screening import within_findable_distance
from fraud.models import PhotoPrint
from fraud.photo_bands import BAND_BITS, BANDS, MAX_FINDABLE_DISTANCE, band_keys, lookup_keys
from fraud.rules import hamming

hashes = st.integers(0, 2**64 - 1)


def _flipped(value: int, bits: set[int]) -> int:
    for bit in bits:
        value ^= 1 << bit
    return value


@given(stored=hashes, flips=st.sets(st.integers(0, 63), max_size=MAX_FINDABLE_DISTANCE))
def test_a_photo_within_the_findable_distance_is_always_looked_up(stored: int, flips: set[int]) -> None:
    new = _flipped(stored, flips)
    a, b = f"{stored:016x}", f"{new:016x}"
    assert hamming(a, b) == len(flips)
    assert set(lookup_keys(b)) & set(band_keys(a))


@given(value=hashes)
def test_a_photo_is_stored_under_one_key_per_band_and_looked_up_by_each_and_its_neighbours(value: int) -> None:
    text = f"{value:016x}"
    stored = band_keys(text)
    assert len(stored) == BANDS == len({key >> BAND_BITS for key in stored})
    looked_up = lookup_keys(text)
    assert len(looked_up) == len(set(looked_up)) == BANDS * (BAND_BITS + 1)
    assert set(stored) <= set(looked_up)


def test_two_bits_in_every_band_escape_the_lookup_which_is_why_the_distance_is_bounded() -> None:
    stored = 0
    new = _flipped(stored, {bit for band in range(BANDS) for bit in (band * BAND_BITS, band * BAND_BITS + 1)})
    assert hamming(f"{stored:016x}", f"{new:016x}") == MAX_FINDABLE_DISTANCE + 1
    assert not set(lookup_keys(f"{new:016x}")) & set(band_keys(f"{stored:016x}"))


def test_an_undecodable_photo_has_no_keys() -> None:
    assert band_keys("") == [] == lookup_keys("")


@given(value=hashes)
def test_the_backfill_migration_stores_the_keys_new_uploads_get(value: int) -> None:
    """The migration that indexed photos uploaded before the band index keeps
    its own frozen copy of the banding: it must agree with the live one."""
    backfill = importlib.import_module("activities.piccolo_migrations.activities_2026_12_01t07_28_25_147930")
    text = f"{value:016x}"
    assert backfill.band_keys(text) == band_keys(text)


def test_chance_matches_of_the_band_lookup_are_dropped_before_their_details_are_read() -> None:
    mine = 0x0123_4567_89AB_CDEF
    own = [PhotoPrint("a" * 64, f"{mine:016x}", 1, 1)]
    near = mine ^ 0b1011  # three bits away
    chance = mine ^ 0xFFFF_FFFF_FFFF_0000  # the same last band, 48 bits away
    edge = mine ^ 0x8080_8080_8080_8080  # eight bits away: beyond the index
    rows: list[dict[str, str | int]] = [
        {"photo": 7, "phash": f"{near:016x}"},
        {"photo": 8, "phash": f"{chance:016x}"},
        {"photo": 9, "phash": f"{edge:016x}"},
        {"photo": 10, "phash": ""},
    ]
    assert within_findable_distance(own, rows) == [7]
