"""Path, query and header parameters shared by routes."""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter, PathParameter

from core.ids import MAX_BIG_ID, MAX_ID

# The same bounds as body ids (core/ids.py): an id out of its column's range
# cannot exist and must not reach the driver. Routes import them from here.
__all__ = ["MAX_BIG_ID", "MAX_ID", "BigId", "Id", "IdempotencyKey"]

Id = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
BigId = Annotated[int, PathParameter(ge=1, le=MAX_BIG_ID)]

IdempotencyKey = Annotated[
    str,
    HeaderParameter(
        name="Idempotency-Key", min_length=8, max_length=100, description="unique per intended operation, e.g. a UUID"
    ),
]
