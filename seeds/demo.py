"""A small demo organisation: one login per role and a few points earned.

Loaded by ``fengling serve --demo`` (or ``fengling demo``) into an empty
database only; running it twice changes nothing. The names and figures echo
the Linyi 平安风铃 programme (shared/context).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from community.accounts import issuance_code, wallet_code
from community.members import register_member
from community.organisations import create_organisation
from community.roles import Level, Role
from community.tables import Organisation
from ledger.posting import transfer
from marketplace.catalog import ItemDraft, create_item
from marketplace.shops import add_staff, create_shop


@dataclass(frozen=True, slots=True)
class DemoLogin:
    role: str
    name: str
    phone: str
    password: str


DEMO_LOGINS = (
    DemoLogin("volunteer", "张秀英", "13800000001", "fengling-volunteer"),
    DemoLogin("shop_staff", "王建国", "13800000002", "fengling-shop"),
    DemoLogin("organizer", "陈书记", "13800000003", "fengling-organizer"),
    DemoLogin("admin", "系统管理员", "13800000004", "fengling-admin"),
)

# (points, reason_zh, reason_en) earned by the demo volunteer.
DEMO_EARNINGS = (
    (Decimal("20.00"), "参加社区夜间巡逻 2 小时", "Night patrol, 2 hours"),
    (Decimal("10.00"), "上报隐患：消防通道被占用", "Hazard report: blocked fire lane"),
    (Decimal("5.00"), "随手拍：路灯损坏", "Snap report: broken street light"),
    (Decimal("12.50"), "协助调解邻里纠纷", "Helped mediate a neighbour dispute"),
)


async def demo_loaded() -> bool:
    return bool(await Organisation.exists().run())


async def load_demo() -> bool:
    """Load the demo data set if the database has no organisations yet.
    Returns True if it loaded."""
    if await demo_loaded():
        return False
    city = await create_organisation(name_zh="临沂市", name_en="Linyi", level=Level.CITY)
    district = await create_organisation(
        name_zh="兰山区", name_en="Lanshan District", level=Level.DISTRICT, parent_id=city.id
    )
    street = await create_organisation(
        name_zh="金雀山街道", name_en="Jinqueshan Street", level=Level.STREET, parent_id=district.id
    )
    community = await create_organisation(
        name_zh="平安社区", name_en="Ping'an Community", level=Level.COMMUNITY, parent_id=street.id, issues_points=True
    )
    grid = await create_organisation(name_zh="第一网格", name_en="Grid 1", level=Level.GRID, parent_id=community.id)

    homes = {
        "volunteer": (grid.id, Role.VOLUNTEER),
        "shop_staff": (community.id, Role.SHOP_STAFF),
        "organizer": (community.id, Role.ORGANIZER),
        "admin": (city.id, Role.ADMIN),
    }
    members = {}
    for login in DEMO_LOGINS:
        home, role = homes[login.role]
        members[login.role] = await register_member(
            name=login.name, phone=login.phone, password=login.password, home_organisation_id=home, roles=(role,)
        )

    volunteer = members["volunteer"]
    organizer = members["organizer"]
    for number, (points, reason_zh, reason_en) in enumerate(DEMO_EARNINGS, start=1):
        await transfer(
            debit_code=issuance_code(community.id),
            credit_code=wallet_code(volunteer.id),
            amount=points,
            kind="award",
            reason_zh=reason_zh,
            reason_en=reason_en,
            actor_ref=f"member:{organizer.id}",
            cause_ref=f"demo:{number}",
            idempotency_key=f"demo:award:{number}",
        )
    await _load_supermarket(community.id, members["shop_staff"].id)
    return True


# (name_zh, name_en, category, price, stock, limit per month)
DEMO_CATALOG = (
    ("大米 5kg", "Rice 5 kg", "food", Decimal("30.00"), 20, 1),
    ("食用油 1.8L", "Cooking oil 1.8 L", "food", Decimal("25.00"), 15, 1),
    ("洗衣液", "Laundry liquid", "household", Decimal("15.00"), 30, 2),
    ("毛巾", "Towel", "household", Decimal("8.00"), 50, None),
    ("理发券", "Haircut voucher", "voucher", Decimal("10.00"), None, 1),
    ("笔记本", "Notebook", "stationery", Decimal("3.00"), 100, None),
)


async def _load_supermarket(community_id: int, staff_member_id: int) -> None:
    shop = await create_shop(
        organisation_id=community_id,
        name_zh="平安风铃积分超市",
        name_en="Fengling Points Shop",
        address="平安社区服务中心一楼",
    )
    await add_staff(shop.id, staff_member_id)
    for name_zh, name_en, category, price, stock, per_month in DEMO_CATALOG:
        await create_item(
            community_id,
            ItemDraft(
                name_zh=name_zh,
                name_en=name_en,
                category=category,
                price=price,
                stock=stock,
                limit_count=per_month,
                limit_period="month" if per_month else None,
                shop_ids=[shop.id],
            ),
        )
