"""Marketplace errors; mapped to problem+json in ``api/errors.py``."""

from __future__ import annotations


class MarketplaceError(Exception):
    code = "marketplace_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidCatalogData(MarketplaceError):
    code = "invalid_catalog_data"


class ShopNotFound(MarketplaceError):
    code = "shop_not_found"


class ItemNotFound(MarketplaceError):
    code = "item_not_found"


class ItemUnavailable(MarketplaceError):
    """Inactive, outside its availability window, or not at that shop."""

    code = "item_unavailable"


class OutOfStock(MarketplaceError):
    """Invariant 6: stock never goes below zero."""

    code = "out_of_stock"


class MemberLimitReached(MarketplaceError):
    code = "member_limit_reached"


class OrderNotFound(MarketplaceError):
    code = "order_not_found"


class OrderNotOpen(MarketplaceError):
    """Invariant 6: one pickup code redeems at most once."""

    code = "order_not_open"


class PickupCodeNotFound(MarketplaceError):
    """Deliberately says nothing about other shops' or closed orders. At a
    counter that counts wrong codes, it says how many tries are left and,
    once none are, how long the counter stays slowed down."""

    code = "pickup_code_not_found"

    def __init__(
        self, message: str, *, field: str | None = None, tries_left: int | None = None, locked_for: int = 0
    ) -> None:
        super().__init__(message, field=field)
        self.tries_left = tries_left
        self.locked_for = locked_for

    @property
    def problem_extensions(self) -> dict[str, int]:
        if self.tries_left is None:
            return {}
        return {"tries_left": self.tries_left, "locked_for": self.locked_for}


class OrderKeyConflict(MarketplaceError):
    code = "idempotency_conflict"


class PeriodNotClosed(MarketplaceError):
    code = "period_not_closed"


class PeriodAlreadySettled(MarketplaceError):
    code = "period_already_settled"


class ReturnWindowClosed(MarketplaceError):
    code = "return_window_closed"


class StaffNotFound(MarketplaceError):
    """The member does not work at this shop (or does not exist, or may not
    be seen: one answer for all three)."""

    code = "staff_not_found"


class PickupThrottled(MarketplaceError):
    """Too many wrong pickup codes at this shop (or for this code) lately,
    and another code was looked up moments ago: wait ``retry_after_seconds``
    (a few seconds) and try again; a right code then works."""

    code = "pickup_throttled"

    def __init__(
        self, message: str, *, retry_after_seconds: int, locked_for: int = 0, field: str | None = "code"
    ) -> None:
        super().__init__(message, field=field)
        self.retry_after_seconds = retry_after_seconds
        self.locked_for = locked_for

    @property
    def problem_extensions(self) -> dict[str, int]:
        return {"tries_left": 0, "locked_for": max(self.locked_for, self.retry_after_seconds)}


class PickupTokenRefused(MarketplaceError):
    """A scanned pickup token that proves no order of this shop: unreadable,
    signed by no key of this deployment, altered, expired, or for another
    shop (``reason``)."""

    code = "pickup_token_refused"

    def __init__(self, message: str, *, reason: str, field: str | None = "token") -> None:
        super().__init__(message, field=field)
        self.reason = reason

    @property
    def problem_extensions(self) -> dict[str, str]:
        return {"reason": self.reason}


class PickupConflictRecorded(OrderNotOpen):
    """A counter's queued hand-over for an order that was no longer waiting
    when it synced (picked up on another device, cancelled, expired): the
    conflict is recorded for the organisers and reported to that counter.
    Still ``order_not_open`` to clients that know only that; the problem
    carries the conflict's id and reason besides."""

    def __init__(self, message: str, *, conflict_id: int, reason: str, order_id: int) -> None:
        super().__init__(message, field="token")
        self.conflict_id = conflict_id
        self.reason = reason
        self.order_id = order_id

    @property
    def problem_extensions(self) -> dict[str, int | str]:
        return {"conflict_id": self.conflict_id, "reason": self.reason, "order_id": self.order_id}
