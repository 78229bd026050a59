"""The points-supermarket catalog: what can be redeemed, where, for how much.

Changes take the acting principal, are decided by ``marketplace.policy``
(managers of the item's organisation) and audited in their own transaction.

Listing is keyset-paginated (the cursor carries the sort key and id), so a
page costs the same at item 10 and item 10,000.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, get_args

from piccolo.columns.combination import Where
from pydantic import BaseModel

from community import audit
from community.access import Principal, can_manage_organisation
from community.organisations import ancestor_ids
from core.database import in_write_transaction, is_sqlite
from ledger.amounts import from_minor, parse_amount, to_minor
from ledger.errors import InvalidAmount
from marketplace import policy
from marketplace.errors import InvalidCatalogData, ItemNotFound
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


class ItemShop(BaseModel):
    id: int
    name_zh: str
    name_en: str


class ItemOut(BaseModel):
    id: int
    organisation_id: int
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    category: str
    image_sha256: str
    price: Decimal
    stock: int | None
    limit_count: int | None
    limit_period: str | None
    available_from: datetime | None
    available_until: datetime | None
    active: bool
    shops: list[ItemShop]


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


class CatalogPage(BaseModel):
    items: list[ItemOut]
    next_cursor: str | None


def _check_draft(draft: ItemDraft) -> int:  # noqa: C901 -- one guard per field; to split after #9 merges
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
    if draft.stock is not None and not 0 <= draft.stock <= MAX_STOCK:
        raise InvalidCatalogData(f"stock must be 0-{MAX_STOCK}, or null for unlimited", field="stock")
    if (draft.limit_count is None) != (draft.limit_period is None):
        raise InvalidCatalogData("limit_count and limit_period go together", field="limit_period")
    if draft.limit_count is not None and not 1 <= draft.limit_count <= MAX_LIMIT_COUNT:
        raise InvalidCatalogData(f"limit_count must be 1-{MAX_LIMIT_COUNT}", field="limit_count")
    if draft.limit_period is not None and draft.limit_period not in LIMIT_PERIODS:
        raise InvalidCatalogData(f"limit_period must be one of {', '.join(LIMIT_PERIODS)}", field="limit_period")
    for name in ("available_from", "available_until"):
        value = getattr(draft, name)
        if value is not None and value.tzinfo is None:
            raise InvalidCatalogData(f"{name} must carry a time zone", field=name)
    if draft.available_from and draft.available_until and draft.available_from >= draft.available_until:
        raise InvalidCatalogData("available_until must be after available_from", field="available_until")
    if not 1 <= len(draft.shop_ids) <= 50:
        raise InvalidCatalogData("an item is handed out by 1-50 shops", field="shop_ids")
    return to_minor(price)


async def _item_shops(item_ids: list[int]) -> dict[int, list[ItemShop]]:
    found: dict[int, list[ItemShop]] = {item_id: [] for item_id in item_ids}
    if not item_ids:
        return found
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
    for row in rows:
        found[row["item"]].append(ItemShop(id=row["shop_id"], name_zh=row["shop_name_zh"], name_en=row["shop_name_en"]))
    return found


def _out(row: dict[str, Any], shops: list[ItemShop]) -> ItemOut:
    return ItemOut(
        id=row["id"],
        organisation_id=row["organisation"],
        name_zh=row["name_zh"],
        name_en=row["name_en"],
        description_zh=row["description_zh"],
        description_en=row["description_en"],
        category=row["category"],
        image_sha256=row["image_sha256"],
        price=from_minor(row["price_minor"]),
        stock=row["stock"],
        limit_count=row["limit_count"],
        limit_period=row["limit_period"],
        available_from=row["available_from"],
        available_until=row["available_until"],
        active=bool(row["active"]),
        shops=shops,
    )


async def get_item(item_id: int) -> ItemOut:
    rows = await CatalogItem.select().where(CatalogItem.id == item_id).run()
    if not rows:
        raise ItemNotFound(f"item {item_id} does not exist", field="item_id")
    return _out(rows[0], (await _item_shops([item_id]))[item_id])


async def _set_shops(item_id: int, organisation_id: int, shop_ids: list[int]) -> None:
    """An item is handed out by shops at or below its catalog's organisation.
    An unknown shop id is refused like a shop outside: nothing to probe."""
    wanted = sorted(set(shop_ids))
    rows = await Shop.select(Shop.id, Shop.organisation).where(Shop.id.is_in(wanted)).run()
    found = {int(row["id"]): int(row["organisation"]) for row in rows}
    for shop_id in wanted:
        if shop_id not in found or organisation_id not in await ancestor_ids(found[shop_id]):
            raise InvalidCatalogData(f"shop {shop_id} is not a shop of this catalog's organisation", field="shop_ids")
    await CatalogItemShop.delete().where(CatalogItemShop.item == item_id).run()
    await CatalogItemShop.insert(*(CatalogItemShop(item=item_id, shop=shop_id) for shop_id in wanted)).run()


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


async def create_item(principal: Principal, organisation_id: int, draft: ItemDraft) -> ItemOut:
    """Add an item to the catalog of a node the principal manages."""
    price_minor = _check_draft(draft)
    await policy.authorise_organisation_manager(principal, organisation_id, field="organisation_id")

    async def work() -> int:
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

    return await get_item(await in_write_transaction(work))


async def _authorise_item_change(principal: Principal, item_id: int) -> ItemOut:
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


async def managed_item(principal: Principal, item_id: int) -> ItemOut:
    """An item the principal may change (before an upload is stored for it)."""
    return await _authorise_item_change(principal, item_id)


async def update_item(
    principal: Principal, item_id: int, draft: ItemDraft, *, organisation_id: int | None = None
) -> ItemOut:
    """Replace an item's settings. Stock set here is the new count on the
    shelf; orders already placed keep what they reserved. An item stays in
    its catalog: ``organisation_id``, when given, must be its own."""
    price_minor = _check_draft(draft)

    async def work() -> None:
        current = await _authorise_item_change(principal, item_id)
        if organisation_id is not None and organisation_id != current.organisation_id:
            raise InvalidCatalogData("an item stays in the catalog it was created in", field="organisation_id")
        await CatalogItem.update(_columns(draft, price_minor)).where(CatalogItem.id == item_id).run()
        await _set_shops(item_id, current.organisation_id, draft.shop_ids)
        await audit.record(
            principal.ref, "catalog.update", f"item:{item_id}", price=str(from_minor(price_minor)), stock=draft.stock
        )

    await in_write_transaction(work)
    return await get_item(item_id)


async def set_image(principal: Principal, item_id: int, image_sha256: str) -> ItemOut:
    """Point the item at a stored photo (by its SHA-256)."""

    async def work() -> None:
        await _authorise_item_change(principal, item_id)
        await CatalogItem.update({CatalogItem.image_sha256: image_sha256}).where(CatalogItem.id == item_id).run()
        await audit.record(principal.ref, "catalog.image", f"item:{item_id}", sha256=image_sha256)

    await in_write_transaction(work)
    return await get_item(item_id)


async def visible_item(principal: Principal, item_id: int) -> ItemOut:
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


def _encode_cursor(sort: SortOrder, row: dict[str, Any]) -> str:
    key = row["price_minor"] if sort != "newest" else row["id"]
    return base64.urlsafe_b64encode(json.dumps([sort, key, row["id"]]).encode()).decode().rstrip("=")


def _decode_cursor(sort: SortOrder, cursor: str) -> tuple[int, int]:
    try:
        raw = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
        cursor_sort, key, last_id = raw
        if cursor_sort != sort or not all(isinstance(v, int) and 0 <= v < 2**63 for v in (key, last_id)):
            raise ValueError(cursor)
        return key, last_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidCatalogData(
            "cursor is not one this listing returned (or the sort changed)", field="cursor"
        ) from error


async def list_catalog(  # noqa: C901, PLR0912 -- one clause per optional filter and sort; to split after #9 merges
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
        return CatalogPage(items=[], next_cursor=None)
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
        pattern = f"%{search.strip()[:50].replace('%', '').replace('_', '')}%"
        if is_sqlite():  # SQLite's LIKE already ignores ASCII case; it has no ILIKE
            query = query.where(CatalogItem.name_zh.like(pattern) | CatalogItem.name_en.like(pattern))
        else:
            query = query.where(CatalogItem.name_zh.ilike(pattern) | CatalogItem.name_en.ilike(pattern))
    if cursor is not None:
        key, last_id = _decode_cursor(sort, cursor)
        after: Where | Any
        if sort == "price_asc":
            after = (CatalogItem.price_minor > key) | ((CatalogItem.price_minor == key) & (CatalogItem.id > last_id))
        elif sort == "price_desc":
            after = (CatalogItem.price_minor < key) | ((CatalogItem.price_minor == key) & (CatalogItem.id > last_id))
        else:
            after = CatalogItem.id < last_id
        query = query.where(after)
    if sort == "price_asc":
        query = query.order_by(CatalogItem.price_minor).order_by(CatalogItem.id)
    elif sort == "price_desc":
        query = query.order_by(CatalogItem.price_minor, ascending=False).order_by(CatalogItem.id)
    else:
        query = query.order_by(CatalogItem.id, ascending=False)
    rows = await query.limit(limit + 1).run()
    page = rows[:limit]
    shops = await _item_shops([row["id"] for row in page])
    return CatalogPage(
        items=[_out(row, shops[row["id"]]) for row in page],
        next_cursor=_encode_cursor(sort, page[-1]) if len(rows) > limit else None,
    )


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
