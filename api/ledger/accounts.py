"""Reading any account: its owner, or organisers/admins of its organisation.

An account the caller may not read answers 404, exactly like one that does
not exist, so ids cannot be probed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import PathParameter, QueryParameter

from api.guards import principal_of, requires_member
from api.schemas.ledger import BalanceOut, HoldOut, StatementOut, balance_out, hold_out, statement_out
from community import policy
from ledger.accounts import balance_as_of
from ledger.holds import list_holds
from ledger.models import AccountBalance
from ledger.statements import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, statement

CodeParam = Annotated[
    str, PathParameter(min_length=1, max_length=120, description="account code, e.g. volunteer:2:wallet")
]


async def readable_account(request: Request[Any, Any, Any], code: str) -> AccountBalance:
    return await policy.readable_account(principal_of(request), code)


class AccountsController(Controller):
    path = "/api/v1/accounts"
    tags = ["ledger"]
    guards = [requires_member]

    @get("/{code:str}", operation_id="getAccount", summary="Balance now, and optionally as of a moment")
    async def get_account(
        self,
        request: Request[Any, Any, Any],
        code: CodeParam,
        as_of: Annotated[datetime | None, QueryParameter(description="ISO 8601 with time zone")] = None,
    ) -> BalanceOut:
        account = await readable_account(request, code)
        out = balance_out(account)
        if as_of is not None:
            out.as_of = as_of
            out.balance_as_of = await balance_as_of(code, as_of)
        return out

    @get("/{code:str}/statement", operation_id="getAccountStatement", summary="Postings, newest first")
    async def get_statement(
        self,
        request: Request[Any, Any, Any],
        code: CodeParam,
        cursor: Annotated[str | None, QueryParameter(max_length=64)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    ) -> StatementOut:
        await readable_account(request, code)
        return statement_out(await statement(code, cursor=cursor, limit=limit))

    @get("/{code:str}/holds", operation_id="getAccountHolds", summary="Active holds on the account")
    async def get_holds(self, request: Request[Any, Any, Any], code: CodeParam) -> list[HoldOut]:
        await readable_account(request, code)
        return [hold_out(hold) for hold in await list_holds(code)]
