"""Row ids as they may appear in any request: path, query or body.

An id outside its column's range cannot name a row and must not reach the
driver: PostgreSQL raises (a 500) where it would otherwise find nothing.
Community, campaign, activity and marketplace tables use SERIAL (int4);
ledger entries use BIGSERIAL (int8). Every id field of every input model
uses ``RowId`` (or ``BigRowId``), so an out-of-range id is a 422 naming the
field before any query runs.
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le

MAX_ID = 2**31 - 1
MAX_BIG_ID = 2**63 - 1

# annotated_types rather than pydantic's Field: pydantic validates both, and
# Litestar also documents these inside a union or a list (``RowId | None``,
# ``list[RowId]``), where it drops a nested ``Field``.
RowId = Annotated[int, Ge(1), Le(MAX_ID)]
BigRowId = Annotated[int, Ge(1), Le(MAX_BIG_ID)]
