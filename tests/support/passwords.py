"""A cheap argon2 hasher for the test run, and the production one it replaces.

Production hashes with argon2id at RFC 9106's low-memory profile (64 MiB,
3 passes, 4 lanes): about 0.1 s of CPU per hash or verification on purpose.
The suite logs in and registers members hundreds of times, and none of those
tests is about the cost of a hash, so ``tests/conftest.py`` swaps in
argon2id with the smallest parameters argon2 allows (8 KiB, 1 pass, 1 lane:
microseconds). Everything else stays real: the same ``community.passwords``
functions, the same argon2id encoding, a real verification (a wrong password
is still refused), and ``needs_rehash`` still compares against the hasher in
use. ``tests/unit/test_password_parameters.py`` proves the production
parameters, on ``PRODUCTION_HASHER``, kept here before the swap.
"""

from __future__ import annotations

from argon2 import PasswordHasher, Type

from community import passwords

# The password behind ``community.passwords._DUMMY_HASH`` (the hash checked
# for an unknown phone, so a miss costs as much as a hit).
DUMMY_PASSWORD = "fengling-dummy-password-for-timing"

CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)

PRODUCTION_HASHER: PasswordHasher = passwords._hasher
_PRODUCTION_DUMMY_HASH: str = passwords._DUMMY_HASH


def install_cheap_hasher() -> None:
    """Make ``community.passwords`` hash and verify with ``CHEAP_HASHER``.

    Fails loudly if the module no longer has the attributes this replaces,
    or if its dummy hash is no longer of ``DUMMY_PASSWORD`` (the swap would
    otherwise quietly leave the suite slow, or change what the dummy
    verification proves)."""
    if not PRODUCTION_HASHER.verify(_PRODUCTION_DUMMY_HASH, DUMMY_PASSWORD):  # raises on a mismatch
        raise AssertionError("community.passwords._DUMMY_HASH is not a hash of DUMMY_PASSWORD")
    passwords._hasher = CHEAP_HASHER
    passwords._DUMMY_HASH = CHEAP_HASHER.hash(DUMMY_PASSWORD)
