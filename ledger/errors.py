"""Ledger errors. Each names the rule it protects; the API maps them to
problem+json in one table (``api/errors.py``)."""

from __future__ import annotations

from decimal import Decimal

from core.errors import DatabaseBusy


class LedgerError(Exception):
    """Base class: a request the ledger refused, with nothing written."""

    code = "ledger_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidAmount(LedgerError):
    code = "invalid_amount"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}", field=field)


class UnbalancedEntry(LedgerError):
    code = "unbalanced_entry"


class InvalidEntry(LedgerError):
    code = "invalid_entry"


class AccountNotFound(LedgerError):
    code = "account_not_found"

    def __init__(self, account_code: str) -> None:
        super().__init__(f"account {account_code!r} does not exist", field="account")
        self.account_code = account_code


class AccountConflict(LedgerError):
    """Opening an account that exists with different properties."""

    code = "account_conflict"


class InsufficientFunds(LedgerError):
    """Invariant 2: a no-negative account never goes below zero."""

    code = "insufficient_funds"

    def __init__(self, account_code: str, available: Decimal, requested: Decimal) -> None:
        super().__init__(
            f"account {account_code!r} has {available} points available, {requested} needed",
            field="amount",
        )
        self.account_code = account_code
        self.available = available
        self.requested = requested


class IdempotencyConflict(LedgerError):
    """Invariant 3: one idempotency key, one payload."""

    code = "idempotency_conflict"

    def __init__(self, key: str) -> None:
        super().__init__(
            f"idempotency key {key!r} was already used for a different request",
            field="idempotency_key",
        )
        self.key = key


class EntryNotFound(LedgerError):
    code = "entry_not_found"


class ReversalRefused(LedgerError):
    """An entry is reversed at most once, and a reversal is never reversed."""

    code = "reversal_refused"


class HoldNotFound(LedgerError):
    code = "hold_not_found"


class HoldNotActive(LedgerError):
    code = "hold_not_active"


# The retrying transaction runner lives in ``core.database`` and raises this;
# the old name stays for callers that catch it.
LedgerBusy = DatabaseBusy
