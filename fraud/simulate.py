"""The seeded fraud corpus: a synthetic programme with planted fraud of
every kind the rules know, and the gate that scores the rules on it.

``generate(seed, weeks, scale)`` builds, deterministically from its seed,
a programme of grids (a grid worker, two building heads, volunteers, two
shops each) and ``weeks`` of honest activity: service logs, patrols with
real-looking GPS routes, reports with photos, an offline phone uploading a
day's queue at once, honest confirmations of each other's reports,
verifications by the grid's staff some hours later, and redemptions of
part of a balance. Into it, it plants fraud of every kind: impossible
travel, bursts, new-account cooling-off (an award and a redemption), near
duplicate photos, thin or fake patrols (too few points, a perfect line, a
grid, one repeated accuracy value, a frozen position), verifier–volunteer
concentration (one verifier, and a pair verifying each other), and cashing
out (a ring of wallets funded by two verifiers emptied at one shop, and a
wallet emptied right after a burst of awards).

The labels are kept apart from the data (``Corpus.labels``), keyed by
subject: ``planted`` fraud must be flagged (review or deny), a
``confirmation`` must be found by the duplicate-report rule and allowed,
and ``prelude`` marks the part of a pattern no rule can see yet (the first
approvals of a colluding pair, before there are enough to be unusual; the
first wallets of a ring, before it has formed): it is counted neither as
fraud to find nor as honest. Everything unlabelled is honest.

``contexts(corpus)`` turns each award (at its verification) and each order
(at its placement) into the ``ScreeningContext`` the screening service
would load from the database, under the same windows, and ``score(corpus,
rules_by_subject)`` runs the rules and reports recall, false positives and
each rule's precision and recall; ``failures`` says what breaks the gate.
``write_jsonl`` exports the corpus (labels in their own file) as a
realistic data set for benchmarks; ``scale`` multiplies the grids.

Pure and in memory: no database, no clock.
"""

from __future__ import annotations

import bisect
import json
import math
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from fraud.models import (
    DEFAULT_THRESHOLDS,
    AwardFact,
    Fix,
    Funding,
    OrderFacts,
    Outcome,
    PatrolFacts,
    PhotoPrint,
    PriorReport,
    ReportFacts,
    ScreeningContext,
    ShopRedemption,
    Subject,
    Submission,
    Thresholds,
    VerifierFacts,
)
from fraud.rules import RULES_BY_SUBJECT, Rule, decide

# The screening service's windows (activities.screening), mirrored here so
# a corpus context holds what the service would load.
HISTORY_WINDOW = timedelta(hours=24)
PHOTO_WINDOW = timedelta(days=30)

# 临沂: the programme's grids lie around this point, about a kilometre apart.
CITY_LAT, CITY_LON = 35.1041, 118.3564
GRID_SPACING_DEG = 0.01
GRID_HALF_WIDTH_M = 400.0
VOLUNTEERS_PER_GRID = 30
START = datetime(2026, 9, 7, 0, 0, tzinfo=UTC)  # a Monday, 08:00 China time
MAX_FALSE_POSITIVE_RATE = 0.01

SERVICE_RATE = Decimal("2.00")  # points an hour
PATROL_POINTS = Decimal("5.00")
REPORT_POINTS = {"hazard": Decimal("3.00"), "tip": Decimal("2.00"), "dispute": Decimal("2.00"), "snap": Decimal("1.00")}
LARGE_AWARD = Decimal("60.00")


class CorpusLabel(StrEnum):
    PLANTED = "planted"  # fraud: must be flagged review or deny
    CONFIRMATION = "confirmation"  # a later report of the same thing: found, allowed, paid its share
    PRELUDE = "prelude"  # part of a pattern not yet visible: neither fraud to find nor honest


@dataclass(frozen=True, slots=True)
class Tag:
    """What a labelled subject is: its label and the rule that should find it."""

    label: CorpusLabel
    rule: str


@dataclass(slots=True)
class SimMember:
    id: int
    grid: int
    joined_at: datetime
    post: str = "volunteer"  # or grid_worker, building_head


@dataclass(slots=True)
class SimActivity:
    id: int
    member_id: int
    kind: str  # service, patrol, report
    started_at: datetime
    submitted_at: datetime
    recorded_at: datetime | None
    amount: Decimal
    verifier_id: int
    verified_at: datetime
    minutes: int = 0
    report_kind: str = ""
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None
    route: tuple[Fix, ...] = ()
    photos: tuple[PhotoPrint, ...] = ()


@dataclass(slots=True)
class SimOrder:
    id: int
    member_id: int
    shop_id: int
    placed_at: datetime
    amount: Decimal


@dataclass(slots=True)
class Corpus:
    """A generated programme. ``labels`` is the answer key, never shown to
    the rules; a subject without a label is honest."""

    seed: int
    weeks: int
    scale: int
    members: dict[int, SimMember] = field(default_factory=dict)
    activities: list[SimActivity] = field(default_factory=list)
    orders: list[SimOrder] = field(default_factory=list)
    shops: dict[int, int] = field(default_factory=dict)  # shop → grid
    labels: dict[tuple[Subject, int], Tag] = field(default_factory=dict)


# Generating ---------------------------------------------------------------------


class _Builder:
    """The generator's state: the random stream, id counters and each
    member's busy times (so planted events do not touch honest ones)."""

    def __init__(self, seed: int, weeks: int, scale: int) -> None:
        self.rng = random.Random(seed)
        self.corpus = Corpus(seed=seed, weeks=weeks, scale=scale)
        self.end = START + timedelta(weeks=weeks)
        self._ids = iter(range(1, 10**9))
        self.busy: dict[int, list[datetime]] = defaultdict(list)
        self.grid_staff: dict[int, tuple[int, int, int]] = {}  # grid → (worker, head A, head B)
        self.building_of: dict[int, int] = {}  # volunteer → 0 or 1
        self.volunteers: dict[int, list[int]] = defaultdict(list)
        self.shops_of: dict[int, list[int]] = defaultdict(list)

    def next_id(self) -> int:
        return next(self._ids)

    # Places and times ---------------------------------------------------------

    def centre(self, grid: int) -> tuple[float, float]:
        return CITY_LAT + (grid % 5) * GRID_SPACING_DEG, CITY_LON + (grid // 5) * GRID_SPACING_DEG

    def place(self, grid: int) -> tuple[float, float]:
        lat, lon = self.centre(grid)
        north = self.rng.uniform(-GRID_HALF_WIDTH_M, GRID_HALF_WIDTH_M)
        east = self.rng.uniform(-GRID_HALF_WIDTH_M, GRID_HALF_WIDTH_M)
        return offset(lat, lon, east, north)

    def daytime(self, week: int) -> datetime:
        """A moment between 08:00 and 20:00 China time in ``week``."""
        day = self.rng.randrange(7)
        return START + timedelta(weeks=week, days=day, minutes=self.rng.randrange(12 * 60))

    def is_free(self, member_id: int, moment: datetime, margin: timedelta) -> bool:
        return all(abs(moment - other) >= margin for other in self.busy[member_id])

    def free_time(
        self, member_id: int, margin: timedelta, *, after: datetime | None = None, before: datetime | None = None
    ) -> datetime:
        """A daytime moment (between ``after`` and ``before``, if given) with
        none of the member's activity within ``margin``."""
        for _ in range(2000):
            moment = self.daytime(self.rng.randrange(self.corpus.weeks))
            inside = (after is None or moment > after) and (before is None or moment < before)
            if inside and self.is_free(member_id, moment, margin):
                return moment
        raise RuntimeError(f"no free time left for member {member_id}; generate more weeks")

    def verify_at(self, submitted: datetime) -> datetime:
        return submitted + timedelta(minutes=self.rng.randrange(60, 36 * 60))

    def phash(self) -> str:
        return f"{self.rng.getrandbits(64):016x}"

    # People ---------------------------------------------------------------------

    def member(self, grid: int, *, joined_days_ago: float, post: str = "volunteer") -> int:
        member_id = self.next_id()
        joined = START - timedelta(days=joined_days_ago)
        self.corpus.members[member_id] = SimMember(member_id, grid, joined, post)
        return member_id

    def grid(self, grid: int) -> None:
        worker = self.member(grid, joined_days_ago=self.rng.uniform(200, 900), post="grid_worker")
        heads = [self.member(grid, joined_days_ago=self.rng.uniform(200, 900), post="building_head") for _ in range(2)]
        self.grid_staff[grid] = (worker, heads[0], heads[1])
        for n in range(VOLUNTEERS_PER_GRID):
            volunteer = self.member(grid, joined_days_ago=self.rng.uniform(30, 600))
            self.building_of[volunteer] = n % 2
            self.volunteers[grid].append(volunteer)
        for _ in range(2):
            shop = self.next_id()
            self.corpus.shops[shop] = grid
            self.shops_of[grid].append(shop)

    def honest_verifier(self, member_id: int) -> int:
        member = self.corpus.members[member_id]
        worker, head_a, head_b = self.grid_staff[member.grid]
        if self.rng.random() < 0.7:
            return worker
        return head_a if self.building_of.get(member_id, 0) == 0 else head_b

    # Activities -----------------------------------------------------------------

    def add(self, activity: SimActivity, tag: Tag | None = None) -> SimActivity:
        self.corpus.activities.append(activity)
        self.busy[activity.member_id].append(activity.started_at)
        if tag is not None:
            self.corpus.labels[(Subject.ACTIVITY, activity.id)] = tag
        return activity

    def service(self, member_id: int, start: datetime, *, verifier: int | None = None) -> SimActivity:
        minutes = self.rng.choice((60, 90, 120, 180, 240))
        end = start + timedelta(minutes=minutes)
        return SimActivity(
            id=self.next_id(),
            member_id=member_id,
            kind="service",
            started_at=start,
            submitted_at=end + timedelta(minutes=self.rng.randrange(1, 120)),
            recorded_at=end + timedelta(minutes=self.rng.randrange(0, 5)),
            amount=(SERVICE_RATE * minutes / 60).quantize(Decimal("0.01")),
            verifier_id=verifier or self.honest_verifier(member_id),
            verified_at=self.verify_at(end + timedelta(hours=2)),
            minutes=minutes,
        )

    def honest_route(self, grid: int, start: datetime, minutes: int) -> tuple[Fix, ...]:
        """A phone walking the streets: a point every 2-6 minutes, a
        wandering heading, GPS noise, an accuracy that varies."""
        lat, lon = self.place(grid)
        heading = self.rng.uniform(0, 2 * math.pi)
        east = north = 0.0
        fixes: list[Fix] = []
        elapsed = 0.0
        while True:
            # The error a phone reports is about two standard deviations of its noise.
            accuracy = round(self.rng.uniform(3.0, 30.0), 1)
            noise = accuracy / 2
            noisy = offset(lat, lon, east + self.rng.gauss(0, noise), north + self.rng.gauss(0, noise))
            fixes.append(Fix(noisy[0], noisy[1], accuracy, start + timedelta(minutes=elapsed), "route", True))
            if elapsed >= minutes:
                return tuple(fixes)
            step = self.rng.uniform(2, 6)
            step = minutes - elapsed if minutes - elapsed < step + 1 else step
            elapsed += step
            heading += self.rng.gauss(0, 0.6)
            metres = step * 60 * self.rng.uniform(0.6, 1.3)  # walking pace
            east += math.cos(heading) * metres
            north += math.sin(heading) * metres

    def patrol(self, member_id: int, start: datetime, route: tuple[Fix, ...] | None = None) -> SimActivity:
        grid = self.corpus.members[member_id].grid
        minutes = self.rng.choice((40, 60, 90))
        route = route if route is not None else self.honest_route(grid, start, minutes)
        end = start + timedelta(minutes=minutes)
        first = route[0]
        return SimActivity(
            id=self.next_id(),
            member_id=member_id,
            kind="patrol",
            started_at=start,
            submitted_at=end,
            recorded_at=None,  # a patrol's check-in is the server's arrival time
            amount=PATROL_POINTS,
            verifier_id=self.honest_verifier(member_id),
            verified_at=self.verify_at(end),
            minutes=minutes,
            latitude=first.latitude,
            longitude=first.longitude,
            accuracy_m=first.accuracy_m,
            route=route,
        )

    def report(
        self,
        member_id: int,
        moment: datetime,
        *,
        where: tuple[float, float] | None = None,
        kind: str | None = None,
        phash: str | None = None,
        submitted_at: datetime | None = None,
    ) -> SimActivity:
        grid = self.corpus.members[member_id].grid
        kind = kind or self.rng.choice(tuple(REPORT_POINTS))
        lat, lon = where or self.place(grid)
        activity_id = self.next_id()
        arrived = submitted_at or moment + timedelta(seconds=self.rng.randrange(5, 90))
        photo = PhotoPrint(f"{self.rng.getrandbits(256):064x}", phash or self.phash(), activity_id, member_id)
        return SimActivity(
            id=activity_id,
            member_id=member_id,
            kind="report",
            started_at=moment,
            submitted_at=arrived,
            recorded_at=moment,
            amount=REPORT_POINTS[kind],
            verifier_id=self.honest_verifier(member_id),
            verified_at=self.verify_at(arrived),
            report_kind=kind,
            latitude=lat,
            longitude=lon,
            accuracy_m=round(self.rng.uniform(5, 25), 1),
            photos=(photo,),
        )

    def honest_week(self, member_id: int, week: int) -> None:
        makers: list[Callable[[int, datetime], SimActivity]] = [self.service, self.patrol, self.report]
        for _ in range(self.rng.randrange(2, 6)):
            make = self.rng.choice(makers)
            for _ in range(50):
                moment = self.daytime(week)
                if self.is_free(member_id, moment, timedelta(hours=5)):
                    break
            else:
                continue
            made = make(member_id, moment)
            if made.kind == "report" and self.collides(made):
                continue  # two honest reports of one thing are planted as confirmations, not by chance
            self.add(made)

    def collides(self, report: SimActivity) -> bool:
        """Another report of the same kind within twice the duplicate radius and window."""
        for other in self.corpus.activities:
            if other.kind != "report" or other.report_kind != report.report_kind:
                continue
            if abs(other.started_at - report.started_at) > 2 * timedelta(minutes=DEFAULT_THRESHOLDS.duplicate_minutes):
                continue
            if fix_distance_m(other.latitude, other.longitude, report.latitude, report.longitude) < 400:
                return True
        return False

    def offline_day(self, member_id: int) -> None:
        """An honest phone offline all day: eight reports recorded an hour
        apart, uploaded in the same minute in the evening."""
        day = self.free_time(member_id, timedelta(hours=14))
        upload = day + timedelta(hours=9)
        for hour in range(8):
            moment = day + timedelta(hours=hour, minutes=self.rng.randrange(50))
            made = self.report(member_id, moment, submitted_at=upload + timedelta(seconds=hour))
            made.verified_at = self.verify_at(upload)
            if not self.collides(made):
                self.add(made)

    # Orders ---------------------------------------------------------------------

    def balance(self, member_id: int, moment: datetime) -> Decimal:
        earned = sum(
            (a.amount for a in self.corpus.activities if a.member_id == member_id and a.verified_at <= moment),
            Decimal(0),
        )
        spent = sum(
            (o.amount for o in self.corpus.orders if o.member_id == member_id and o.placed_at <= moment), Decimal(0)
        )
        return earned - spent

    def order(self, member_id: int, shop: int, moment: datetime, amount: Decimal, tag: Tag | None = None) -> SimOrder:
        placed = SimOrder(self.next_id(), member_id, shop, moment, amount)
        self.corpus.orders.append(placed)
        if tag is not None:
            self.corpus.labels[(Subject.ORDER, placed.id)] = tag
        return placed

    def honest_orders(self, member_id: int) -> None:
        member = self.corpus.members[member_id]
        for week in range(1, self.corpus.weeks):
            if self.rng.random() > 0.3:
                continue
            moment = self.daytime(week)
            if moment - member.joined_at < timedelta(days=DEFAULT_THRESHOLDS.cooling_days + 1):
                continue
            balance = self.balance(member_id, moment)
            amount = (balance * Decimal(self.rng.uniform(0.1, 0.6))).quantize(Decimal("0.01"))
            if amount >= Decimal("1.00"):
                self.order(member_id, self.rng.choice(self.shops_of[member.grid]), moment, amount)


# Planted fraud -------------------------------------------------------------------


def _planted(rule: str) -> Tag:
    return Tag(CorpusLabel.PLANTED, rule)


def _prelude(rule: str) -> Tag:
    return Tag(CorpusLabel.PRELUDE, rule)


def _plant_travel(b: _Builder, member_id: int) -> None:
    """A report at home, then one 40-90 km away ten minutes later."""
    start = b.free_time(member_id, timedelta(hours=4))
    near = b.report(member_id, start)
    lat, lon = b.centre(b.corpus.members[member_id].grid)
    far = b.report(
        member_id,
        start + timedelta(minutes=b.rng.randrange(5, 15)),
        where=offset(lat, lon, 0, b.rng.uniform(40_000, 90_000)),
    )
    b.add(near, _planted("impossible_travel"))
    b.add(far, _planted("impossible_travel"))


def _plant_burst(b: _Builder, member_id: int) -> None:
    """Seven reports recorded on the phone within eight minutes."""
    start = b.free_time(member_id, timedelta(hours=3))
    made = [b.report(member_id, start + timedelta(seconds=n * 70)) for n in range(7)]
    last = max(item.submitted_at for item in made)
    for item in made:
        item.verified_at = b.verify_at(last)
        b.add(item, _planted("burst"))


def _plant_cooling(b: _Builder, grid: int) -> None:
    """A member who joined days ago: a large award; another one redeems."""
    week = b.rng.randrange(1, b.corpus.weeks)
    moment = b.daytime(week)
    newcomer = b.member(grid, joined_days_ago=(START - moment).total_seconds() / 86400 + b.rng.uniform(1, 5))
    b.building_of[newcomer] = 0
    large = b.service(newcomer, moment)
    large.amount = LARGE_AWARD
    b.add(large, _planted("cooling_off"))
    buyer = b.member(grid, joined_days_ago=(START - moment).total_seconds() / 86400 + b.rng.uniform(0.5, 2))
    b.building_of[buyer] = 1
    small = b.report(buyer, moment + timedelta(hours=1))
    b.add(small)
    b.order(
        buyer,
        b.rng.choice(b.shops_of[grid]),
        small.verified_at + timedelta(hours=2),
        small.amount,
        _planted("cooling_off"),
    )


def _plant_photo(b: _Builder, member_id: int) -> None:
    """Another member's photo, a few bits changed, sent as a new report
    after the original was verified."""
    halfway = START + timedelta(weeks=b.corpus.weeks) / 2
    originals = [
        a
        for a in b.corpus.activities
        if a.kind == "report" and a.member_id != member_id and a.photos and a.verified_at < halfway
    ]
    original = b.rng.choice(originals)
    flipped = int(original.photos[0].phash, 16)
    for bit in b.rng.sample(range(64), b.rng.randrange(1, 5)):
        flipped ^= 1 << bit
    # Within the window of photos compared (the screening service's PHOTO_WINDOW).
    moment = b.free_time(
        member_id,
        timedelta(hours=4),
        after=original.verified_at + timedelta(hours=1),
        before=original.submitted_at + PHOTO_WINDOW - timedelta(days=2),
    )
    b.add(b.report(member_id, moment, phash=f"{flipped:016x}"), _planted("near_duplicate_photo"))


def _fake_route(b: _Builder, grid: int, start: datetime, style: str) -> tuple[Fix, ...]:
    lat, lon = b.place(grid)
    minutes = 60
    if style == "too_few_points":
        route = b.honest_route(grid, start, minutes)
        return (route[0], route[-1])
    points: list[Fix] = []
    east = north = 0.0
    for n in range(13):
        at = start + timedelta(minutes=n * 5)
        if style == "straight_line":
            east, north = n * 28.0, n * 11.0
            accuracy: float = round(b.rng.uniform(4, 20), 1)
        elif style == "grid":
            if n:
                dx, dy = b.rng.choice(((1, 0), (0, 1), (-1, 0), (0, -1)))
                east, north = east + dx * 50, north + dy * 50
            accuracy = round(b.rng.uniform(4, 20), 1)
        elif style == "frozen":
            accuracy = round(b.rng.uniform(4, 20), 1)
        else:  # repeated accuracy: a wandering route, but one accuracy value throughout
            east += b.rng.uniform(-20, 60)
            north += b.rng.uniform(-20, 60)
            accuracy = 10.0
        point = offset(lat, lon, east, north)
        points.append(Fix(point[0], point[1], accuracy, at, "route", True))
    return tuple(points)


PATROL_FAKES = ("too_few_points", "straight_line", "grid", "repeated_accuracy", "frozen")


def _plant_patrol(b: _Builder, member_id: int, style: str) -> None:
    start = b.free_time(member_id, timedelta(hours=5))
    grid = b.corpus.members[member_id].grid
    made = b.patrol(member_id, start, _fake_route(b, grid, start, style))
    made.minutes = 60
    made.submitted_at = start + timedelta(minutes=60)
    made.verified_at = b.verify_at(made.submitted_at)
    b.add(made, _planted("thin_patrol"))


def _plant_confirmation(b: _Builder, first_member: int, second_member: int) -> None:
    """Two members report the same problem: the later one is a confirmation."""
    moment = b.free_time(first_member, timedelta(hours=4))
    first = b.report(first_member, moment)
    if first.latitude is None or first.longitude is None or not b.is_free(second_member, moment, timedelta(hours=4)):
        return
    b.add(first)
    near = offset(first.latitude, first.longitude, b.rng.uniform(-40, 40), b.rng.uniform(-40, 40))
    later = b.report(
        second_member, moment + timedelta(minutes=b.rng.randrange(5, 40)), where=near, kind=first.report_kind
    )
    b.add(later, Tag(CorpusLabel.CONFIRMATION, "duplicate_report"))


def _plant_concentration(b: _Builder, grid: int) -> None:
    """A colluding verifier who approves one volunteer's work and almost
    nobody else's; the first approvals are too few to be unusual."""
    colluder = b.member(grid, joined_days_ago=b.rng.uniform(200, 600), post="building_head")
    volunteer = b.member(grid, joined_days_ago=b.rng.uniform(200, 600))
    b.building_of[volunteer] = 0
    made = []
    for week in range(b.corpus.weeks):
        for _ in range(3):
            moment = b.daytime(week)
            if b.is_free(volunteer, moment, timedelta(hours=5)):
                item = b.service(volunteer, moment, verifier=colluder)
                b.busy[volunteer].append(moment)
                made.append(item)
    made.sort(key=lambda item: item.verified_at)
    rule = "verifier_concentration"
    days: set[str] = set()
    for n, item in enumerate(made, start=1):
        days.add(china_day(item.started_at))
        visible = n >= DEFAULT_THRESHOLDS.concentration_min and len(days) >= DEFAULT_THRESHOLDS.concentration_min_days
        b.add(item, _planted(rule) if visible else _prelude(rule))


def _plant_mutual(b: _Builder, grid: int) -> None:
    """Two members with posts who verify each other's service."""
    one = b.member(grid, joined_days_ago=b.rng.uniform(200, 600), post="building_head")
    two = b.member(grid, joined_days_ago=b.rng.uniform(200, 600), post="building_head")
    made: list[SimActivity] = []
    for week in range(b.corpus.weeks):
        for member, other in ((one, two), (two, one)):
            moment = b.daytime(week)
            if b.is_free(member, moment, timedelta(hours=5)):
                made.append(b.service(member, moment, verifier=other))
                b.busy[member].append(moment)
    made.sort(key=lambda item: item.verified_at)
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for item in made:
        counts[(item.member_id, item.verifier_id)] += 1
        pair, reverse = counts[(item.member_id, item.verifier_id)], counts[(item.verifier_id, item.member_id)]
        visible = pair >= DEFAULT_THRESHOLDS.mutual_min and reverse >= DEFAULT_THRESHOLDS.mutual_min
        b.add(item, _planted("verifier_concentration") if visible else _prelude("verifier_concentration"))


def _plant_drain(b: _Builder, member_id: int) -> None:
    """Five awards verified within half a day, then the whole balance spent."""
    grid = b.corpus.members[member_id].grid
    start = b.free_time(member_id, timedelta(hours=10))
    made = [b.report(member_id, start + timedelta(hours=2 * n)) for n in range(5)]
    verified = start + timedelta(hours=11)
    for n, item in enumerate(made):
        item.amount = Decimal("20.00")
        item.verified_at = verified + timedelta(minutes=30 * n)
        b.add(item, _prelude("cashing_out"))
    moment = verified + timedelta(hours=4)
    b.order(member_id, b.rng.choice(b.shops_of[grid]), moment, b.balance(member_id, moment), _planted("cashing_out"))


def _plant_ring(b: _Builder, grid: int) -> None:
    """Two colluding verifiers fund seven wallets over two weeks; each
    wallet is then emptied at one shop. The ring shows from the fifth."""
    rule = "cashing_out"
    verifiers = [b.member(grid, joined_days_ago=b.rng.uniform(200, 600), post="building_head") for _ in range(2)]
    wallets = [b.member(grid, joined_days_ago=b.rng.uniform(60, 600)) for _ in range(7)]
    shop = b.rng.choice(b.shops_of[grid])
    first_week = max(0, b.corpus.weeks - 3)
    for wallet in wallets:
        b.building_of[wallet] = 1
        for n in range(4):
            moment = b.daytime(first_week + n % 2)
            if not b.is_free(wallet, moment, timedelta(hours=5)):
                continue
            item = b.service(wallet, moment, verifier=verifiers[n % 2])
            item.amount = Decimal("25.00")
            item.verified_at = moment + timedelta(hours=b.rng.randrange(4, 30))
            b.add(item, _prelude(rule))
    cash_day = START + timedelta(weeks=first_week + 2, days=b.rng.randrange(2), hours=3)
    for n, wallet in enumerate(wallets):
        moment = cash_day + timedelta(hours=n * 3)
        tag = _planted(rule) if n + 1 >= DEFAULT_THRESHOLDS.cashout_wallets else _prelude(rule)
        b.order(wallet, shop, moment, b.balance(wallet, moment), tag)


def _plant_grid(b: _Builder, grid: int) -> None:
    """Every kind of fraud once in the grid (patrol fakes once per style),
    on volunteers 1-13, who are otherwise honest."""
    people = b.volunteers[grid]
    _plant_travel(b, people[1])
    _plant_burst(b, people[2])
    _plant_cooling(b, grid)
    _plant_photo(b, people[3])
    for style, member in zip(PATROL_FAKES, people[4:9], strict=True):
        _plant_patrol(b, member, style)
    _plant_confirmation(b, people[9], people[10])
    _plant_confirmation(b, people[12], people[13])
    _plant_concentration(b, grid)
    _plant_mutual(b, grid)
    _plant_drain(b, people[11])
    _plant_ring(b, grid)


def generate(seed: int = 7, weeks: int = 4, scale: int = 1, progress: Callable[[str], None] | None = None) -> Corpus:
    """A programme of ``4 × scale`` grids over ``weeks`` weeks (3 at least),
    honest activity and planted fraud of every kind, all from ``seed``.
    ``progress`` is told after each grid's honest weeks and its planting."""
    if weeks < 3:
        raise ValueError("the corpus needs at least 3 weeks (a ring forms over two)")
    if scale < 1:
        raise ValueError("scale is at least 1")
    tell = progress or (lambda _: None)
    b = _Builder(seed, weeks, scale)
    grids = range(4 * scale)
    for grid in grids:
        b.grid(grid)
    for grid in grids:
        for volunteer in b.volunteers[grid]:
            for week in range(weeks):
                b.honest_week(volunteer, week)
        b.offline_day(b.volunteers[grid][0])
        tell(f"grid {grid}: honest weeks")
    for grid in grids:
        _plant_grid(b, grid)
        tell(f"grid {grid}: planted fraud")
    for grid in grids:
        for volunteer in b.volunteers[grid][14:]:
            b.honest_orders(volunteer)
    b.corpus.activities.sort(key=lambda item: item.verified_at)
    b.corpus.orders.sort(key=lambda item: item.placed_at)
    return b.corpus


# Geometry ------------------------------------------------------------------------

_M_PER_DEG_LAT = 111_195.0


def offset(lat: float, lon: float, east_m: float, north_m: float) -> tuple[float, float]:
    """The point ``east_m`` east and ``north_m`` north of (lat, lon)."""
    return lat + north_m / _M_PER_DEG_LAT, lon + east_m / (_M_PER_DEG_LAT * math.cos(math.radians(lat)))


def china_day(moment: datetime) -> str:
    """The China-time day of a moment (the activities' ``award_day``)."""
    return (moment.astimezone(UTC) + timedelta(hours=8)).date().isoformat()


def fix_distance_m(lat1: float | None, lon1: float | None, lat2: float | None, lon2: float | None) -> float:
    if lat1 is None or lon1 is None or lat2 is None or lon2 is None:
        return math.inf
    north = (lat2 - lat1) * _M_PER_DEG_LAT
    east = (lon2 - lon1) * _M_PER_DEG_LAT * math.cos(math.radians(lat1))
    return math.hypot(east, north)


# What the rules see ----------------------------------------------------------------


def _when(activity: SimActivity) -> datetime:
    return activity.recorded_at or activity.submitted_at


class _Windows:
    """Indexes over the corpus so each context is built the way the
    screening service queries: by member and time, by time for photos and
    reports, by verification time for approvals."""

    def __init__(self, corpus: Corpus) -> None:
        self.by_member: dict[int, list[SimActivity]] = defaultdict(list)
        for activity in sorted(corpus.activities, key=lambda item: item.started_at):
            self.by_member[activity.member_id].append(activity)
        self.reports = sorted((a for a in corpus.activities if a.kind == "report"), key=lambda a: a.started_at)
        self.report_times = [a.started_at for a in self.reports]
        self.photo_reports = sorted(self.reports, key=lambda a: a.submitted_at)
        self.photo_times = [a.submitted_at for a in self.photo_reports]
        self.approvals = sorted(corpus.activities, key=lambda a: a.verified_at)
        self.awards_of: dict[int, list[SimActivity]] = defaultdict(list)
        self.pair_rows: dict[tuple[int, int], list[SimActivity]] = defaultdict(list)
        self.pair_times: dict[tuple[int, int], list[datetime]] = defaultdict(list)
        self.member_times: dict[int, list[datetime]] = defaultdict(list)
        self.verifier_times: dict[int, list[datetime]] = defaultdict(list)
        for activity in self.approvals:
            self.awards_of[activity.member_id].append(activity)
            self.pair_rows[(activity.member_id, activity.verifier_id)].append(activity)
            self.pair_times[(activity.member_id, activity.verifier_id)].append(activity.verified_at)
            self.member_times[activity.member_id].append(activity.verified_at)
            self.verifier_times[activity.verifier_id].append(activity.verified_at)

    def neighbours(self, activity: SimActivity, moment: datetime) -> tuple[list[Fix], list[Submission]]:
        around = _when(activity)
        fixes: list[Fix] = []
        submissions: list[Submission] = []
        for other in self.by_member[activity.member_id]:
            if other.submitted_at > moment and other.id != activity.id:
                continue  # not yet in the database
            close = (
                abs(other.started_at - around) <= HISTORY_WINDOW or abs(other.submitted_at - around) <= HISTORY_WINDOW
            )
            if not close:
                continue
            own = other.id == activity.id
            ref = f"activity:{other.id}"
            if other.latitude is not None and other.longitude is not None:
                fixes.append(Fix(other.latitude, other.longitude, other.accuracy_m, other.started_at, ref, own))
            submissions.append(Submission(ref, other.recorded_at or other.started_at, other.submitted_at, own))
        return fixes, submissions

    def other_photos(self, activity: SimActivity, moment: datetime) -> tuple[PhotoPrint, ...]:
        low = bisect.bisect_left(self.photo_times, moment - PHOTO_WINDOW)
        high = bisect.bisect_right(self.photo_times, moment)
        return tuple(
            photo for other in self.photo_reports[low:high] if other.id != activity.id for photo in other.photos
        )

    def report(self, activity: SimActivity, thresholds: Thresholds) -> ReportFacts | None:
        if activity.kind != "report" or activity.latitude is None or activity.longitude is None:
            return None
        low = bisect.bisect_left(
            self.report_times, activity.started_at - timedelta(minutes=thresholds.duplicate_minutes)
        )
        high = bisect.bisect_right(self.report_times, activity.started_at)
        nearby = tuple(
            PriorReport(other.id, other.member_id, other.latitude, other.longitude, other.started_at)
            for other in self.reports[low:high]
            if other.member_id != activity.member_id
            and other.report_kind == activity.report_kind
            and other.latitude is not None
            and other.longitude is not None
            and fix_distance_m(other.latitude, other.longitude, activity.latitude, activity.longitude)
            <= 2 * thresholds.duplicate_radius_m
        )
        return ReportFacts(activity.report_kind, activity.latitude, activity.longitude, activity.started_at, nearby)

    def verifications(self, activity: SimActivity, thresholds: Thresholds) -> VerifierFacts:
        moment = activity.verified_at
        since = moment - timedelta(days=thresholds.concentration_days)

        def within(times: list[datetime]) -> tuple[int, int]:
            return bisect.bisect_left(times, since), bisect.bisect_left(times, moment)

        member, verifier = activity.member_id, activity.verifier_id
        pair_low, pair_high = within(self.pair_times[(member, verifier)])
        days = {china_day(other.started_at) for other in self.pair_rows[(member, verifier)][pair_low:pair_high]}
        days.add(china_day(activity.started_at))
        member_low, member_high = within(self.member_times[member])
        verifier_low, verifier_high = within(self.verifier_times[verifier])
        reverse_low, reverse_high = within(self.pair_times[(verifier, member)])
        return VerifierFacts(
            pair_approvals=pair_high - pair_low,
            member_approvals=member_high - member_low,
            verifier_approvals=verifier_high - verifier_low,
            reverse_approvals=reverse_high - reverse_low,
            pair_days=len(days),
        )

    def funding(self, member_id: int, moment: datetime, days: int) -> list[AwardFact]:
        since = moment - timedelta(days=days)
        return [
            AwardFact(a.verified_at, a.amount, a.verifier_id)
            for a in self.awards_of[member_id]
            if since <= a.verified_at <= moment
        ]


def _balance(corpus: Corpus, windows: _Windows, member_id: int, moment: datetime) -> Decimal:
    earned = sum((a.amount for a in windows.awards_of[member_id] if a.verified_at <= moment), Decimal(0))
    spent = sum((o.amount for o in corpus.orders if o.member_id == member_id and o.placed_at < moment), Decimal(0))
    return earned - spent


def contexts(corpus: Corpus, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Iterator[ScreeningContext]:
    """Each award at its verification and each order at its placement, as
    the screening service would see it."""
    windows = _Windows(corpus)
    for activity in corpus.activities:
        moment = activity.verified_at
        fixes, submissions = windows.neighbours(activity, moment)
        member = corpus.members[activity.member_id]
        photos = activity.photos
        yield ScreeningContext(
            subject=Subject.ACTIVITY,
            subject_id=activity.id,
            member_id=activity.member_id,
            member_joined_at=member.joined_at,
            amount=activity.amount,
            moment=moment,
            verifier_id=activity.verifier_id,
            positions=(*fixes, *activity.route),
            submissions=tuple(submissions),
            photos=photos,
            other_photos=windows.other_photos(activity, moment) if photos else (),
            patrol=PatrolFacts(activity.minutes, activity.route) if activity.kind == "patrol" else None,
            report=windows.report(activity, thresholds),
            verifications=windows.verifications(activity, thresholds),
        )
    for order in corpus.orders:
        moment = order.placed_at
        since = moment - timedelta(days=thresholds.cashout_days)
        others = tuple(
            ShopRedemption(
                order_id=other.id,
                member_id=other.member_id,
                at=other.placed_at,
                amount=other.amount,
                balance_before=_balance(corpus, windows, other.member_id, other.placed_at),
                funded_by=tuple(
                    Funding(award.verifier_id, award.amount)
                    for award in windows.funding(other.member_id, other.placed_at, thresholds.cashout_days)
                    if award.verifier_id is not None
                ),
            )
            for other in corpus.orders
            if other.shop_id == order.shop_id and other.id != order.id and since <= other.placed_at < moment
        )
        yield ScreeningContext(
            subject=Subject.ORDER,
            subject_id=order.id,
            member_id=order.member_id,
            member_joined_at=corpus.members[order.member_id].joined_at,
            amount=order.amount,
            moment=moment,
            order=OrderFacts(
                shop_id=order.shop_id,
                balance_before=_balance(corpus, windows, order.member_id, moment),
                recent_awards=tuple(windows.funding(order.member_id, moment, thresholds.cashout_days)),
                shop_redemptions=others,
            ),
        )


def subject_count(corpus: Corpus) -> int:
    return len(corpus.activities) + len(corpus.orders)


# Scoring ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleScore:
    """One rule over the corpus: its hits, how many were on subjects
    planted for it, and how many of those it found."""

    rule: str
    hits: int
    true_hits: int
    planted: int
    found: int

    @property
    def precision(self) -> float | None:
        return self.true_hits / self.hits if self.hits else None

    @property
    def recall(self) -> float | None:
        return self.found / self.planted if self.planted else None


@dataclass(frozen=True, slots=True)
class GateReport:
    """The rules' score on a corpus: fraud found, honest work flagged,
    confirmations found, and each rule's precision and recall."""

    planted: int
    flagged_planted: int
    honest: int
    flagged_honest: int
    confirmations: int
    confirmations_found: int
    missed: tuple[str, ...]
    false_positives: tuple[str, ...]
    rules: tuple[RuleScore, ...]

    @property
    def recall(self) -> float:
        return self.flagged_planted / self.planted if self.planted else 0.0

    @property
    def false_positive_rate(self) -> float:
        return self.flagged_honest / self.honest if self.honest else 0.0

    def failures(self) -> list[str]:
        """Why the gate fails (empty: it passes)."""
        found: list[str] = []
        if self.planted == 0 or self.flagged_planted < self.planted:
            found.append(f"recall {self.flagged_planted}/{self.planted}: missed {', '.join(self.missed[:10])}")
        if self.false_positive_rate > MAX_FALSE_POSITIVE_RATE:
            found.append(f"false positives {self.flagged_honest}/{self.honest} > {MAX_FALSE_POSITIVE_RATE:.0%}")
        if self.confirmations == 0 or self.confirmations_found < self.confirmations:
            found.append(f"confirmations found {self.confirmations_found}/{self.confirmations}")
        return found

    def table(self) -> list[tuple[str, str, str, str]]:
        """(rule, hits, precision, recall) rows for printing."""

        def percent(value: float | None) -> str:
            return "–" if value is None else f"{value:.0%}"

        return [(s.rule, str(s.hits), percent(s.precision), percent(s.recall)) for s in self.rules]


def without(rule: Rule) -> dict[Subject, tuple[Rule, ...]]:
    """The registered rules with one taken out (the gate must then fail)."""
    return {subject: tuple(r for r in rules if r is not rule) for subject, rules in RULES_BY_SUBJECT.items()}


def score(
    corpus: Corpus,
    rules_by_subject: Mapping[Subject, Sequence[Rule]] = RULES_BY_SUBJECT,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    progress: Callable[[], None] | None = None,
) -> GateReport:
    """Run the rules over every subject and score them against the labels."""
    names = sorted({rule.__name__ for rules in RULES_BY_SUBJECT.values() for rule in rules})
    hits: dict[str, int] = dict.fromkeys(names, 0)
    true_hits: dict[str, int] = dict.fromkeys(names, 0)
    planted_for: dict[str, int] = dict.fromkeys(names, 0)
    found_for: dict[str, int] = dict.fromkeys(names, 0)
    planted = flagged_planted = honest = flagged_honest = confirmations = confirmations_found = 0
    missed: list[str] = []
    false_positives: list[str] = []
    for context in contexts(corpus, thresholds):
        verdict = decide(context, thresholds, rules_by_subject[context.subject])
        hit_rules = {result.rule for result in verdict.hits}
        tag = corpus.labels.get((context.subject, context.subject_id))
        flagged = verdict.outcome is not Outcome.ALLOW
        key = f"{context.subject.value}:{context.subject_id}"
        for rule in hit_rules:
            hits[rule] += 1
            true_hits[rule] += tag is not None and tag.label is not CorpusLabel.PRELUDE and tag.rule == rule
        if tag is not None and tag.label is not CorpusLabel.PRELUDE:
            planted_for[tag.rule] += 1
            found_for[tag.rule] += tag.rule in hit_rules
        if tag is None:
            honest += 1
            if flagged:
                flagged_honest += 1
                false_positives.append(f"{key} ({', '.join(sorted(hit_rules))})")
        elif tag.label is CorpusLabel.PLANTED:
            planted += 1
            if flagged:
                flagged_planted += 1
            else:
                missed.append(f"{key} ({tag.rule})")
        elif tag.label is CorpusLabel.CONFIRMATION:
            confirmations += 1
            confirmations_found += "duplicate_report" in hit_rules and not flagged
        if progress is not None:
            progress()
    return GateReport(
        planted=planted,
        flagged_planted=flagged_planted,
        honest=honest,
        flagged_honest=flagged_honest,
        confirmations=confirmations,
        confirmations_found=confirmations_found,
        missed=tuple(missed),
        false_positives=tuple(false_positives),
        rules=tuple(RuleScore(n, hits[n], true_hits[n], planted_for[n], found_for[n]) for n in names),
    )


# Export ------------------------------------------------------------------------------


def _json_ready(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(item) for item in value]
    return value


def _lines(rows: Iterable[Mapping[str, Any]]) -> str:
    return "".join(json.dumps(_json_ready(dict(row)), ensure_ascii=False, sort_keys=True) + "\n" for row in rows)


def write_jsonl(corpus: Corpus, directory: Path) -> list[Path]:
    """The corpus as JSON lines (members, activities, orders), the labels in
    a file of their own; the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "members.jsonl": (asdict(member) for member in corpus.members.values()),
        "activities.jsonl": (asdict(activity) for activity in corpus.activities),
        "orders.jsonl": (asdict(order) for order in corpus.orders),
        "labels.jsonl": (
            {"subject": subject.value, "id": subject_id, "label": tag.label.value, "rule": tag.rule}
            for (subject, subject_id), tag in sorted(corpus.labels.items())
        ),
    }
    written = []
    for name, rows in files.items():
        path = directory / name
        path.write_text(_lines(rows), encoding="utf-8")
        written.append(path)
    return written
