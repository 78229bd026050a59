"""Append-only audit trail of what organisers, admins and counter staff did.

``record`` writes one row through Piccolo, inside the caller's transaction.
Hot paths that write their change as fixed SQL (``core.fixed_sql``; the
redemption path in ``marketplace.orders``) write their audit row in the same
statement or script instead: ``INSERT_AUDIT_ROW`` is that row's statement,
and ``insert_audit_row_sql`` the same INSERT with the caller's parameter
numbers, for a PostgreSQL statement that writes its change and its audit row
in one round trip. Either way the detail is encoded by ``audit_detail``.
"""

from __future__ import annotations

import json
from typing import Any

from community.tables import AuditEvent
from core.fixed_sql import fixed_sql

_AUDIT_INSERT = "INSERT INTO community_audit_event (actor_ref, action, target_ref, detail, at) VALUES ({})"


def audit_detail(**detail: Any) -> str:
    """The detail of an audit row as stored: JSON, keys sorted, text kept readable."""
    return json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)


def insert_audit_row_sql(first_parameter: int) -> str:
    """The INSERT of one audit row, its values (actor_ref, action,
    target_ref, detail, at) bound to ``$first_parameter`` and the four
    after it: for embedding in a caller's statement."""
    numbers = range(first_parameter, first_parameter + 5)
    return _AUDIT_INSERT.format(", ".join(f"${number}" for number in numbers))


INSERT_AUDIT_ROW = fixed_sql(insert_audit_row_sql(1))
"""One audit row: (actor_ref, action, target_ref, ``audit_detail(...)``, at)."""


async def record(actor_ref: str, action: str, target_ref: str = "", **detail: Any) -> None:
    await AuditEvent.insert(
        AuditEvent(actor_ref=actor_ref, action=action, target_ref=target_ref, detail=audit_detail(**detail))
    ).run()
