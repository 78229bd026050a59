"""Path, query and header parameters shared by routes."""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter, PathParameter, QueryParameter

from core.cursors import MAX_CURSOR_LENGTH
from core.ids import MAX_BIG_ID, MAX_ID

# The same bounds as body ids (core/ids.py): an id out of its column's range
# cannot exist and must not reach the driver. Routes import them from here.
__all__ = ["MAX_BIG_ID", "MAX_ID", "BigId", "Cursor", "Id", "IdempotencyKey"]

Id = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
BigId = Annotated[int, PathParameter(ge=1, le=MAX_BIG_ID)]

IdempotencyKey = Annotated[
    str,
    HeaderParameter(
        name="Idempotency-Key", min_length=8, max_length=100, description="unique per intended operation, e.g. a UUID"
    ),
]

# A list's ``next_cursor``, handed back as it came (``core/cursors.py``):
# opaque to clients, checked by the list that made it.
Cursor = Annotated[
    str | None,
    QueryParameter(min_length=1, max_length=MAX_CURSOR_LENGTH, description="next_cursor of the previous page"),
]
