"""The points-supermarket catalog: what can be redeemed, where, for how much.

Changes take the acting principal, are decided by ``marketplace.policy``
(managers of the item's organisation) and audited in their own transaction.

Listing is keyset-paginated (``core.cursors``: the cursor carries the sort
key and id), so a page costs the same at item 10 and item 10,000.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, get_args

from piccolo.columns.combination import Where
from piccolo.query import Select
from pydantic import BaseModel

from community import audit
from community.access import Principal, can_manage_organisation
from community.organisations import ancestor_ids
from core.cursors import decode_cursor, encode_cursor
from core.database import contains_ignoring_case, in_write_transaction
from ledger.amounts import from_minor, parse_amount, to_minor
from ledger.errors import InvalidAmount
from marketplace import policy
from marketplace.errors import InvalidCatalogData, ItemNotFound
from marketplace.models import CatalogPage, ItemRecord, ItemShop, ShopRecord
from marketplace.periods import LIMIT_PERIODS
from marketplace.tables import CatalogItem, CatalogItemShop, Shop

Category = Literal["daily", "food", "household", "stationery", "voucher", "service", "other"]
CATEGORIES: tuple[str, ...] = get_args(Category)
SortOrder = Literal["price_asc", "price_desc", "newest"]
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# Bounds one item's stock and limits to numbers a shop can actually hold.
MAX_STOCK = 1_000_000
MAX_LIMIT_COUNT = 1000


class ItemDraft(BaseModel):
    """What an organiser sets on an item (create or full update)."""

    name_zh: str
    name_en: str = ""
    description_zh: str = ""
    description_en: str = ""
    category: str = "other"
    price: Decimal
    stock: int | None = None
    limit_count: int | None = None
    limit_period: str | None = None
    available_from: datetime | None = None
    available_until: datetime | None = None
    active: bool = True
    shop_ids: list[int]


def _check_draft(draft: ItemDraft) -> int:
    if not 1 <= len(draft.name_zh.strip()) <= 200:
        raise InvalidCatalogData("name_zh must be 1-200 characters", field="name_zh")
    if draft.category not in CATEGORIES:
        raise InvalidCatalogData(f"category must be one of {', '.join(CATEGORIES)}", field="category")
    try:
        price = parse_amount(draft.price, field="price")
    except InvalidAmount as error:
        raise InvalidCatalogData(error.message, field="price") from error
    if price <= 0:
        raise InvalidCatalogData("price must be positive", field="price")
    _check_stock_and_limit(draft)
    _check_window(draft)
    if not 1 <= len(draft.shop_ids) <= 50:
        raise InvalidCatalogData("an item is handed out by 1-50 shops", field="shop_ids")
    return to_minor(price)


def _check_stock_and_limit(draft: ItemDraft) -> None:
    if draft.stock is not None and not 0 <= draft.stock <= MAX_STOCK:
        raise InvalidCatalogData(f"stock must be 0-{MAX_STOCK}, or null for unlimited", field="stock")
    if (draft.limit_count is None) != (draft.limit_period is None):
        raise InvalidCatalogData("limit_count and limit_period go together", field="limit_period")
    if draft.limit_count is not None and not 1 <= draft.limit_count <= MAX_LIMIT_COUNT:
        raise InvalidCatalogData(f"limit_count must be 1-{MAX_LIMIT_COUNT}", field="limit_count")
    if draft.limit_period is not None and draft.limit_period not in LIMIT_PERIODS:
        raise InvalidCatalogData(f"limit_period must be one of {', '.join(LIMIT_PERIODS)}", field="limit_period")


def _check_window(draft: ItemDraft) -> None:
    for name in ("available_from", "available_until"):
        value = getattr(draft, name)
        if value is not None and value.tzinfo is None:
            raise InvalidCatalogData(f"{name} must carry a time zone", field=name)
    if draft.available_from and draft.available_until and draft.available_from >= draft.available_until:
        raise InvalidCatalogData("available_until must be after available_from", field="available_until")


async def _item_shops(item_ids: list[int]) -> dict[int, tuple[ItemShop, ...]]:
    """The shops handing out each of ``item_ids``, in shop id order."""
    found: dict[int, list[ItemShop]] = {item_id: [] for item_id in item_ids}
    if item_ids:
        rows = (
            await CatalogItemShop.select(
                CatalogItemShop.item,
                CatalogItemShop.shop.id.as_alias("shop_id"),
                CatalogItemShop.shop.name_zh.as_alias("shop_name_zh"),
                CatalogItemShop.shop.name_en.as_alias("shop_name_en"),
            )
            .where(CatalogItemShop.item.is_in(item_ids))
            .order_by(CatalogItemShop.shop)
            .run()
        )
        for shop in map(ItemShop.from_row, rows):
            found[shop.item_id].append(shop)
    return {item_id: tuple(shops) for item_id, shops in found.items()}


async def get_item(item_id: int) -> ItemRecord:
    rows = await CatalogItem.select().where(CatalogItem.id == item_id).run()
    if not rows:
        raise ItemNotFound(f"item {item_id} does not exist", field="item_id")
    return ItemRecord.from_row(rows[0], (await _item_shops([item_id]))[item_id])


async def _set_shops(item_id: int, organisation_id: int, shop_ids: list[int]) -> None:
    """An item is handed out by shops at or below its catalog's organisation.
    An unknown shop id is refused like a shop outside: nothing to probe."""
    wanted = sorted(set(shop_ids))
    found = {shop.id: shop for shop in await _shops(wanted)}
    for shop_id in wanted:
        if shop_id not in found or organisation_id not in await ancestor_ids(found[shop_id].organisation_id):
            raise InvalidCatalogData(f"shop {shop_id} is not a shop of this catalog's organisation", field="shop_ids")
    await CatalogItemShop.delete().where(CatalogItemShop.item == item_id).run()
    await CatalogItemShop.insert(*(CatalogItemShop(item=item_id, shop=shop_id) for shop_id in wanted)).run()


async def _shops(shop_ids: list[int]) -> list[ShopRecord]:
    return [ShopRecord.from_row(row) for row in await Shop.select().where(Shop.id.is_in(shop_ids)).run()]


def _columns(draft: ItemDraft, price_minor: int) -> dict[Any, Any]:
    return {
        CatalogItem.name_zh: draft.name_zh.strip(),
        CatalogItem.name_en: draft.name_en.strip(),
        CatalogItem.description_zh: draft.description_zh,
        CatalogItem.description_en: draft.description_en,
        CatalogItem.category: draft.category,
        CatalogItem.price_minor: price_minor,
        CatalogItem.stock: draft.stock,
        CatalogItem.limit_count: draft.limit_count,
        CatalogItem.limit_period: draft.limit_period,
        CatalogItem.available_from: draft.available_from,
        CatalogItem.available_until: draft.available_until,
        CatalogItem.active: draft.active,
    }


async def create_item(principal: Principal, organisation_id: int, draft: ItemDraft) -> ItemRecord:
    """Add an item to the catalog of a node the principal manages."""
    price_minor = _check_draft(draft)
    await policy.authorise_organisation_manager(principal, organisation_id, field="organisation_id")
    item_id = await in_write_transaction(lambda: _insert_item(principal, organisation_id, draft, price_minor))
    return await get_item(item_id)


async def _insert_item(principal: Principal, organisation_id: int, draft: ItemDraft, price_minor: int) -> int:
    """The item, the shops that hand it out and the audit record, together."""
    inserted = await CatalogItem.insert(
        CatalogItem(
            organisation=organisation_id,
            **{column._meta.name: value for column, value in _columns(draft, price_minor).items()},
        )
    ).run()
    item_id = int(inserted[0]["id"])
    await _set_shops(item_id, organisation_id, draft.shop_ids)
    await audit.record(
        principal.ref,
        "catalog.create",
        f"item:{item_id}",
        name=draft.name_zh.strip(),
        price=str(from_minor(price_minor)),
    )
    return item_id


async def _authorise_item_change(principal: Principal, item_id: int) -> ItemRecord:
    """The item, if the principal manages its organisation."""
    try:
        item = await get_item(item_id)
    except ItemNotFound:
        policy.check_item_manager(item_id=item_id, manages=False, in_catalog=False)
        raise
    policy.check_item_manager(
        item_id=item_id,
        manages=await can_manage_organisation(principal, item.organisation_id),
        in_catalog=await policy.in_catalog_of(principal, item.organisation_id),
    )
    return item


async def managed_item(principal: Principal, item_id: int) -> ItemRecord:
    """An item the principal may change (before an upload is stored for it)."""
    return await _authorise_item_change(principal, item_id)


async def update_item(
    principal: Principal, item_id: int, draft: ItemDraft, *, organisation_id: int | None = None
) -> ItemRecord:
    """Replace an item's settings. Stock set here is the new count on the
    shelf; orders already placed keep what they reserved. An item stays in
    its catalog: ``organisation_id``, when given, must be its own."""
    price_minor = _check_draft(draft)
    await in_write_transaction(lambda: _update_item(principal, item_id, draft, price_minor, organisation_id))
    return await get_item(item_id)


async def _update_item(
    principal: Principal, item_id: int, draft: ItemDraft, price_minor: int, organisation_id: int | None
) -> None:
    current = await _authorise_item_change(principal, item_id)
    if organisation_id is not None and organisation_id != current.organisation_id:
        raise InvalidCatalogData("an item stays in the catalog it was created in", field="organisation_id")
    await CatalogItem.update(_columns(draft, price_minor)).where(CatalogItem.id == item_id).run()
    await _set_shops(item_id, current.organisation_id, draft.shop_ids)
    await audit.record(
        principal.ref, "catalog.update", f"item:{item_id}", price=str(from_minor(price_minor)), stock=draft.stock
    )


async def set_image(principal: Principal, item_id: int, image_sha256: str) -> ItemRecord:
    """Point the item at a stored photo (by its SHA-256)."""
    await in_write_transaction(lambda: _set_image(principal, item_id, image_sha256))
    return await get_item(item_id)


async def _set_image(principal: Principal, item_id: int, image_sha256: str) -> None:
    await _authorise_item_change(principal, item_id)
    await CatalogItem.update({CatalogItem.image_sha256: image_sha256}).where(CatalogItem.id == item_id).run()
    await audit.record(principal.ref, "catalog.image", f"item:{item_id}", sha256=image_sha256)


async def visible_item(principal: Principal, item_id: int) -> ItemRecord:
    """An item of the principal's catalog, or one they manage; to anyone
    else it does not exist."""
    try:
        item = await get_item(item_id)
    except ItemNotFound:
        policy.check_item_visible(item_id=item_id, in_catalog=False, manages=False)
        raise
    in_catalog = await policy.in_catalog_of(principal, item.organisation_id)
    manages = in_catalog or await can_manage_organisation(principal, item.organisation_id)
    policy.check_item_visible(item_id=item_id, in_catalog=in_catalog, manages=manages)
    return item


def _cursor_tag(sort: SortOrder) -> str:
    """One cursor tag per sort: a cursor of another sort is refused."""
    return f"catalog-{sort}"


def _cursor_after(item: ItemRecord, sort: SortOrder) -> str:
    """The cursor for the page after ``item``: its sort key, then its id."""
    if sort == "newest":
        return encode_cursor(_cursor_tag(sort), item.id)
    return encode_cursor(_cursor_tag(sort), to_minor(item.price), item.id)


def _after_cursor(sort: SortOrder, cursor: str) -> Where | Any:
    """The rows that come after the cursor's row in ``sort`` order."""
    if sort == "newest":
        (last_id,) = decode_cursor(_cursor_tag(sort), cursor, key_min=0)
        return CatalogItem.id < last_id
    price_minor, last_id = decode_cursor(_cursor_tag(sort), cursor, arity=2, key_min=0)
    beyond = CatalogItem.price_minor > price_minor if sort == "price_asc" else CatalogItem.price_minor < price_minor
    return beyond | ((CatalogItem.price_minor == price_minor) & (CatalogItem.id > last_id))


async def list_catalog(
    *,
    organisation_ids: list[int],
    now: datetime,
    category: str | None = None,
    shop_id: int | None = None,
    search: str | None = None,
    sort: SortOrder = "price_asc",
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    include_inactive: bool = False,
) -> CatalogPage:
    """Items offered by ``organisation_ids`` (a member's organisation and
    its ancestors), currently available unless ``include_inactive``."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidCatalogData(f"limit must be 1-{MAX_PAGE_SIZE}", field="limit")
    if not organisation_ids:
        return CatalogPage(items=(), next_cursor=None)
    query = CatalogItem.select().where(CatalogItem.organisation.is_in(organisation_ids))
    if not include_inactive:
        query = query.where(
            (CatalogItem.active == True)  # noqa: E712 (Piccolo builds SQL from this comparison)
            & ((CatalogItem.available_from.is_null()) | (CatalogItem.available_from <= now))
            & ((CatalogItem.available_until.is_null()) | (CatalogItem.available_until > now))
        )
    if category is not None:
        query = query.where(CatalogItem.category == category)
    if shop_id is not None:
        shop_items = CatalogItemShop.select(CatalogItemShop.item).where(CatalogItemShop.shop == shop_id)
        query = query.where(CatalogItem.id.is_in(shop_items))
    if search:
        query = query.where(
            contains_ignoring_case(CatalogItem.name_zh, search) | contains_ignoring_case(CatalogItem.name_en, search)
        )
    if cursor is not None:
        query = query.where(_after_cursor(sort, cursor))
    found = [ItemRecord.from_row(row) for row in await _in_order(query, sort).limit(limit + 1).run()]
    page = found[:limit]
    shops = await _item_shops([item.id for item in page])
    return CatalogPage(
        items=tuple(replace(item, shops=shops[item.id]) for item in page),
        next_cursor=_cursor_after(page[-1], sort) if len(found) > limit else None,
    )


def _in_order(query: Select[CatalogItem], sort: SortOrder) -> Select[CatalogItem]:
    """The catalog's three orders, each ending on the id so keyset pages are exact."""
    if sort == "price_asc":
        return query.order_by(CatalogItem.price_minor).order_by(CatalogItem.id)
    if sort == "price_desc":
        return query.order_by(CatalogItem.price_minor, ascending=False).order_by(CatalogItem.id)
    return query.order_by(CatalogItem.id, ascending=False)


async def catalog_organisations(home_organisation_id: int) -> list[int]:
    """A member sees the catalogs of their organisation and every one above it."""
    return await ancestor_ids(home_organisation_id)


async def member_catalog(
    principal: Principal,
    *,
    now: datetime,
    category: str | None = None,
    shop_id: int | None = None,
    search: str | None = None,
    sort: SortOrder = "price_asc",
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> CatalogPage:
    """What the principal can redeem: their own catalog (``policy``), on offer now."""
    return await list_catalog(
        organisation_ids=await catalog_organisations(principal.home_organisation_id),
        now=now,
        category=category,
        shop_id=shop_id,
        search=search,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
