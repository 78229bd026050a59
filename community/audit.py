"""Append-only audit trail of what organisers and admins did."""

from __future__ import annotations

import json
from typing import Any

from community.tables import AuditEvent


async def record(actor_ref: str, action: str, target_ref: str = "", **detail: Any) -> None:
    await AuditEvent.insert(
        AuditEvent(
            actor_ref=actor_ref,
            action=action,
            target_ref=target_ref,
            detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
        )
    ).run()
