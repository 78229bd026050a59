"""The points-supermarket catalog: members browse, organisers stock it.
Who may see and change which item is ``marketplace.policy``."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from litestar import Controller, Response
from litestar.enums import RequestEncodingType
from litestar.params import Body, JSONBody, QueryParameter

from api.activities.uploads import ImageUpload, Sha256, read_image, store_image
from api.dependencies import ActingPrincipal
from api.guards import requires_manager, requires_member
from api.ledger.wallet import own_wallet
from api.params import Id
from api.routing import get, post, put
from api.schemas.marketplace import CatalogPageOut, ItemIn, ItemOut, item_out
from community.accounts import wallet_code
from core.clock import utc_now
from core.cursors import MAX_CURSOR_LENGTH
from ledger.accounts import find_balance
from marketplace.catalog import (
    MAX_PAGE_SIZE,
    Category,
    ItemDraft,
    create_item,
    managed_item,
    member_catalog,
    set_image,
    update_item,
    visible_item,
)

# A catalog photo needs no more on a phone screen; bigger uploads are refused.
MAX_IMAGE_BYTES = 2 * 1024 * 1024


def _draft(data: ItemIn) -> ItemDraft:
    return ItemDraft(**data.model_dump(exclude={"organisation_id"}))


class CatalogController(Controller):
    path = "/api/v1/catalog"
    tags = ["marketplace"]

    @get("/items", guards=[requires_member], operation_id="listCatalog", summary="积分超市商品 · Browse the catalog")
    async def list_items(
        self,
        principal: ActingPrincipal,
        category: Annotated[Category | None, QueryParameter()] = None,
        shop_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
        q: Annotated[str | None, QueryParameter(max_length=50, description="search in names")] = None,
        sort: Annotated[Literal["price_asc", "price_desc", "newest"], QueryParameter()] = "price_asc",
        cursor: Annotated[
            str | None, QueryParameter(max_length=MAX_CURSOR_LENGTH, description="next_cursor of the previous page")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)] = 20,
    ) -> CatalogPageOut:
        page = await member_catalog(
            principal,
            now=utc_now(),
            category=category,
            shop_id=shop_id,
            search=q,
            sort=sort,
            cursor=cursor,
            limit=limit,
        )
        # Members who cannot earn have no wallet and get none here.
        wallet = await own_wallet(principal)
        available = wallet.available if wallet is not None else Decimal("0.00")
        return CatalogPageOut(
            items=[item_out(item, available=available) for item in page.items],
            next_cursor=page.next_cursor,
            available=available,
        )

    @get("/items/{item_id:int}", guards=[requires_member], operation_id="getCatalogItem", summary="One item")
    async def get_one(self, principal: ActingPrincipal, item_id: Id) -> ItemOut:
        item = await visible_item(principal, item_id)
        wallet = await find_balance(wallet_code(principal.member_id))
        return item_out(item, available=wallet.available if wallet else None)

    @post("/items", guards=[requires_manager], operation_id="createCatalogItem", summary="Add an item")
    async def create(self, principal: ActingPrincipal, data: JSONBody[ItemIn]) -> ItemOut:
        return item_out(await create_item(principal, data.organisation_id, _draft(data)))

    @put("/items/{item_id:int}", guards=[requires_manager], operation_id="updateCatalogItem", summary="Replace an item")
    async def update(self, principal: ActingPrincipal, item_id: Id, data: JSONBody[ItemIn]) -> ItemOut:
        return item_out(await update_item(principal, item_id, _draft(data), organisation_id=data.organisation_id))

    @post(
        "/items/{item_id:int}/image",
        guards=[requires_manager],
        operation_id="uploadCatalogImage",
        summary="Upload the item's photo (PNG, JPEG or WebP, ≤ 2 MB)",
    )
    async def upload_image(
        self,
        principal: ActingPrincipal,
        item_id: Id,
        data: Annotated[ImageUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> ItemOut:
        await managed_item(principal, item_id)  # refuse before anything is stored
        stored = await store_image(
            data.data, kind="catalog", max_bytes=MAX_IMAGE_BYTES, problem_code="invalid_catalog_data"
        )
        return item_out(await set_image(principal, item_id, stored.sha256))

    @get("/images/{sha256:str}", guards=[requires_member], operation_id="getCatalogImage", summary="An item photo")
    async def image(self, sha256: Sha256) -> Response[bytes]:
        content, media_type = await read_image("catalog", sha256)
        return Response(
            content,
            media_type=media_type,
            headers={"Cache-Control": "private, max-age=86400, immutable"},
        )
