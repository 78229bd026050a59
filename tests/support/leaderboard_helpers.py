"""Building blocks for the leaderboard tests: a small tree with a team,
awards and reversals posted straight through the ledger as
``campaigns.budget`` posts them, Redis per test, and a whole-Redis snapshot
of the boards for comparing the feed with a rebuild."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from redis.asyncio import Redis

from api.redis_client import build_redis
from community.accounts import issuance_code
from community.organisations import create_organisation
from community.roles import Level
from community.tables import Team, TeamMember
from core.clock import utc_now
from fengling_settings import get_settings
from leaderboards.keys import PREFIX
from leaderboards.redis_boards import text
from ledger import accounts, posting
from ledger.models import EntryRecord
from ledger.reversal import reverse_entry
from tests.support.marketplace_helpers import fast_member

CAMPAIGN_ID = 1
BUDGET = f"campaign:{CAMPAIGN_ID}:budget"
SHOP = "shop:1:settlement"


@asynccontextmanager
async def fresh_redis() -> AsyncIterator[Redis]:
    """The configured Redis (the stand-in or a real one), empty."""
    redis = build_redis(get_settings())
    await redis.flushdb()
    try:
        yield redis
    finally:
        await redis.flushdb()
        await redis.aclose()


@dataclass
class Town:
    community: int
    grid: int
    other_grid: int
    team: int
    members: list[int]  # the first two in the team; the last in the other grid


async def build_town(volunteers: int = 4) -> Town:
    city = await create_organisation(name_zh="临沂市", level=Level.CITY)
    community = await create_organisation(
        name_zh="平安社区", level=Level.COMMUNITY, parent_id=city.id, issues_points=True
    )
    grid = await create_organisation(name_zh="第一网格", level=Level.GRID, parent_id=community.id)
    other_grid = await create_organisation(name_zh="第二网格", level=Level.GRID, parent_id=community.id)
    names = ["张小英", "李明", "王大力", "赵六", "钱七", "孙八"]
    members = [await fast_member(grid.id, names[n % len(names)]) for n in range(volunteers - 1)]
    members.append(await fast_member(other_grid.id, "周九"))
    team_rows = await Team.insert(Team(organisation=community.id, name_zh="红袖标巡逻队", kind="patrol")).run()
    team = int(team_rows[0]["id"])
    joined = utc_now() - timedelta(days=400)
    await TeamMember.insert(*(TeamMember(team=team, member=m, joined_at=joined) for m in members[:2])).run()
    await accounts.open_account(issuance_code(community.id), account_type="equity", allow_negative=True)
    await accounts.open_account(BUDGET, account_type="asset")
    await accounts.open_account(SHOP, account_type="liability")
    await posting.transfer(
        debit_code=issuance_code(community.id),
        credit_code=BUDGET,
        amount="100000.00",
        kind="campaign_fund",
        reason_zh="注资",
    )
    return Town(community=community.id, grid=grid.id, other_grid=other_grid.id, team=team, members=members)


async def award(member_id: int, amount: str | Decimal, organisation_id: int, kind: str = "award") -> EntryRecord:
    """What ``campaigns.budget.pay`` posts for a verified activity."""
    return await posting.transfer(
        debit_code=BUDGET,
        credit_code=f"volunteer:{member_id}:wallet",
        amount=amount,
        kind=kind,
        reason_zh="志愿服务积分：巡逻",
        metadata={"campaign_id": CAMPAIGN_ID, "organisation_id": organisation_id},
    )


async def take_back(entry_id: int) -> EntryRecord:
    return await reverse_entry(entry_id, reason_zh="驳回")


async def spend(member_id: int, amount: str | Decimal) -> EntryRecord:
    return await posting.transfer(
        debit_code=f"volunteer:{member_id}:wallet",
        credit_code=SHOP,
        amount=amount,
        kind="redemption",
        reason_zh="兑换商品",
    )


async def board_snapshot(redis: Redis) -> dict[str, object]:
    """Every board key's content (sorted sets, hashes, sums), for comparison."""
    snapshot: dict[str, object] = {}
    async for raw in redis.scan_iter(match=f"{PREFIX}:{{*", count=1000):
        key = text(raw)
        if key.endswith((":seq", ":vis", ":visgen", ":periods")) or key.startswith(("lb:{feed}", "lb:{member:")):
            continue
        kind = text(await redis.type(key))
        if kind == "zset":
            rows: list[Any] = list(await redis.zrange(key, 0, -1, withscores=True))
            snapshot[key] = [(text(member), score) for member, score in rows]
        elif kind == "hash":
            snapshot[key] = {text(k): text(v) for k, v in (await redis.hgetall(key)).items()}
        elif kind == "string":
            value = int(await redis.get(key) or 0)
            if value:
                snapshot[key] = value
    return snapshot


async def number_at(redis: Redis, key: str) -> int:
    """A string key holding an integer (0 when absent)."""
    value = await redis.get(key)
    return int(text(value)) if value is not None else 0
