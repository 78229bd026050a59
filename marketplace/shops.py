"""Partner shops and the staff who work their counters."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from community.members import get_member, grant_role
from community.organisations import get_organisation
from community.roles import Role
from marketplace.accounts import open_settlement_account, settlement_code
from marketplace.errors import InvalidCatalogData, ShopNotFound
from marketplace.tables import Shop, ShopStaff


class ShopOut(BaseModel):
    id: int
    organisation_id: int
    name_zh: str
    name_en: str
    address: str
    active: bool
    settlement_account: str


def _out(row: dict[str, Any]) -> ShopOut:
    return ShopOut(
        id=row["id"],
        organisation_id=row["organisation"],
        name_zh=row["name_zh"],
        name_en=row["name_en"],
        address=row["address"],
        active=bool(row["active"]),
        settlement_account=settlement_code(row["id"]),
    )


async def get_shop(shop_id: int) -> ShopOut:
    rows = await Shop.select().where(Shop.id == shop_id).run()
    if not rows:
        raise ShopNotFound(f"shop {shop_id} does not exist", field="shop_id")
    return _out(rows[0])


async def create_shop(*, organisation_id: int, name_zh: str, name_en: str = "", address: str = "") -> ShopOut:
    if not name_zh.strip() or len(name_zh) > 200:
        raise InvalidCatalogData("a shop needs a Chinese name of 1-200 characters", field="name_zh")
    await get_organisation(organisation_id)
    inserted = await Shop.insert(
        Shop(organisation=organisation_id, name_zh=name_zh.strip(), name_en=name_en.strip(), address=address.strip())
    ).run()
    shop_id = int(inserted[0]["id"])
    await open_settlement_account(shop_id, organisation_id, name_zh.strip())
    return await get_shop(shop_id)


async def list_shops(organisation_ids: set[int]) -> list[ShopOut]:
    if not organisation_ids:
        return []
    rows = await Shop.select().where(Shop.organisation.is_in(sorted(organisation_ids))).order_by(Shop.id).run()
    return [_out(row) for row in rows]


async def add_staff(shop_id: int, member_id: int) -> None:
    """Make a member counter staff of a shop (and grant the shop_staff role
    over the shop's organisation)."""
    shop = await get_shop(shop_id)
    await get_member(member_id)
    await grant_role(member_id, shop.organisation_id, Role.SHOP_STAFF)
    if not await is_staff_of(member_id, shop_id):
        await ShopStaff.insert(ShopStaff(shop=shop_id, member=member_id)).run()


async def is_staff_of(member_id: int, shop_id: int) -> bool:
    return bool(await ShopStaff.exists().where((ShopStaff.shop == shop_id) & (ShopStaff.member == member_id)).run())


async def shops_of_staff(member_id: int) -> list[int]:
    rows = await ShopStaff.select(ShopStaff.shop).where(ShopStaff.member == member_id).run()
    return [int(row["shop"]) for row in rows]
