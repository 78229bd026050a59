"""Path, query and header parameters shared by routes."""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter, PathParameter

# Ids are at most BIGINT: anything larger cannot exist and must not reach the driver.
MAX_ID = 2**63 - 1

Id = Annotated[int, PathParameter(ge=1, le=MAX_ID)]

IdempotencyKey = Annotated[
    str,
    HeaderParameter(
        name="Idempotency-Key", min_length=8, max_length=100, description="unique per intended operation, e.g. a UUID"
    ),
]
