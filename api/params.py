"""Path, query and header parameters shared by routes."""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter, PathParameter

# An id out of its column's range cannot exist and must not reach the driver
# (PostgreSQL raises instead of finding nothing). Community and marketplace
# tables use SERIAL (int4); ledger entries use BIGSERIAL.
MAX_ID = 2**31 - 1
MAX_BIG_ID = 2**63 - 1

Id = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
BigId = Annotated[int, PathParameter(ge=1, le=MAX_BIG_ID)]

IdempotencyKey = Annotated[
    str,
    HeaderParameter(
        name="Idempotency-Key", min_length=8, max_length=100, description="unique per intended operation, e.g. a UUID"
    ),
]
