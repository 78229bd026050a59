"""Password hashing with argon2id (argon2-cffi's defaults, RFC 9106 low-memory).

An argon2 hash or verification takes about 0.1 s of CPU on purpose. The
coroutines here run it in a worker thread (``anyio.to_thread``), so a login
never stalls every other request on the event loop; argon2-cffi releases
the GIL while it works. ``hash_password_blocking`` is for synchronous
callers only (test fixtures that hash once per run, the benchmarks).
"""

from __future__ import annotations

from anyio import to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Verified against when the phone number is unknown, so a login for a
# non-member costs the same time as one for a member (no user enumeration).
_DUMMY_HASH = _hasher.hash("fengling-dummy-password-for-timing")

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 128


def hash_password_blocking(password: str) -> str:
    """The argon2 hash of ``password``, computed on the calling thread."""
    return _hasher.hash(password)


def _verify_blocking(password_hash: str | None, password: str) -> bool:
    try:
        matches = _hasher.verify(password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return matches and bool(password_hash)


async def hash_password(password: str) -> str:
    """The argon2 hash of ``password``, computed off the event loop."""
    return await to_thread.run_sync(hash_password_blocking, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True only for a real stored hash that matches. A member without a
    password yet (``""``, invited but not accepted) or an unknown one costs
    one verify against the dummy hash and is refused, even if someone types
    the dummy password itself. Runs off the event loop."""
    return await to_thread.run_sync(_verify_blocking, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with older parameters (cheap: reads its header)."""
    return _hasher.check_needs_rehash(password_hash)
