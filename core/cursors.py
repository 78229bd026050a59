"""The one keyset cursor every list hands out.

A cursor is opaque to clients: a tag naming the list and the sort key of the
last row returned, as integers (a time travels as microseconds since the
epoch), base64url-encoded. Decoding checks the tag, the number of keys and
their range, so a cursor from another list, a truncated one or a forged one
is a 4xx naming ``cursor`` and never reaches the driver.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta

from core.errors import InvalidCursor

# Far above any real cursor (a tag and three 20-digit keys), far below what
# would cost anything to decode.
MAX_CURSOR_LENGTH = 200
# Every key fits a BIGINT, the widest id column we have.
_KEY_MIN = -(2**63)
_KEY_MAX = 2**63 - 1

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode_cursor(tag: str, *keys: int) -> str:
    """The cursor for the row whose sort key is ``keys`` in the list ``tag``."""
    text = ":".join([tag, *(str(int(key)) for key in keys)])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(
    tag: str, cursor: str, *, arity: int = 1, key_min: int = _KEY_MIN, key_max: int = _KEY_MAX
) -> tuple[int, ...]:
    """The sort key a cursor of list ``tag`` carries, with ``arity`` keys each
    within ``[key_min, key_max]``; ``InvalidCursor`` for anything else."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor()
    try:
        text = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        found_tag, *parts = text.split(":")
        keys = tuple(int(part) for part in parts)
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidCursor() from error
    if found_tag != tag or len(keys) != arity or any(not key_min <= key <= key_max for key in keys):
        raise InvalidCursor()
    return keys


def time_key(moment: datetime) -> int:
    """A timestamp as a cursor key (whole microseconds since the epoch)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def time_from_key(key: int) -> datetime:
    """The timestamp ``time_key`` encoded (UTC)."""
    return _EPOCH + timedelta(microseconds=key)
