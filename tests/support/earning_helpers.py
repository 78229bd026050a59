"""Building blocks for the earning tests: a grid with its people, campaigns
with budgets, and activities submitted a fixed time ago."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from activities.models import ActivityView, Position
from activities.submissions import RoutePointIn, ServiceLogIn, log_service
from campaigns.campaigns import create_campaign
from campaigns.funding import fund_campaign
from campaigns.models import CampaignWithBudget
from campaigns.rules import EarningRules
from community.access import load_principal
from community.members import grant_role
from community.organisations import create_organisation
from community.roles import Level, Role
from core.clock import utc_now
from tests.support.marketplace_helpers import fast_member

_key_counter = iter(range(10_000_000))


@dataclass
class World:
    city: int
    community: int  # issues points
    grid: int
    building: int
    other_grid: int
    organizer: int
    grid_worker: int
    building_head: int
    volunteers: list[int]

    async def campaign(
        self,
        *,
        budget: str | Decimal = "1000.00",
        rules: EarningRules | None = None,
        organisation_id: int | None = None,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        is_default: bool = True,
    ) -> CampaignWithBudget:
        organizer = await load_principal(self.organizer)
        campaign = await create_campaign(
            organizer,
            organisation_id=organisation_id or self.community,
            title_zh="平安巡逻月",
            starts_at=starts_at or utc_now() - timedelta(days=60),
            ends_at=ends_at,
            is_default=is_default,
            rules=rules or default_rules(),
        )
        if Decimal(budget) > 0:
            await fund_campaign(organizer, campaign.id, amount=budget, idempotency_key=f"fund-{next(_key_counter)}")
        return campaign


def last_china_noon() -> datetime:
    """The most recent 12:00 China time that has passed: a moment whose
    preceding hours lie on one China-time day, for tests of per-day caps."""
    china = ZoneInfo("Asia/Shanghai")
    now = utc_now().astimezone(china)
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    return (noon if noon <= now else noon - timedelta(days=1)).astimezone(UTC)


def default_rules(**overrides: object) -> EarningRules:
    rules: dict[str, object] = {
        "service_per_hour": {"default": "2.00", "patrol": "3.00"},
        "patrol_points": "5.00",
        "patrol_min_minutes": 30,
        "report_points": {"hazard": "3.00", "tip": "2.00", "dispute": "2.00", "snap": "1.00"},
        "report_useful_bonus": "4.00",
    }
    rules.update(overrides)
    return EarningRules.model_validate(rules)


async def build_world(volunteers: int = 3) -> World:
    """临沂市 → … → 平安社区 (issues points) → 第一网格 → 1 号楼, plus a
    second grid; an organiser of the community, a grid worker of the first
    grid, a building head of its building, and volunteers living there."""
    city = await create_organisation(name_zh="临沂市", level=Level.CITY)
    district = await create_organisation(name_zh="兰山区", level=Level.DISTRICT, parent_id=city.id)
    street = await create_organisation(name_zh="金雀山街道", level=Level.STREET, parent_id=district.id)
    community = await create_organisation(
        name_zh="平安社区", level=Level.COMMUNITY, parent_id=street.id, issues_points=True
    )
    grid = await create_organisation(name_zh="第一网格", level=Level.GRID, parent_id=community.id)
    building = await create_organisation(name_zh="1号楼", level=Level.BUILDING, parent_id=grid.id)
    other_grid = await create_organisation(name_zh="第二网格", level=Level.GRID, parent_id=community.id)
    organizer = await fast_member(community.id, "陈书记")
    await grant_role(organizer, community.id, Role.ORGANIZER)
    grid_worker = await fast_member(grid.id, "网格员小李")
    await grant_role(grid_worker, grid.id, Role.GRID_WORKER)
    building_head = await fast_member(building.id, "楼栋长老王")
    await grant_role(building_head, building.id, Role.BUILDING_HEAD)
    people = [await fast_member(grid.id, f"志愿者{n}") for n in range(volunteers)]
    return World(
        city=city.id,
        community=community.id,
        grid=grid.id,
        building=building.id,
        other_grid=other_grid.id,
        organizer=organizer,
        grid_worker=grid_worker,
        building_head=building_head,
        volunteers=people,
    )


async def service(
    member_id: int,
    *,
    minutes: int = 60,
    ago: timedelta = timedelta(hours=3),
    organisation_id: int | None = None,
    team_id: int | None = None,
    campaign_id: int | None = None,
    now: datetime | None = None,
) -> ActivityView:
    now = now or utc_now()
    start = now - ago
    return await log_service(
        await load_principal(member_id),
        ServiceLogIn(
            title="帮老人买菜",
            started_at=start,
            ended_at=start + timedelta(minutes=minutes),
            organisation_id=organisation_id,
            team_id=team_id,
            campaign_id=campaign_id,
        ),
        now=now,
    )


def walked_route(start: datetime, minutes: int, origin: Position) -> list[RoutePointIn]:
    """What an honest phone records on a patrol: a point every 5 minutes,
    wandering a few dozen metres at a time, with an accuracy that varies
    (the fraud rules hold a patrol with no route, or a fake-looking one)."""
    points = []
    for n in range(1, max(1, minutes // 5)):
        position = Position(
            latitude=origin.latitude + n * 0.00025 + (n % 3) * 0.00004,
            longitude=origin.longitude + (n % 4) * 0.00018 - (n % 2) * 0.00007,
            accuracy_m=5.0 + (n * 7) % 13,
        )
        points.append(RoutePointIn(position=position, at=start + timedelta(minutes=5 * n)))
    return points
