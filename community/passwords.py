"""Password hashing with argon2id (argon2-cffi's defaults, RFC 9106 low-memory)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Verified against when the phone number is unknown, so a login for a
# non-member costs the same time as one for a member (no user enumeration).
_DUMMY_HASH = _hasher.hash("fengling-dummy-password-for-timing")

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 128


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True only for a real stored hash that matches. A member without a
    password yet (``""``, invited but not accepted) or an unknown one costs
    one verify against the dummy hash and is refused, even if someone types
    the dummy password itself."""
    try:
        matches = _hasher.verify(password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return matches and bool(password_hash)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
