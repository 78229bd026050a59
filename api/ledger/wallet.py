"""A member's own profile, wallet and statement. Nobody else's: there is no
member id in these paths to tamper with.

Only members who can earn (volunteers and the grid's posts) have a wallet,
opened on first need. Anyone else (organisers, admins, shop staff) gets a
well-formed empty answer and no account is opened: a wallet of their own
would only be a place to credit themselves.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from litestar import Controller, Response
from litestar.params import QueryParameter

from api.caller import caller
from api.dependencies import ActingPrincipal
from api.guards import requires_member
from api.json_answer import JsonAnswer
from api.routing import get
from api.schemas.ledger import MeOut, StatementOut, WalletOut, me_out, wallet_json, wallet_json_from_rows
from community.access import Principal
from community.accounts import wallet_code, wallet_if_earner
from community.members import get_member
from core.cursors import MAX_CURSOR_LENGTH
from fraud.pending import wallet_rows_with_pending_reviews, wallet_with_pending_reviews
from ledger.models import AccountBalance
from ledger.statements import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, statement

ZERO = Decimal("0.00")


async def own_wallet(principal: Principal) -> AccountBalance | None:
    return await wallet_if_earner(
        principal.member_id, principal.home_organisation_id, (role for _, role in principal.grants)
    )


class MeController(Controller):
    path = "/api/v1/me"
    tags = ["me"]
    guards = [requires_member]

    @get("", operation_id="me", summary="Who am I")
    async def me(self, principal: ActingPrincipal) -> MeOut:
        return me_out(await get_member(principal.member_id))

    @get("/wallet", operation_id="myWallet", summary="My points: balance, held, available")
    async def wallet(self) -> Response[WalletOut]:
        # The caller without a parameter: api/caller.py says why (measured); the guard has run.
        principal = caller()
        # One statement (two when the caller has open review cases), on one connection: the
        # balance, the active holds and the open-case flag (fraud/pending.py), sent as WalletOut's
        # JSON straight from its rows (api/schemas/ledger.py wallet_json_from_rows).
        rows, pending = await wallet_rows_with_pending_reviews(principal.member_id)
        if rows:
            return JsonAnswer(wallet_json_from_rows(rows, pending))  # type: ignore[arg-type]
        # No wallet yet: opened now if the caller can earn (once per member).
        view, pending = await wallet_with_pending_reviews(
            principal.member_id, principal.home_organisation_id, (role for _, role in principal.grants)
        )
        if view is None:
            return Response(
                WalletOut(
                    account_code=wallet_code(principal.member_id),
                    name_zh="志愿者积分账户",
                    name_en="Volunteer wallet",
                    account_type="liability",
                    balance=ZERO,
                    held=ZERO,
                    available=ZERO,
                    has_wallet=False,
                    active_holds=[],
                )
            )
        return Response(wallet_json(view, pending))  # type: ignore[arg-type]

    @get("/wallet/statement", operation_id="myStatement", summary="My points history, newest first")
    async def my_statement(
        self,
        principal: ActingPrincipal,
        cursor: Annotated[str | None, QueryParameter(max_length=MAX_CURSOR_LENGTH)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    ) -> StatementOut:
        account = await own_wallet(principal)
        if account is None:
            return StatementOut(account_code=wallet_code(principal.member_id), lines=[], next_cursor=None)
        return StatementOut.model_validate(await statement(account.code, cursor=cursor, limit=limit))
