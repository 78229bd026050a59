"""A small demo organisation: one login per role and a few points earned.

Loaded by ``fengling serve --demo`` (or ``fengling demo``) into an empty
database only; running it twice changes nothing. The names and figures echo
the Linyi 平安风铃 programme (shared/context).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from activities.calendar import CHINA_ZONE
from activities.claim_rules import GrabOrder
from activities.models import Position
from activities.patrol_tasks import claim_task, create_patrol_task
from activities.submissions import (
    PatrolCheckIn,
    ReportIn,
    RoutePointIn,
    ServiceLogIn,
    add_route_points,
    check_in_patrol,
    check_out_patrol,
    log_service,
    submit_report,
)
from activities.verification import verify_activity
from campaigns.campaigns import create_campaign
from campaigns.funding import fund_campaign
from campaigns.rules import EarningRules, ReportKind
from community.access import Principal, load_principal
from community.members import create_member, register_member
from community.organisations import create_organisation
from community.roles import Level, Role
from community.tables import Member, Organisation
from community.teams import TeamKind, add_team_member, create_team
from core.clock import utc_now
from leaderboards.periods import china_date
from leaderboards.seasons import SeasonDraft, create_season
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
    DemoLogin("grid_worker", "李网格员", "13800000005", "fengling-grid"),
)

# The demo campaign's rules: the volunteer's four verified activities below
# earn 20.00 + 10.00 + 5.00 + 12.50 = 47.50 points.
DEMO_RULES = EarningRules.model_validate(
    {
        "service_per_hour": {"default": "5.00", "patrol": "6.00"},
        "patrol_points": "20.00",
        "patrol_min_minutes": 60,
        "report_points": {"hazard": "10.00", "tip": "8.00", "dispute": "8.00", "snap": "5.00"},
        "report_useful_bonus": "5.00",
        "daily_cap": "50.00",
        "weekly_cap": "200.00",
    }
)
DEMO_BUDGET = Decimal("1000.00")
HERE = Position(latitude=35.0606, longitude=118.3425, accuracy_m=10.0)
# The demo patrol's route: a loop round the estate, a point every 8 minutes
# (the fraud rules hold a two-hour patrol with no route as a thin patrol).
_LOOP = ((0.0004, 0.0001), (0.0008, 0.0006), (0.0011, 0.0013), (0.0007, 0.0019), (0.0002, 0.0016), (-0.0003, 0.0009))


def _walk(start: datetime) -> list[RoutePointIn]:
    points = []
    for n in range(1, 15):
        north, east = _LOOP[n % len(_LOOP)]
        position = Position(
            latitude=HERE.latitude + north + n * 0.00001,
            longitude=HERE.longitude + east,
            accuracy_m=6.0 + (n * 7) % 13,
        )
        points.append(RoutePointIn(position=position, at=start + timedelta(minutes=8 * n)))
    return points


def china_evening(now: datetime, days: int) -> datetime:
    """19:00 China time, ``days`` days after ``now``'s China-time day."""
    day = now.astimezone(CHINA_ZONE).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, 19, tzinfo=CHINA_ZONE)


async def demo_loaded() -> bool:
    return bool(await Organisation.exists().run())


# The demo's people are the programme's regulars: they joined months ago, so
# the new-account cooling-off rule (fraud/) does not hold their ordinary
# awards for review as it would a stranger's first day.
DEMO_MEMBERSHIP_AGE = timedelta(days=120)


async def _joined_months_ago(member_id: int) -> None:
    await Member.update({Member.created_at: utc_now() - DEMO_MEMBERSHIP_AGE}).where(Member.id == member_id).run()


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
        "grid_worker": (grid.id, Role.GRID_WORKER),
    }
    members = {}
    for login in DEMO_LOGINS:
        home, role = homes[login.role]
        members[login.role] = await register_member(
            name=login.name, phone=login.phone, password=login.password, home_organisation_id=home, roles=(role,)
        )
        await _joined_months_ago(members[login.role].id)

    await load_demo_season(community.id, members["organizer"].id)
    team_id = await _load_earning(
        community.id, grid.id, members["volunteer"].id, members["organizer"].id, members["grid_worker"].id
    )
    await _load_supermarket(community.id, await load_principal(members["organizer"].id), members["shop_staff"].id)
    await _load_neighbours(community.id, grid.id, team_id, members["organizer"].id, members["grid_worker"].id)
    return True


async def load_demo_season(community_id: int, organizer_id: int) -> int:
    """A season running on the community (began two weeks ago, ends in a
    month), so the demo volunteer sees a season rank: every demo award is in
    it. Defined "two weeks ago" through the season service (a season starts
    tomorrow at the earliest, as its organiser would have seen it then)."""
    today = china_date(utc_now())
    first_day = today - timedelta(days=14)
    season = await create_season(
        await load_principal(organizer_id),
        SeasonDraft("冬季平安竞赛", "Winter safety contest", community_id, first_day, today + timedelta(days=30)),
        now=utc_now() - timedelta(days=15),
    )
    return season.id


# Neighbours who earned too, so the demo volunteer has a rank among people
# (their service hours at 5.00 an hour, capped at 50.00 a day): grid 1 has
# seven of them, a smaller second grid three, which wins its league per
# capita but not by sum. They were invited and have not logged in (no password).
DEMO_NEIGHBOURS = (
    ("王秀英", 1, 10.0),
    ("李桂兰", 1, 8.0),
    ("张建国", 1, 6.0),
    ("刘淑珍", 1, 4.0),
    ("陈志强", 1, 3.0),
    ("杨丽华", 1, 2.0),
    ("赵德明", 1, 1.0),
    ("黄玉梅", 2, 9.0),
    ("周卫东", 2, 7.0),
    ("吴春燕", 2, 5.0),
)


async def _load_neighbours(
    community_id: int, grid_id: int, team_id: int, organizer_id: int, grid_worker_id: int
) -> None:
    """The neighbours above, each with one verified service log; the first
    three patrol with the demo volunteer's team."""
    now = utc_now()
    second_grid = await create_organisation(
        name_zh="第二网格", name_en="Grid 2", level=Level.GRID, parent_id=community_id
    )
    verifiers = {1: await load_principal(grid_worker_id), 2: await load_principal(organizer_id)}
    grids = {1: grid_id, 2: second_grid.id}
    for number, (name, grid, hours) in enumerate(DEMO_NEIGHBOURS, start=1):
        member_id = await create_member(
            name=name, phone=f"1580000{number:04d}", home_organisation_id=grids[grid], roles=(Role.VOLUNTEER,)
        )
        await _joined_months_ago(member_id)
        if number <= 3:
            await add_team_member(team_id, member_id, actor_ref="demo")
        start = now - timedelta(days=2, hours=hours + 1)
        logged = await log_service(
            await load_principal(member_id),
            ServiceLogIn(title="社区志愿服务", started_at=start, ended_at=start + timedelta(hours=hours)),
            now=now - timedelta(days=2),
        )
        await verify_activity(verifiers[grid], logged.id, now=now - timedelta(days=1))


# (name_zh, name_en, category, price, stock, limit per month)
DEMO_CATALOG = (
    ("大米 5kg", "Rice 5 kg", "food", Decimal("30.00"), 20, 1),
    ("食用油 1.8L", "Cooking oil 1.8 L", "food", Decimal("25.00"), 15, 1),
    ("洗衣液", "Laundry liquid", "household", Decimal("15.00"), 30, 2),
    ("毛巾", "Towel", "household", Decimal("8.00"), 50, None),
    ("理发券", "Haircut voucher", "voucher", Decimal("10.00"), None, 1),
    ("笔记本", "Notebook", "stationery", Decimal("3.00"), 100, None),
)


async def _load_supermarket(community_id: int, organiser: Principal, staff_member_id: int) -> None:
    """The community's organiser opens the shop, takes on its clerk and stocks it."""
    shop = await create_shop(
        organiser,
        organisation_id=community_id,
        name_zh="平安风铃积分超市",
        name_en="Fengling Points Shop",
        address="平安社区服务中心一楼",
    )
    await add_staff(organiser, shop.id, staff_member_id)
    for name_zh, name_en, category, price, stock, per_month in DEMO_CATALOG:
        await create_item(
            organiser,
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


async def _load_earning(community_id: int, grid_id: int, volunteer_id: int, organizer_id: int, verifier_id: int) -> int:
    """A funded default campaign, a patrol team and task, and the demo
    volunteer's points earned the real way: submitted, then verified by the
    grid worker (every point traces to its activity, campaign and approver).
    One service log waits in the grid worker's queue. Returns the team's id."""
    now = utc_now()
    organizer = await load_principal(organizer_id)
    volunteer = await load_principal(volunteer_id)
    verifier = await load_principal(verifier_id)
    campaign = await create_campaign(
        organizer,
        organisation_id=community_id,
        title_zh="平安风铃积分行动",
        title_en="Fengling points programme",
        starts_at=now - timedelta(days=30),
        is_default=True,
        rules=DEMO_RULES,
    )
    await fund_campaign(organizer, campaign.id, amount=DEMO_BUDGET, idempotency_key="demo-budget")
    team = await create_team(
        organisation_id=community_id, name_zh="平安社区治安巡逻队", kind=TeamKind.PATROL, actor_ref="demo"
    )
    await add_team_member(team.id, volunteer_id, actor_ref="demo")
    await create_patrol_task(
        organizer, organisation_id=grid_id, title_zh="夜间巡逻：平安路—幸福街", description="19:00-21:00"
    )
    # Grab-order shifts (抢单) for the coming evenings: tomorrow's with a slot
    # taken by the demo volunteer, the weekend's at x1.5 points.
    for days, title, slots, multiplier in ((1, "明晚护学岗巡逻", 4, "1.00"), (3, "周末夜巡：学府巷", 6, "1.50")):
        evening = china_evening(now, days)
        shift = await create_patrol_task(
            organizer,
            organisation_id=grid_id,
            title_zh=title,
            area="平安路—幸福街—学府巷",
            grab_order=GrabOrder(
                starts_at=evening, ends_at=evening + timedelta(hours=2), slots=slots, multiplier=Decimal(multiplier)
            ),
            now=now,
        )
        if days == 1:
            await claim_task(volunteer, shift.id, now=now)

    patrol_start = now - timedelta(days=4, hours=2)
    patrol = await check_in_patrol(volunteer, PatrolCheckIn(position=HERE, team_id=team.id), now=patrol_start)
    await add_route_points(volunteer, patrol.id, _walk(patrol_start), now=patrol_start + timedelta(hours=2))
    await check_out_patrol(volunteer, patrol.id, HERE, now=patrol_start + timedelta(hours=2))
    hazard = await submit_report(
        volunteer,
        ReportIn(report_kind=ReportKind.HAZARD, title="消防通道被占用", description="3 号楼北侧", position=HERE),
        now=now - timedelta(days=3),
    )
    snap = await submit_report(
        volunteer,
        ReportIn(report_kind=ReportKind.SNAP, title="路灯损坏", position=HERE),
        now=now - timedelta(days=2),
    )
    mediation_start = now - timedelta(days=1, hours=5)
    mediation = await log_service(
        volunteer,
        ServiceLogIn(
            title="协助调解邻里纠纷", started_at=mediation_start, ended_at=mediation_start + timedelta(hours=2.5)
        ),
        now=now - timedelta(days=1),
    )
    for activity in (patrol, hazard, snap, mediation):
        await verify_activity(verifier, activity.id, now=now - timedelta(hours=12))
    await log_service(
        volunteer,
        ServiceLogIn(title="陪同独居老人就医", started_at=now - timedelta(hours=4), ended_at=now - timedelta(hours=2)),
        now=now,
    )
    return team.id
