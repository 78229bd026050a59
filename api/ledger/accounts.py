"""Reading any account: its owner, or organisers/admins of its organisation.

An account the caller may not read answers 404, exactly like one that does
not exist, so ids cannot be probed. The account is resolved once, through
``community.policy``, by the controller's ``account`` dependency: a handler
never holds an account its caller may not read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller
from litestar.di import NamedDependency, Provide
from litestar.params import PathParameter, QueryParameter

from api.dependencies import ActingPrincipal
from api.guards import requires_member
from api.routing import get
from api.schemas.ledger import BalanceOut, HoldOut, StatementOut
from community import policy
from core.cursors import MAX_CURSOR_LENGTH
from ledger.accounts import balance_as_of
from ledger.holds import list_holds
from ledger.models import AccountBalance
from ledger.statements import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, statement

CodeParam = Annotated[
    str, PathParameter(min_length=1, max_length=120, description="account code, e.g. volunteer:2:wallet")
]


async def readable_account(principal: ActingPrincipal, code: CodeParam) -> AccountBalance:
    """The account ``code`` if the caller may read it; 404 otherwise."""
    return await policy.readable_account(principal, code)


class AccountsController(Controller):
    path = "/api/v1/accounts"
    tags = ["ledger"]
    guards = [requires_member]
    dependencies = {"account": Provide(readable_account)}

    @get("/{code:str}", operation_id="getAccount", summary="Balance now, and optionally as of a moment")
    async def get_account(
        self,
        account: NamedDependency[AccountBalance],
        as_of: Annotated[datetime | None, QueryParameter(description="ISO 8601 with time zone")] = None,
    ) -> BalanceOut:
        out = BalanceOut.model_validate(account)
        if as_of is None:
            return out
        return out.model_copy(update={"as_of": as_of, "balance_as_of": await balance_as_of(account.code, as_of)})

    @get("/{code:str}/statement", operation_id="getAccountStatement", summary="Postings, newest first")
    async def get_statement(
        self,
        account: NamedDependency[AccountBalance],
        cursor: Annotated[str | None, QueryParameter(max_length=MAX_CURSOR_LENGTH)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    ) -> StatementOut:
        return StatementOut.model_validate(await statement(account.code, cursor=cursor, limit=limit))

    @get("/{code:str}/holds", operation_id="getAccountHolds", summary="Active holds on the account")
    async def get_holds(self, account: NamedDependency[AccountBalance]) -> list[HoldOut]:
        return [HoldOut.model_validate(hold) for hold in await list_holds(account.code)]
