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
    """Deliberately says nothing about other shops' or closed orders."""

    code = "pickup_code_not_found"


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
    """Too many wrong pickup codes at this shop (or for this code) lately."""

    code = "pickup_throttled"

    def __init__(self, message: str, *, retry_after_seconds: int, field: str | None = "code") -> None:
        super().__init__(message, field=field)
        self.retry_after_seconds = retry_after_seconds
