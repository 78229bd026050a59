"""The shop counter on a phone or tablet (``/counter``): for the staff who
work at a shop, as ``marketplace.policy`` decides; everyone else gets the
403 page.

- **Typing a code**: looked up first (``counter.preview_pickup``: counted
  like a guess, tries left shown), then "确认交付" confirms it
  (``counter.confirm_looked_up``: that order only, anything else counted as
  a wrong guess). Lower case, spaces and
  dashes are fine; letters no code holds are refused with a hint before
  any lookup (``pickup_codes.typed_code_problem``), and do not count.
- **Scanning** (``static/counter.js``): the QR's signed token is checked on
  the device against the public keys this page carries, so it works
  offline; "确认交付" queues the hand-over in the phone's outbox
  (``static/outbox.js``), which posts it to ``/counter/{id}/sync`` when
  online (``counter.sync_confirmation``: once, or a recorded conflict that
  the outbox shows under "needs attention").
- **Today** (China time): the pickups, each with a return form (the
  existing return rules: ``orders.return_order``), and the returns.
- **Statement**: the month's statement, and its CSV.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response
from litestar.di import NamedDependency, Provide
from litestar.exceptions import PermissionDeniedException
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from api.dependencies import ActingPrincipal
from api.guards import requires_member
from api.marketplace.pickup_throttle import PickupThrottle
from api.marketplace.shops import pickup_guesses
from api.params import Id
from api.rate_limits import PICKUP_LIMIT
from api.routing import get, post
from community.errors import AccessRefused
from community.members import get_member
from core.clock import utc_now
from marketplace import policy
from marketplace.counter import (
    confirm_looked_up,
    counter_day,
    counter_items,
    counter_shops,
    preview_pickup,
    sync_confirmation,
)
from marketplace.errors import (
    InvalidCatalogData,
    OrderNotFound,
    OrderNotOpen,
    PickupCodeNotFound,
    PickupConflictRecorded,
    PickupThrottled,
    PickupTokenRefused,
    ReturnWindowClosed,
    ShopNotFound,
)
from marketplace.models import ShopRecord
from marketplace.orders import return_order
from marketplace.periods import LOCAL_ZONE
from marketplace.pickup_codes import normalise_pickup_code, typed_code_problem
from marketplace.policy import ShopAction
from marketplace.settlement import statement_csv, statement_of
from marketplace.signing_keys import signing_key, verification_keys
from web.form_body import FormBody
from web.i18n import month_words, translate
from web.page_errors import PAGE_EXCEPTION_HANDLERS
from web.rendering import language_of, render

PERIOD = re.compile(r"\d{4}-\d{2}")
MAX_REASON = 300
PROBLEM_JSON = "application/problem+json"
COUNTER_NOTICES = frozenset({"counter_returned"})


@dataclass
class CodeForm:
    code: str = ""


@dataclass
class ConfirmForm:
    code: str = ""
    order_id: str = ""


@dataclass
class SyncForm:
    token: str = ""
    client_ref: str = ""
    device: str = ""
    client_recorded_at: str = ""


@dataclass
class ReturnForm:
    reason_zh: str = ""
    restock: str = ""


async def _counter_shop(
    principal: ActingPrincipal, shop_id: int, action: ShopAction = ShopAction.COUNTER
) -> ShopRecord:
    """The shop, for whoever may do ``action`` there; to anyone else the
    counter is a 403 page (a clerk of another shop learns nothing more)."""
    try:
        return await policy.shop_for(principal, shop_id, action)
    except (ShopNotFound, AccessRefused):
        raise PermissionDeniedException() from None


def this_month() -> str:
    return utc_now().astimezone(LOCAL_ZONE).strftime("%Y-%m")


def neighbour_months(month: str, current: str) -> tuple[str, str | None]:
    """The months before and after a statement's ``YYYY-MM``; no month after
    the current one (a statement of the future has nothing in it)."""
    year, number = (int(part) for part in month.split("-"))
    before = f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"
    after = f"{year + 1}-01" if number == 12 else f"{year}-{number + 1:02d}"
    return before, (after if after <= current else None)


def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


class CounterPages(Controller):
    path = "/counter"
    include_in_schema = False
    guards = [requires_member]
    exception_handlers = PAGE_EXCEPTION_HANDLERS
    dependencies = {"guesses": Provide(pickup_guesses, sync_to_thread=False)}

    @get("", name="counter")
    async def choose(self, request: Request[Any, Any, Any], principal: ActingPrincipal) -> Response[Any]:
        """One shop: straight to its counter; several: pick one; none: 403."""
        shops = await counter_shops(principal)
        if not shops:
            raise PermissionDeniedException()
        if len(shops) == 1:
            return Redirect(f"/counter/{shops[0].id}", status_code=303)
        member = await get_member(principal.member_id)
        return render(request, "counter_choose.html", member=member, shops=shops)

    async def _page(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        shop: ShopRecord,
        *,
        lookup: dict[str, Any] | None = None,
        error: str | None = None,
        status_code: int = 200,
    ) -> Template:
        member = await get_member(principal.member_id)
        # The signing key is made on first use: make sure the page carries it.
        await signing_key()
        keys = [{"key_id": key.key_id, "public_key": key.public_key} for key in await verification_keys()]
        notice = request.query_params.get("n")
        return render(
            request,
            "counter.html",
            member=member,
            shop=shop,
            keys=keys,
            items={str(item_id): names for item_id, names in (await counter_items(shop.id)).items()},
            day=await counter_day(principal, shop.id),
            period=this_month(),
            lookup=lookup or {},
            notice=notice if notice in COUNTER_NOTICES else None,
            error=error,
            status_code=status_code,
        )

    @get("/{shop_id:int}", name="counter_shop")
    async def counter(self, request: Request[Any, Any, Any], principal: ActingPrincipal, shop_id: Id) -> Template:
        shop = await _counter_shop(principal, shop_id)
        return await self._page(request, principal, shop)

    @post("/{shop_id:int}/look-up", name="counter_look_up", status_code=200, middleware=[PICKUP_LIMIT.middleware])
    async def look_up(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        guesses: NamedDependency[PickupThrottle],
        shop_id: Id,
        data: FormBody[CodeForm],
    ) -> Template:
        shop = await _counter_shop(principal, shop_id)
        problem = typed_code_problem(data.code)
        lookup: dict[str, Any] = {"typed": data.code[:40]}
        status = 200
        if problem is not None:
            lookup["error"], status = f"counter_code_{problem}", 422
        else:
            try:
                found = await preview_pickup(principal, shop_id=shop.id, code=data.code, guesses=guesses)
                lookup.update(found=found, code=normalise_pickup_code(data.code))
            except PickupCodeNotFound as wrong:
                lookup.update(error="counter_code_not_found", tries_left=wrong.tries_left, locked_for=wrong.locked_for)
                status = 404
            except PickupThrottled as slowed:
                lookup.update(error="counter_slowed", wait=slowed.retry_after_seconds)
                status = 429
        if _is_htmx(request):
            # htmx swaps 2xx answers only: a refusal is shown all the same.
            return render(request, "_counter_lookup.html", shop=shop, lookup=lookup)
        return await self._page(request, principal, shop, lookup=lookup, status_code=status)

    @post("/{shop_id:int}/confirm", name="counter_confirm", status_code=200, middleware=[PICKUP_LIMIT.middleware])
    async def confirm(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        guesses: NamedDependency[PickupThrottle],
        shop_id: Id,
        data: FormBody[ConfirmForm],
    ) -> Template:
        """Hand over the looked-up order; then today's list shows it."""
        shop = await _counter_shop(principal, shop_id)
        lookup: dict[str, Any] = {"typed": data.code[:40]}
        status = 200
        order_id = int(data.order_id) if data.order_id.isdigit() and len(data.order_id) < 12 else None
        if order_id is None or typed_code_problem(data.code) is not None:
            lookup["error"], status = "counter_code_invalid", 422
        else:
            try:
                done = await confirm_looked_up(
                    principal, shop_id=shop.id, code=data.code, order_id=order_id, guesses=guesses
                )
                lookup["done"] = done
            except PickupCodeNotFound as wrong:
                lookup.update(error="counter_code_not_found", tries_left=wrong.tries_left, locked_for=wrong.locked_for)
                status = 404
            except OrderNotOpen:
                lookup["error"], status = "counter_not_open", 409
            except PickupThrottled as slowed:
                lookup.update(error="counter_slowed", wait=slowed.retry_after_seconds)
                status = 429
        if _is_htmx(request):
            day = await counter_day(principal, shop.id)
            return render(request, "_counter_lookup.html", shop=shop, lookup=lookup, day=day, refresh_day=True)
        return await self._page(request, principal, shop, lookup=lookup, status_code=status)

    @post("/{shop_id:int}/sync", name="counter_sync", status_code=200)
    async def sync(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        shop_id: Id,
        data: FormBody[SyncForm],
    ) -> Response[Any]:
        """What the counter's outbox sends: a scanned token's hand-over.
        Answers JSON; a refusal or conflict is problem+json whose title the
        outbox shows under "needs attention"."""
        language = language_of(request, await get_member(principal.member_id))

        def refusal(status: int, code: str, key: str, **values: Any) -> Response[Any]:
            body = {"type": "about:blank", "status": status, "code": code, "title": translate(language, key, **values)}
            return Response(body, status_code=status, media_type=PROBLEM_JSON)

        try:
            order = await sync_confirmation(
                principal,
                shop_id=shop_id,
                token=data.token[:400],
                client_ref=data.client_ref or None,
                device=data.device,
                client_recorded_at=_moment(data.client_recorded_at),
            )
        except PickupConflictRecorded as conflict:
            return refusal(
                409,
                "pickup_conflict",
                f"counter_conflict_{conflict.reason}",
                order=conflict.order_id,
                id=conflict.conflict_id,
            )
        except PickupTokenRefused as refused:
            return refusal(422, "pickup_token_refused", f"counter_token_{refused.reason}")
        except (ShopNotFound, AccessRefused):
            return refusal(403, "forbidden", "error_forbidden_action")
        return Response({"order_id": order.id, "status": order.status.value})

    @post("/{shop_id:int}/returns/{order_id:int}", name="counter_return", status_code=303)
    async def take_back(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        shop_id: Id,
        order_id: Id,
        data: FormBody[ReturnForm],
    ) -> Response[Any]:
        shop = await _counter_shop(principal, shop_id)
        reason = data.reason_zh.strip()
        if not 1 <= len(reason) <= MAX_REASON:
            return await self._page(request, principal, shop, error="counter_return_reason", status_code=422)
        try:
            await return_order(
                principal, shop_id=shop.id, order_id=order_id, restock=bool(data.restock), reason_zh=reason
            )
        except (OrderNotFound, OrderNotOpen):
            return await self._page(request, principal, shop, error="counter_return_refused", status_code=409)
        except ReturnWindowClosed:
            return await self._page(request, principal, shop, error="counter_return_closed", status_code=409)
        return Redirect(f"/counter/{shop.id}?n=counter_returned", status_code=303)

    @get("/{shop_id:int}/statement", name="counter_statement")
    async def statement(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        shop_id: Id,
        period: Annotated[str | None, QueryParameter(max_length=7)] = None,
    ) -> Template:
        shop = await _counter_shop(principal, shop_id, ShopAction.READ)
        chosen = period if period and PERIOD.fullmatch(period) else this_month()
        try:
            built = await statement_of(shop, chosen)
        except InvalidCatalogData:
            chosen = this_month()
            built = await statement_of(shop, chosen)
        member = await get_member(principal.member_id)
        before, after = neighbour_months(chosen, this_month())
        return render(
            request,
            "counter_statement.html",
            member=member,
            shop=shop,
            statement=built,
            period=chosen,
            period_words=month_words(chosen, language_of(request, member)),
            previous_period=before,
            next_period=after,
        )

    @get("/{shop_id:int}/statement.csv", name="counter_statement_csv")
    async def statement_file(
        self,
        request: Request[Any, Any, Any],
        principal: ActingPrincipal,
        shop_id: Id,
        period: Annotated[str | None, QueryParameter(max_length=7)] = None,
    ) -> Response[Any]:
        shop = await _counter_shop(principal, shop_id, ShopAction.READ)
        chosen = period if period and PERIOD.fullmatch(period) else this_month()
        try:
            built = await statement_of(shop, chosen)
        except InvalidCatalogData:
            chosen = this_month()
            built = await statement_of(shop, chosen)
        english = language_of(request, await get_member(principal.member_id)) == "en"
        return Response(
            statement_csv(built, english=english),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="shop-{shop.id}-{chosen}.csv"'},
        )
