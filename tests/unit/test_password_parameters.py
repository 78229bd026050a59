"""Production hashes passwords with argon2id at RFC 9106's low-memory
profile. The test run swaps in a cheap hasher (tests/support/passwords.py),
so this is the one place that proves what production really uses."""

from __future__ import annotations

from argon2 import Type, extract_parameters
from argon2.profiles import RFC_9106_LOW_MEMORY

from community import passwords
from tests.support.passwords import CHEAP_HASHER, PRODUCTION_HASHER


def test_production_hashes_are_argon2id_with_the_rfc_9106_low_memory_profile() -> None:
    encoded = PRODUCTION_HASHER.hash("correct-horse-1")
    assert encoded.startswith("$argon2id$")
    assert extract_parameters(encoded) == RFC_9106_LOW_MEMORY
    assert RFC_9106_LOW_MEMORY.type is Type.ID
    assert RFC_9106_LOW_MEMORY.memory_cost == 64 * 1024  # KiB: 64 MiB per hash
    assert PRODUCTION_HASHER.verify(encoded, "correct-horse-1")


def test_a_hash_made_with_test_parameters_would_be_rehashed_in_production() -> None:
    cheap = CHEAP_HASHER.hash("correct-horse-1")
    assert PRODUCTION_HASHER.check_needs_rehash(cheap)


def test_the_run_uses_the_cheap_hasher_through_the_real_functions() -> None:
    """What the rest of the suite relies on: the swap is in place, and what
    it hashes is still argon2id, current by the hasher in use."""
    assert passwords._hasher is CHEAP_HASHER
    stored = CHEAP_HASHER.hash("correct-horse-1")
    assert extract_parameters(stored).type is Type.ID
    assert not passwords.needs_rehash(stored)
