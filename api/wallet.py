"""A member's own profile, wallet and statement. Nobody else's: there is no
member id in these paths to tamper with."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import QueryParameter

from api.guards import principal_of, requires_member
from api.schemas import MeOut, StatementOut, WalletOut, balance_out, hold_out, me_out, statement_out
from community.accounts import open_wallet, wallet_code
from community.members import get_member
from ledger.accounts import find_balance
from ledger.holds import list_holds
from ledger.statements import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, statement


class MeController(Controller):
    path = "/api/v1/me"
    tags = ["me"]
    guards = [requires_member]

    @get("", operation_id="me", summary="Who am I")
    async def me(self, request: Request[Any, Any, Any]) -> MeOut:
        return me_out(await get_member(principal_of(request).member_id))

    @get("/wallet", operation_id="myWallet", summary="My points: balance, held, available")
    async def wallet(self, request: Request[Any, Any, Any]) -> WalletOut:
        principal = principal_of(request)
        code = wallet_code(principal.member_id)
        # A member gets a wallet on first need (organisers, shop staff).
        account = await find_balance(code) or await open_wallet(principal.member_id, principal.home_organisation_id)
        holds = await list_holds(code)
        return WalletOut(**balance_out(account).model_dump(), active_holds=[hold_out(h) for h in holds])

    @get("/wallet/statement", operation_id="myStatement", summary="My points history, newest first")
    async def my_statement(
        self,
        request: Request[Any, Any, Any],
        cursor: Annotated[str | None, QueryParameter(max_length=64)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    ) -> StatementOut:
        principal = principal_of(request)
        code = wallet_code(principal.member_id)
        if await find_balance(code) is None:
            await open_wallet(principal.member_id, principal.home_organisation_id)
        return statement_out(await statement(code, cursor=cursor, limit=limit))
