"""The small world the authorisation matrix runs against, and the cheap
database fingerprint that proves a refused request changed nothing.

Two mirrored communities under one street, both issuing points, so that
"same node" and "foreign" mean the same thing for every role: community 1
holds the volunteer, grid worker, building head, shop staff of shop A and
organiser 1; community 2 holds organiser 2. The admin sits at the city,
above both. Each community (a ``Side``) has the same furniture: a grid and a
building, a peer volunteer living in the building (whose personal objects are
the "same-node" or "foreign" targets), a spare volunteer, a peer organiser
and a member who is admin higher up (the two re-invitation takeover
targets), a shop with an item, a funded default campaign, a team, a patrol
task, a manual adjustment, orders (placed and picked up) and activities in
the states the routes act on.

Built through the domain services, in the order a real community would
produce it. ``fingerprint`` reads every table in one statement;
``restore`` puts back the rows of the tables an allowed request changed,
so every cell of the matrix runs against the same pristine world.
"""

from __future__ import annotations

import dataclasses
import hashlib
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from activities.claim_rules import GrabOrder
from activities.models import Position, Status
from activities.patrol_tasks import claim_task, create_patrol_task
from activities.photos import register_photo
from activities.submissions import (
    PatrolCheckIn,
    ReportIn,
    ServiceLogIn,
    check_in_patrol,
    log_service,
    submit_report,
)
from activities.verification import HandleIn, handle_report, verify_activity
from api.activities.uploads import upload_folder
from campaigns.campaigns import create_campaign
from campaigns.funding import fund_campaign
from campaigns.rules import ReportKind
from community.access import Principal, load_principal
from community.accounts import issuance_code, open_wallet, wallet_code
from community.members import create_member, grant_role
from community.organisations import create_organisation
from community.roles import Level, Role
from community.tables import Member
from community.teams import TeamKind, add_team_member, create_team
from core import database
from core.clock import utc_now
from fraud.cases import case_for
from fraud.models import Subject
from fraud.tables import FraudAllowPair, FraudSnooze
from leaderboards.periods import china_date
from leaderboards.seasons import SeasonDraft, create_season
from ledger import posting
from marketplace.catalog import ItemDraft, create_item, set_image
from marketplace.orders import confirm_pickup, place_order
from marketplace.shops import add_staff, create_shop
from marketplace.signing_keys import pickup_token_of
from tests.support.community_helpers import PASSWORD, password_hash
from tests.support.database import all_tables, on_postgres
from tests.support.earning_helpers import default_rules

__all__ = ["PASSWORD", "ROLES", "Side", "World", "build_world", "fingerprint", "png_bytes", "restore", "snapshot"]

# The seven roles of the matrix (issue #8), in the order the report lists them.
ROLES = ("volunteer", "grid_worker", "building_head", "shop_staff_a", "organiser_1", "organiser_2", "admin")

HERE = Position(latitude=35.0606, longitude=118.3425, accuracy_m=10.0)
_phones = iter(range(10_000_000))


def _phone() -> str:
    return f"136{next(_phones):08d}"


def png_bytes(seed: int = 0) -> bytes:
    """A real 8×8 RGB PNG (decodes with any image library); ``seed`` varies
    the pixels, so each call site gets its own content address."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes((seed * 37 + x * 11 + y * 5) % 256 for x in range(24)) for y in range(8))
    header = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _store(kind: str, content: bytes) -> str:
    digest = hashlib.sha256(content).hexdigest()
    folder = upload_folder(kind)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / digest).write_bytes(content)
    return digest


@dataclass
class Person:
    id: int
    name: str
    phone: str


async def person(name: str, home: int, *grants: tuple[Role, int], volunteer: bool = False) -> Person:
    """A member who can log in with ``PASSWORD``, holding ``grants``
    ((role, organisation) pairs), with a wallet scoped to their home.

    Everyone gets a wallet: earners need one, and the managers' wallets
    stand for the ones older versions opened on ``GET /me/wallet``, so that
    "my own account" and self-credit have a target for every role."""
    phone = _phone()
    member_id = await create_member(
        name=name,
        phone=phone,
        home_organisation_id=home,
        roles=(Role.VOLUNTEER,) if volunteer else (),
        password_hash=password_hash(),
    )
    # Joined long ago: past the fraud rules' cooling-off, so orders are placed, not held.
    await Member.update({Member.created_at: utc_now() - timedelta(days=90)}).where(Member.id == member_id).run()
    for role, organisation_id in grants:
        await grant_role(member_id, organisation_id, role)
    await open_wallet(member_id, home)
    return Person(member_id, name, phone)


@dataclass
class Side:
    """One community and everything in it (see the module docstring)."""

    number: int
    community: int
    community_name: str
    grid: int
    building: int
    building_name: str
    grid_worker: Person  # a post holder who can be assigned reports
    building_head: Person  # holds building_head at the building (revoke target)
    peer: Person  # a volunteer living in the building: owner of the same-node/foreign objects
    spare: Person  # a volunteer in no team and no shop (add-to-team/staff target)
    peer_organiser: Person  # a second organiser of the community (takeover target)
    staff: Person  # works the shop's counter
    hidden_admin: Person  # lives in the building, admin at the district (takeover target)
    shop: int
    shop_name: str
    item: int
    item_name: str
    image_sha256: str
    campaign: int
    campaign_title: str
    team: int
    team_name: str
    patrol_task: int
    patrol_task_title: str
    grab_task: int  # a grab-order task at the grid, nobody's claim on it
    grab_task_title: str
    claimed_task: int  # a grab-order task the volunteer of side 1 holds a slot of
    adjustment_entry: int  # issuance → peer's wallet, by hand: reversible
    award_entry: int  # budget → peer's wallet for a verified activity: owned by that flow
    placed_order: int
    placed_code: str
    placed_token: str  # the signed pickup token of placed_order (its QR)
    fulfilled_order: int
    submitted_service: int
    service_title: str
    verified_report: int
    verified_report_title: str
    held_case: int  # a fraud review case: the peer's far-away report, held when verified
    snooze: int  # the burst rule snoozed for the peer (by the peer organiser)
    allow_pair: int  # the peer and the spare allow-listed as a pair
    handled_report: int
    open_patrol: int
    report_photo: str
    season: int = 0  # a season on the community, not yet begun (so it can be changed and deleted)
    season_name: str = ""

    @property
    def issuance(self) -> str:
        return issuance_code(self.community)

    def secrets(self) -> tuple[str, ...]:
        """Values that identify this community's objects and appear in no
        request: a response to someone refused them must not carry any."""
        return (
            self.peer.name,
            self.peer.phone,
            self.spare.name,
            self.shop_name,
            self.item_name,
            self.campaign_title,
            self.team_name,
            self.patrol_task_title,
            self.grab_task_title,
            self.placed_code,
            self.service_title,
            self.verified_report_title,
            self.season_name,
        )


@dataclass
class World:
    city: int
    district: int
    street: int
    sides: tuple[Side, Side]
    people: dict[str, Person]  # role → the member holding it
    own: dict[str, dict[str, Any]] = field(default_factory=dict)  # role → kind → own object
    tokens: dict[str, str] = field(default_factory=dict)  # role → bearer token
    pending: dict[int, int] = field(default_factory=dict)  # side number → a pending adjustment's id

    def side_of(self, role: str) -> Side:
        """The role's own community: community 2 for organiser 2, else 1."""
        return self.sides[1] if role == "organiser_2" else self.sides[0]

    def other_side(self, role: str) -> Side:
        return self.sides[0] if role == "organiser_2" else self.sides[1]


async def _snooze(member_id: int, by: int) -> int:
    rows = await FraudSnooze.insert(
        FraudSnooze(
            member=member_id,
            rule="burst",
            reason="手机时钟不准",
            expires_at=utc_now() + timedelta(days=30),
            created_by=by,
        )
    ).run()
    return int(rows[0]["id"])


async def _allow_pair(low: int, high: int, by: int) -> int:
    rows = await FraudAllowPair.insert(
        FraudAllowPair(member_low=min(low, high), member_high=max(low, high), reason="一家人共用手机", created_by=by)
    ).run()
    return int(rows[0]["id"])


async def _held_case(member: Principal, verifier: Principal, title: str) -> int:
    """A report 111 km from the member's other positions, moments later:
    the verifier's verify holds it for review (impossible travel); its case."""
    far = Position(latitude=HERE.latitude + 1.0, longitude=HERE.longitude, accuracy_m=10.0)
    report = await submit_report(member, ReportIn(report_kind=ReportKind.HAZARD, title=title, position=far))
    assert (await verify_activity(verifier, report.id)).status == Status.HELD
    case = await case_for(Subject.ACTIVITY, report.id)
    assert case is not None
    return case.id


async def _patrol_tasks(organiser: Principal, grid: int, titles: tuple[str, str, str]) -> tuple[int, int, int]:
    """A plain patrol task at the grid, and two grab-order tasks two days
    ahead: one nobody claims, one the volunteer of side 1 holds a slot of
    (claimed by ``build_world``)."""
    title, grab_title, claimed_title = titles
    task = await create_patrol_task(organiser, organisation_id=grid, title_zh=title)
    shift = GrabOrder(
        starts_at=utc_now() + timedelta(days=2),
        ends_at=utc_now() + timedelta(days=2, hours=4),
        slots=5,
        multiplier=Decimal("1.50"),
    )
    grab = await create_patrol_task(organiser, organisation_id=grid, title_zh=grab_title, grab_order=shift)
    claimed = await create_patrol_task(organiser, organisation_id=grid, title_zh=claimed_title, grab_order=shift)
    return task.id, grab.id, claimed.id


async def _side(number: int, street: int, district: int) -> Side:
    label = "平安" if number == 1 else "邻里"
    community = await create_organisation(
        name_zh=f"{label}社区", level=Level.COMMUNITY, parent_id=street, issues_points=True
    )
    grid = await create_organisation(name_zh=f"{label}第一网格", level=Level.GRID, parent_id=community.id)
    building_name = f"{label}{number}号楼"
    building = await create_organisation(name_zh=building_name, level=Level.BUILDING, parent_id=grid.id)
    grid_worker = await person(f"{label}网格员", grid.id, (Role.GRID_WORKER, grid.id))
    building_head = await person(f"{label}楼栋长", building.id, (Role.BUILDING_HEAD, building.id))
    peer = await person(f"{label}居民甲{number}", building.id, volunteer=True)
    spare = await person(f"{label}居民乙{number}", building.id, volunteer=True)
    peer_organiser = await person(f"{label}副书记", community.id, (Role.ORGANIZER, community.id))
    hidden_admin = await person(f"{label}区管理员", building.id, (Role.ADMIN, district))
    organiser_ref = f"member:{peer_organiser.id}"

    shop_name = f"{label}积分超市{number}号店"
    organiser = await load_principal(peer_organiser.id)
    shop = await create_shop(
        organiser, organisation_id=community.id, name_zh=shop_name, address=f"{label}路 {number} 号"
    )
    item_name = f"{label}牌洗衣液{number}"
    item = await create_item(
        organiser,
        community.id,
        ItemDraft(name_zh=item_name, category="household", price=Decimal("10.00"), stock=50, shop_ids=[shop.id]),
    )
    image_sha256 = _store("catalog", png_bytes(number))
    await set_image(organiser, item.id, image_sha256)

    campaign_title = f"{label}守望行动{number}"
    campaign = await create_campaign(
        organiser,
        organisation_id=community.id,
        title_zh=campaign_title,
        starts_at=utc_now() - timedelta(days=30),
        is_default=True,
        rules=default_rules(),
    )
    await fund_campaign(organiser, campaign.id, amount="500.00", idempotency_key=f"matrix-fund-{number}")
    team_name = f"{label}巡逻队{number}"
    team = await create_team(
        organisation_id=community.id, name_zh=team_name, kind=TeamKind.PATROL, actor_ref=organiser_ref
    )
    await add_team_member(team.id, peer.id, actor_ref=organiser_ref)
    patrol_task_title, grab_task_title = f"{label}夜巡任务{number}", f"{label}抢单巡逻{number}"
    task, grab_task, claimed_task = await _patrol_tasks(
        organiser, grid.id, (patrol_task_title, grab_task_title, f"{label}已抢巡逻{number}")
    )

    await posting.transfer(
        debit_code=issuance_code(community.id),
        credit_code=wallet_code(peer.id),
        amount="100.00",
        kind="award",
        reason_zh="志愿服务奖励",
    )
    adjustment = await posting.transfer(
        debit_code=issuance_code(community.id),
        credit_code=wallet_code(peer.id),
        amount="5.00",
        kind="adjustment",
        reason_zh="手工调整",
        actor_ref=organiser_ref,
    )

    peer_acting = await load_principal(peer.id)
    verifier = await load_principal(grid_worker.id)
    placed = await place_order(peer_acting, item_id=item.id, shop_id=shop.id, idempotency_key=f"matrix-placed-{number}")
    picked = await place_order(peer_acting, item_id=item.id, shop_id=shop.id, idempotency_key=f"matrix-picked-{number}")
    staff = await person(f"{label}店员{number}", community.id, (Role.SHOP_STAFF, community.id))
    await add_staff(organiser, shop.id, staff.id)
    await confirm_pickup(await load_principal(staff.id), shop_id=shop.id, code=picked.pickup_code)

    now = utc_now()
    service_title = f"{label}陪老人就医{number}"
    service = await log_service(
        peer_acting,
        ServiceLogIn(title=service_title, started_at=now - timedelta(hours=6), ended_at=now - timedelta(hours=5)),
    )
    photo = png_bytes(10 + number)
    report_photo = _store("reports", photo)
    await register_photo(sha256=report_photo, content_type="image/png", size_bytes=len(photo), member_id=peer.id)
    verified_title = f"{label}消防通道堵塞{number}"
    verified_report = await submit_report(
        peer_acting,
        ReportIn(report_kind=ReportKind.HAZARD, title=verified_title, position=HERE, photos=[report_photo]),
    )
    await verify_activity(verifier, verified_report.id)
    handled_report = await submit_report(
        peer_acting, ReportIn(report_kind=ReportKind.SNAP, title=f"{label}路灯损坏{number}", position=HERE)
    )
    award = await verify_activity(verifier, handled_report.id)
    await handle_report(verifier, handled_report.id, data=HandleIn(useful=False, feedback="已修复"))
    patrol = await check_in_patrol(peer_acting, PatrolCheckIn(position=HERE), now=now - timedelta(minutes=20))
    assert award.award_entry_id is not None

    return Side(
        number=number,
        community=community.id,
        community_name=community.name_zh,
        grid=grid.id,
        building=building.id,
        building_name=building_name,
        grid_worker=grid_worker,
        building_head=building_head,
        peer=peer,
        spare=spare,
        peer_organiser=peer_organiser,
        hidden_admin=hidden_admin,
        staff=staff,
        shop=shop.id,
        shop_name=shop_name,
        item=item.id,
        item_name=item_name,
        image_sha256=image_sha256,
        campaign=campaign.id,
        campaign_title=campaign_title,
        team=team.id,
        team_name=team_name,
        patrol_task=task,
        patrol_task_title=patrol_task_title,
        grab_task=grab_task,
        grab_task_title=grab_task_title,
        claimed_task=claimed_task,
        adjustment_entry=adjustment.id,
        award_entry=award.award_entry_id,
        placed_order=placed.id,
        placed_code=placed.pickup_code,
        placed_token=await pickup_token_of(peer_acting, placed.id),
        fulfilled_order=picked.id,
        submitted_service=service.id,
        service_title=service_title,
        verified_report=verified_report.id,
        verified_report_title=verified_title,
        held_case=await _held_case(peer_acting, verifier, f"{label}远处上报{number}"),
        snooze=await _snooze(peer.id, peer_organiser.id),
        allow_pair=await _allow_pair(peer.id, spare.id, peer_organiser.id),
        handled_report=handled_report.id,
        open_patrol=patrol.id,
        report_photo=report_photo,
    )


async def _with_season(side: Side) -> Side:
    """The side with a season on its community, starting tomorrow."""
    name = f"{'平安' if side.number == 1 else '邻里'}春季竞赛{side.number}"
    starts = china_date(utc_now()) + timedelta(days=1)
    organiser = await load_principal(side.peer_organiser.id)
    season = await create_season(organiser, SeasonDraft(name, "", side.community, starts, starts + timedelta(days=30)))
    return dataclasses.replace(side, season=season.id, season_name=name)


async def build_world() -> World:
    city = await create_organisation(name_zh="临沂市", level=Level.CITY)
    district = await create_organisation(name_zh="兰山区", level=Level.DISTRICT, parent_id=city.id)
    street = await create_organisation(name_zh="金雀山街道", level=Level.STREET, parent_id=district.id)
    one = await _with_season(await _side(1, street.id, district.id))
    two = await _with_season(await _side(2, street.id, district.id))
    people = {
        "volunteer": await person("张秀英", one.building, volunteer=True),
        "grid_worker": one.grid_worker,
        "building_head": one.building_head,
        "shop_staff_a": await person("王建国", one.community, (Role.SHOP_STAFF, one.community)),
        "organiser_1": await person("陈书记", one.community, (Role.ORGANIZER, one.community)),
        "organiser_2": await person("林书记", two.community, (Role.ORGANIZER, two.community)),
        "admin": await person("系统管理员", city.id, (Role.ADMIN, city.id)),
    }
    await add_staff(await load_principal(one.peer_organiser.id), one.shop, people["shop_staff_a"].id)
    world = World(city=city.id, district=district.id, street=street.id, sides=(one, two), people=people)
    for role, holder in people.items():
        side = world.side_of(role)
        # Points to spend, from the community they live in (the admin's from community 1).
        await posting.transfer(
            debit_code=side.issuance, credit_code=wallet_code(holder.id), amount="50.00", kind="award", reason_zh="奖励"
        )

    # The volunteer's own objects: an open order, a submitted service log, a
    # handled report (to rate), an open patrol, a photo; and a hand adjustment.
    volunteer = people["volunteer"].id
    now = utc_now()
    acting = await load_principal(volunteer)
    order = await place_order(acting, item_id=one.item, shop_id=one.shop, idempotency_key="matrix-own")
    service = await log_service(
        acting,
        ServiceLogIn(title="我的服务记录", started_at=now - timedelta(hours=8), ended_at=now - timedelta(hours=7)),
    )
    photo = png_bytes(99)
    own_photo = _store("reports", photo)
    await register_photo(sha256=own_photo, content_type="image/png", size_bytes=len(photo), member_id=volunteer)
    report = await submit_report(
        acting, ReportIn(report_kind=ReportKind.TIP, title="我的线索", position=HERE, photos=[own_photo])
    )
    one_verifier = await load_principal(one.grid_worker.id)
    await verify_activity(one_verifier, report.id)
    await handle_report(one_verifier, report.id, data=HandleIn(useful=False, feedback="已处理"))
    patrol = await check_in_patrol(acting, PatrolCheckIn(position=HERE), now=now - timedelta(minutes=15))
    adjustment = await posting.transfer(
        debit_code=one.issuance, credit_code=wallet_code(volunteer), amount="3.00", kind="adjustment", reason_zh="调整"
    )
    await add_team_member(one.team, volunteer, actor_ref=f"member:{one.peer_organiser.id}")
    await claim_task(acting, one.claimed_task)
    world.own["volunteer"] = {
        "claimed_task": one.claimed_task,
        "order": order.id,
        "service": service.id,
        "handled_report": report.id,
        "patrol": patrol.id,
        "photo": own_photo,
        "entry": adjustment.id,
    }
    world.own["shop_staff_a"] = {"shop": one.shop}
    return world


# --- "nothing changed": one statement reads every table ---------------------------


def _fingerprint_sql() -> str:
    parts = []
    for table in all_tables():
        name = table._meta.tablename
        key = table._meta.primary_key._meta.db_column_name
        if on_postgres():
            parts.append(
                f"SELECT '{name}' AS name, COUNT(*) AS n, "
                f"md5(COALESCE(string_agg(t::text, E'\\n' ORDER BY t.{key}), '')) AS digest FROM {name} t"
            )
        else:
            columns = " || '|' || ".join(f"quote({column._meta.db_column_name})" for column in table._meta.columns)
            parts.append(
                f"SELECT '{name}' AS name, (SELECT COUNT(*) FROM {name}) AS n, "
                f"(SELECT group_concat(r, char(10)) FROM (SELECT {columns} AS r FROM {name} ORDER BY {key})) AS digest"
            )
    return " UNION ALL ".join(parts)


_SQL: dict[bool, str] = {}


@dataclass(frozen=True)
class Fingerprint:
    """Rows and a digest per table, and every account's balance and held
    amount (in hundredths), so a difference names what moved."""

    tables: Mapping[str, tuple[int, str]]
    balances: Mapping[str, tuple[int, int]]

    def changes(self, other: Fingerprint) -> list[str]:
        moved = [
            f"{name}: {self.tables[name][0]} → {other.tables.get(name, (0, ''))[0]} rows"
            for name in self.tables
            if self.tables[name] != other.tables.get(name)
        ]
        moved += [
            f"balance {code}: {self.balances.get(code)} → {other.balances.get(code)}"
            for code in sorted(set(self.balances) | set(other.balances))
            if self.balances.get(code) != other.balances.get(code)
        ]
        return moved


async def fingerprint() -> Fingerprint:
    from ledger.tables import LedgerAccount

    sql = _SQL.setdefault(on_postgres(), _fingerprint_sql())
    rows = await LedgerAccount.raw(sql).run()
    tables = {
        row["name"]: (int(row["n"]), hashlib.sha256(str(row["digest"] or "").encode()).hexdigest()) for row in rows
    }
    accounts = await LedgerAccount.select(
        LedgerAccount.code, LedgerAccount.balance_minor, LedgerAccount.held_minor
    ).run()
    balances = {row["code"]: (row["balance_minor"], row["held_minor"]) for row in accounts}
    return Fingerprint(tables=tables, balances=balances)


Snapshot = dict[str, list[dict[str, Any]]]


async def snapshot() -> Snapshot:
    """Every row of every table, in key order (the world to restore)."""
    found: Snapshot = {}
    for table in all_tables():
        rows = await table.select().order_by(table._meta.primary_key).run()
        found[table._meta.tablename] = [dict(row) for row in rows]
    return found


async def restore(pristine: Snapshot, changed: set[str]) -> None:
    """Put the ``changed`` tables back to ``pristine`` in one transaction:
    rows added or altered since are deleted, missing or altered rows are
    inserted again with their ids. Foreign keys are checked at commit
    (SQLite) or not at all while restoring (PostgreSQL's replica role, which
    also skips the ledger's guard triggers); the end state is the pristine
    world, consistent by construction."""
    from ledger.tables import LedgerAccount

    db = database.engine()
    tables = {table._meta.tablename: table for table in all_tables()}
    async with db.transaction():
        if on_postgres():
            await LedgerAccount.raw("SET LOCAL session_replication_role = replica").run()
        else:
            await LedgerAccount.raw("PRAGMA defer_foreign_keys = ON").run()
        for name in sorted(changed):
            table = tables[name]
            key = table._meta.primary_key
            key_name = key._meta.name
            wanted = {row[key_name]: row for row in pristine[name]}
            current = {row[key_name]: dict(row) for row in await table.select().run()}
            stale = [k for k, row in current.items() if wanted.get(k) != row]
            missing = [row for k, row in wanted.items() if current.get(k) != row]
            if stale:
                await table.delete().where(key.is_in(stale)).run()
            if missing:
                await table.insert(*(table(_ignore_missing=True, **row) for row in missing)).run()
