"""The authorisation matrix (issue #8): every served route × seven roles
(and an anonymous caller) × the caller's own object, an object at the
caller's node, and a foreign one.

Proves, for each cell, that the answer is the one the access policy asks
for: an allowed status, or a refusal (403/404, and 401 without a login).
A refusal must be ``application/problem+json``, carry none of the target's
identifying values (names, phones, pickup codes, titles) and leave the
whole database unchanged (a fingerprint of every table and every balance).

The routes come from the served OpenAPI document, so a route added without
rows here fails ``test_every_served_route_has_matrix_rows``. Rows are
declarative: per operation id, how to fill the request for each target, and
the outcome per role. Each cell runs against the same pristine world: after
an allowed request changed something, the changed tables are restored.

Reading the tables: ``same`` means "in the caller's community" (community 2
for organiser 2, community 1 for everyone else, the admin included);
``foreign`` the other community. ``own`` is the caller's own object where
the route has such a thing. Extra named targets cover the sharp cases
(another organiser, an admin living below, another shop's pickup code).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import TestClient

from api.app import create_app
from core.clock import utc_now
from fengling_settings import get_settings
from tests.support.matrix_world import (
    PASSWORD,
    ROLES,
    Side,
    World,
    build_world,
    fingerprint,
    png_bytes,
    restore,
    snapshot,
)

ANONYMOUS = "anonymous"
VOLUNTEER, GRID_WORKER, BUILDING_HEAD, SHOP_STAFF = "volunteer", "grid_worker", "building_head", "shop_staff_a"
ORGANISER_1, ORGANISER_2, ADMIN = "organiser_1", "organiser_2", "admin"
EVERYONE = frozenset(ROLES)
ORGANISERS = frozenset({ORGANISER_1, ORGANISER_2})
MANAGERS = ORGANISERS | {ADMIN}
POSTS = frozenset({GRID_WORKER, BUILDING_HEAD})
REVIEWERS = POSTS | MANAGERS
COUNTER = frozenset({SHOP_STAFF}) | MANAGERS  # staff of the shop, and managers of its organisation
MISSING_ID = 2**31 - 1  # no row has it, and it is within every id column's range
HERE = {"latitude": 35.0606, "longitude": 118.3425, "accuracy_m": 10.0}


# --- the vocabulary of the rows --------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One request: path parameters by name, query, JSON body or multipart
    files, and the values identifying the target that a refusal (or a
    filtered list) must not reveal."""

    path: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    files: dict[str, Any] | None = None
    secrets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Allowed:
    statuses: frozenset[int]
    hides: bool = False  # a filtered answer: the target's secrets must not appear in it

    def __str__(self) -> str:
        return f"allowed {sorted(self.statuses)}" + (" (hiding the target)" if self.hides else "")


@dataclass(frozen=True)
class Refused:
    statuses: frozenset[int]

    def __str__(self) -> str:
        return f"refused {sorted(self.statuses)}"


Outcome = Allowed | Refused
Fill = Callable[[World, str], Call | None]  # None: this target means nothing for that role


def ok(*statuses: int, hides: bool = False) -> Allowed:
    return Allowed(frozenset(statuses), hides)


def refused(*statuses: int) -> Refused:
    return Refused(frozenset(statuses))


HIDDEN = refused(404)  # the caller may not even see it: exactly like a missing object
FORBIDDEN = refused(403)  # a role guard, or a visible object the caller may not act on
REFUSED = refused(403, 404)  # a refused id in a body, where either answer keeps the policy
UNAUTHENTICATED = refused(401)


def roles(default: Outcome, *pairs: tuple[Iterable[str], Outcome]) -> dict[str, Outcome]:
    """Outcome per role: ``default``, overridden by each (roles, outcome) in turn."""
    table = dict.fromkeys(ROLES, default)
    for names, outcome in pairs:
        table.update(dict.fromkeys(names, outcome))
    return table


def managers_only(default: Outcome, *pairs: tuple[Iterable[str], Outcome]) -> dict[str, Outcome]:
    """A route guarded for organisers and admins: everyone else is 403
    before any object is looked at."""
    table = roles(default, *pairs)
    table.update(dict.fromkeys(EVERYONE - MANAGERS, FORBIDDEN))
    return table


@dataclass(frozen=True)
class Row:
    """The rows of one operation: a fill per target, an outcome per role per
    target. ``anonymous`` is what a caller without a token gets (on the
    first target); ``method``/``path`` are given for routes not yet served,
    so their rows also apply if they land under another operation id."""

    targets: dict[str, Fill]
    expect: dict[str, dict[str, Outcome]]
    anonymous: Outcome = UNAUTHENTICATED
    method: str = ""
    path: str = ""


def each_side(build: Callable[[Side, World, str], Call]) -> dict[str, Fill]:
    """``same`` and ``foreign`` targets from one builder; the call's secrets
    are those of the side its object lives in."""

    def on(pick: Callable[[World, str], Side]) -> Fill:
        def fill(world: World, role: str) -> Call:
            side = pick(world, role)
            call = build(side, world, role)
            return Call(call.path, call.query, call.json, call.files, call.secrets or side.secrets())

        return fill

    return {"same": on(World.side_of), "foreign": on(World.other_side)}


def decide_pending(verb: str) -> Callable[[Side, World, str], Call]:
    """Approve or reject the side's pending adjustment (a rejection gives its reason)."""

    def build(side: Side, world: World, role: str) -> Call:
        body = {"reason_zh": "依据不足"} if verb == "reject" else None
        return Call(path={"adjustment_id": world.pending.get(side.number, 0)}, json=body)

    return build


def own(kind: str, build: Callable[[Any, World, str], Call]) -> Fill:
    """The caller's own object of ``kind`` (``world.own``), or the member themself."""

    def fill(world: World, role: str) -> Call | None:
        if kind == "member":
            return build(world.people[role].id, world, role)
        value = world.own.get(role, {}).get(kind)
        return None if value is None else build(value, world, role)

    return fill


def only(fill: Fill) -> dict[str, Fill]:
    """A route without an object id: one target, same for every role."""
    return {"any": fill}


def with_foreign_secrets(call: Callable[[World, str], Call]) -> Fill:
    def fill(world: World, role: str) -> Call:
        made = call(world, role)
        return Call(made.path, made.query, made.json, made.files, world.other_side(role).secrets())

    return fill


def walk_patrol(body: Callable[[World], Any]) -> dict[str, Fill]:
    """The caller's own open patrol and one on each side, sent ``body``."""
    return {
        "own": own("patrol", lambda a, w, r: Call(path={"activity_id": a}, json=body(w))),
        **each_side(lambda s, w, r: Call(path={"activity_id": s.open_patrol}, json=body(w))),
    }


def decide_service(body: dict[str, str] | None) -> dict[str, Fill]:
    """The caller's own submitted service log and one on each side, sent ``body``."""
    return {
        "own": own("service", lambda a, w, r: Call(path={"activity_id": a}, json=body)),
        **each_side(lambda s, w, r: Call(path={"activity_id": s.submitted_service}, json=body)),
    }


def on_held_case(body: dict[str, str] | None) -> Callable[[Side, World, str], Call]:
    """The side's held fraud case, sent ``body``."""
    return lambda side, world, role: Call(path={"case_id": side.held_case}, json=body)


def wallet(member_id: int) -> str:
    return f"volunteer:{member_id}:wallet"


CHINA = ZoneInfo("Asia/Shanghai")


def this_month() -> str:
    """Statements and settlement count months in China time."""
    return utc_now().astimezone(CHINA).strftime("%Y-%m")


def last_month() -> str:
    return (utc_now().astimezone(CHINA).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def csv_upload(side: Side) -> dict[str, Any]:
    phone = f"135{side.number:02d}{uuid.uuid4().int % 1_000_000:06d}"
    return {"file": ("members.csv", f"姓名,手机号\r\n导入居民,{phone}\r\n".encode(), "text/csv")}


def png_upload(seed: int) -> dict[str, Any]:
    return {"data": ("photo.png", png_bytes(seed), "image/png")}


def service_body(hours_ago: int, **extra: Any) -> dict[str, Any]:
    start = utc_now() - timedelta(hours=hours_ago)
    return {
        "title": "帮邻居搬家",
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(minutes=45)).isoformat(),
        **extra,
    }


THRESHOLDS = {
    "levels": [
        {"stars": stars, "points": f"{points}.00", "hours": hours}
        for stars, points, hours in ((1, 0, 0), (2, 10, 1), (3, 50, 5), (4, 100, 10), (5, 200, 20))
    ]
}


def season_body(organisation_id: int) -> dict[str, Any]:
    starts = utc_now().astimezone(CHINA).date() + timedelta(days=2)
    return {
        "name_zh": "矩阵赛季",
        "organisation_id": organisation_id,
        "first_day": starts.isoformat(),
        "last_day": (starts + timedelta(days=6)).isoformat(),
    }


# --- the rows ----------------------------------------------------------------------
# Keyed by operation id. A new route fails test_every_served_route_has_matrix_rows
# until it has a row here (or in FUTURE_ROWS below).

ALL_MEMBERS = roles(ok(200))
SEE_NODE = roles(ok(200))  # every role of community 1 sees its building; organiser 2 sees its own

ROWS: dict[str, Row] = {
    # --- public and personal routes (no object id) ---
    "health": Row(only(lambda w, r: Call()), {"any": ALL_MEMBERS}, anonymous=ok(200)),
    "login": Row(
        only(lambda w, r: Call(json={"phone": w.side_of(r).peer.phone, "password": "wrong-password-1"})),
        {"any": roles(UNAUTHENTICATED)},
        anonymous=UNAUTHENTICATED,
    ),
    "acceptInvitation": Row(
        only(
            lambda w, r: Call(
                json={"phone": w.side_of(r).peer.phone, "code": "WRONG-CODE", "password": "a-new-password-1"}
            )
        ),
        {"any": roles(refused(400))},
        anonymous=refused(400),
    ),
    "me": Row(only(with_foreign_secrets(lambda w, r: Call())), {"any": roles(ok(200, hides=True))}),
    "myWallet": Row(only(with_foreign_secrets(lambda w, r: Call())), {"any": roles(ok(200, hides=True))}),
    "myStatement": Row(only(with_foreign_secrets(lambda w, r: Call())), {"any": roles(ok(200, hides=True))}),
    # --- leaderboards: a board of what one may see; one's own visibility ---
    "getLeaderboard": Row(
        {
            "own": own("member", lambda m, w, r: Call(query={"scope": f"org:{home_of(w, r)}", "around": "me"})),
            **each_side(lambda s, w, r: Call(query={"scope": f"org:{s.community}", "period": "all"})),
            "team_same": lambda w, r: Call(query={"scope": f"team:{w.side_of(r).team}"}),
            "team_foreign": lambda w, r: Call(query={"scope": f"team:{w.other_side(r).team}"}),
            "campaign_same": lambda w, r: Call(query={"scope": f"campaign:{w.side_of(r).campaign}"}),
            "campaign_foreign": lambda w, r: Call(query={"scope": f"campaign:{w.other_side(r).campaign}"}),
            "season_same": lambda w, r: Call(query={"period": f"season:{w.side_of(r).season}"}),
            "season_foreign": lambda w, r: Call(query={"period": f"season:{w.other_side(r).season}"}),
        },
        {
            "season_same": roles(ok(200)),
            "season_foreign": roles(HIDDEN, ({ADMIN}, ok(200))),
            "own": roles(ok(200)),
            "same": roles(ok(200)),
            "foreign": roles(HIDDEN, ({ADMIN}, ok(200))),
            "team_same": roles(ok(200)),
            "team_foreign": roles(HIDDEN, ({ADMIN}, ok(200))),
            "campaign_same": roles(ok(200)),
            "campaign_foreign": roles(HIDDEN, ({ADMIN}, ok(200))),
        },
    ),
    "getLeague": Row(
        {
            **each_side(lambda s, w, r: Call(query={"scope": f"org:{s.community}", "units": "children"})),
            "teams_same": lambda w, r: Call(query={"scope": f"org:{w.side_of(r).community}", "units": "teams"}),
        },
        {
            "same": roles(ok(200)),
            "foreign": roles(HIDDEN, ({ADMIN}, ok(200))),
            "teams_same": roles(ok(200)),
        },
    ),
    "setLeagueMethod": Row(
        each_side(lambda s, w, r: Call(path={"organisation_id": s.community}, json={"method": "average"})),
        {"same": managers_only(ok(200)), "foreign": managers_only(HIDDEN, ({ADMIN}, ok(200)))},
    ),
    # --- seasons: defined by managers of the node; read by whoever sees it ---
    "createSeason": Row(
        each_side(lambda s, w, r: Call(json=season_body(s.community))),
        {"same": managers_only(ok(201)), "foreign": managers_only(HIDDEN, ({ADMIN}, ok(201)))},
    ),
    "listSeasons": Row(
        each_side(lambda s, w, r: Call(query={"organisation_id": s.community})),
        {"same": roles(ok(200)), "foreign": roles(ok(200, hides=True), ({ADMIN}, ok(200)))},
    ),
    "getSeason": Row(
        each_side(lambda s, w, r: Call(path={"season_id": s.season})),
        {"same": roles(ok(200)), "foreign": roles(HIDDEN, ({ADMIN}, ok(200)))},
    ),
    "updateSeason": Row(
        each_side(lambda s, w, r: Call(path={"season_id": s.season}, json={"name_zh": "改名赛季"})),
        {"same": managers_only(ok(200)), "foreign": managers_only(HIDDEN, ({ADMIN}, ok(200)))},
    ),
    "deleteSeason": Row(
        each_side(lambda s, w, r: Call(path={"season_id": s.season})),
        {"same": managers_only(ok(204)), "foreign": managers_only(HIDDEN, ({ADMIN}, ok(204)))},
    ),
    # --- recognition: my level and badges; a member's badges; an issuer's star thresholds ---
    "getMyLevel": Row(only(with_foreign_secrets(lambda w, r: Call())), {"any": roles(ok(200, hides=True))}),
    "getMyBadges": Row(only(with_foreign_secrets(lambda w, r: Call())), {"any": roles(ok(200, hides=True))}),
    "getMemberBadges": Row(
        {
            "own": own("member", lambda m, w, r: Call(path={"member_id": m})),
            **each_side(lambda s, w, r: Call(path={"member_id": s.peer.id})),
        },
        {
            "own": roles(ok(200)),
            "same": roles(HIDDEN, (REVIEWERS, ok(200))),
            "foreign": roles(HIDDEN, ({ADMIN}, ok(200))),
        },
    ),
    "getStarThresholds": Row(
        each_side(lambda s, w, r: Call(path={"organisation_id": s.community})),
        {"same": roles(ok(200)), "foreign": roles(HIDDEN, ({ADMIN}, ok(200)))},
    ),
    "setStarThresholds": Row(
        each_side(lambda s, w, r: Call(path={"organisation_id": s.community}, json=THRESHOLDS)),
        {"same": managers_only(ok(200)), "foreign": managers_only(HIDDEN, ({ADMIN}, ok(200)))},
    ),
    "listGridWorkerRatings": Row(
        each_side(lambda s, w, r: Call(path={"organisation_id": s.community}, query={"period": "month"})),
        {"same": managers_only(ok(200)), "foreign": managers_only(HIDDEN, ({ADMIN}, ok(200)))},
    ),
    "setMyRankingVisibility": Row(
        only(with_foreign_secrets(lambda w, r: Call(json={"visibility": "hidden"}))),
        {"any": roles(ok(200, hides=True))},
    ),
    # --- ledger ---
    **{
        op: Row(
            {
                "own": own("member", lambda m, w, r: Call(path={"code": wallet(m)})),
                **each_side(lambda s, w, r: Call(path={"code": wallet(s.peer.id)})),
                "issuance": lambda w, r: Call(path={"code": w.side_of(r).issuance}),
            },
            {
                "own": ALL_MEMBERS,
                "same": roles(HIDDEN, (MANAGERS, ok(200))),
                "foreign": roles(HIDDEN, ({ADMIN}, ok(200))),
                "issuance": roles(HIDDEN, (MANAGERS, ok(200))),
            },
        )
        for op in ("getAccount", "getAccountStatement", "getAccountHolds")
    },
    "getEntry": Row(
        {
            "own": own("entry", lambda e, w, r: Call(path={"entry_id": e})),
            **each_side(lambda s, w, r: Call(path={"entry_id": s.adjustment_entry})),
        },
        {
            "own": managers_only(FORBIDDEN),
            "same": managers_only(ok(200)),
            "foreign": managers_only(HIDDEN, ({ADMIN}, ok(200))),
        },
    ),
    "reverseEntry": Row(
        {
            **each_side(lambda s, w, r: Call(path={"entry_id": s.adjustment_entry}, json={"reason_zh": "录错了"})),
            # An award belongs to its activity: reversing it by hand is refused (409) for everyone.
            "award": lambda w, r: Call(path={"entry_id": w.side_of(r).award_entry}, json={"reason_zh": "撤销"}),
        },
        {
            "same": managers_only(ok(201)),
            "foreign": managers_only(HIDDEN, ({ADMIN}, ok(201))),
            "award": managers_only(refused(409)),
        },
    ),
    "postAdjustment": Row(
        {
            "own": lambda w, r: Call(
                json={
                    "debit_account": w.side_of(r).issuance,
                    "credit_account": wallet(w.people[r].id),
                    "amount": "5.00",
                    "reason_zh": "给自己加分",
                }
            ),
            **each_side(
                lambda s, w, r: Call(
                    json={
                        "debit_account": s.issuance,
                        "credit_account": wallet(s.peer.id),
                        "amount": "5.00",
                        "reason_zh": "补录积分",
                    }
                )
            ),
        },
        {
            # Never to one's own wallet (self-credit), whatever the amount.
            "own": managers_only(FORBIDDEN),
            "same": managers_only(ok(201)),
            "foreign": managers_only(HIDDEN, ({ADMIN}, ok(201))),
        },
    ),
    # --- catalog ---
    "listCatalog": Row(
        each_side(lambda s, w, r: Call(query={"shop_id": s.shop})),
        {
            "same": roles(ok(200)),
            # Another community's shop: an empty page, nothing of its catalog.
            "foreign": roles(ok(200, hides=True)),
        },
    ),
    "getCatalogItem": Row(
        each_side(lambda s, w, r: Call(path={"item_id": s.item})),
        {"same": roles(ok(200)), "foreign": roles(HIDDEN, ({ADMIN}, ok(200)))},
    ),
    "createCatalogItem": Row(
        each_side(
            lambda s, w, r: Call(
                json={"organisation_id": s.community, "name_zh": "新到的毛巾", "price": "8.00", "shop_ids": [s.shop]}
            )
        ),
        {"same": managers_only(ok(201)), "foreign": managers_only(REFUSED, ({ADMIN}, ok(201)))},
    ),
    "updateCatalogItem": Row(
        each_side(
            lambda s, w, r: Call(
                path={"item_id": s.item},
                json={"organisation_id": s.community, "name_zh": "改名洗衣液", "price": "12.00", "shop_ids": [s.shop]},
            )
        ),
        {"same": managers_only(ok(200)), "foreign": managers_only(HIDDEN, ({ADMIN}, ok(200)))},
    ),
    "uploadCatalogImage": Row(
        each_side(lambda s, w, r: Call(path={"item_id": s.item}, files=png_upload(50 + s.number))),
        {"same": managers_only(ok(201)), "foreign": managers_only(HIDDEN, ({ADMIN}, ok(201)))},
    ),
    # Catalog photos are the shop window, not personal data: any member may load one.
    "getCatalogImage": Row(
        each_side(lambda s, w, r: Call(path={"sha256": s.image_sha256}, secrets=("IHDR",))),
        {"same": roles(ok(200)), "foreign": roles(ok(200))},
    ),
    # --- orders (always the member's own) ---
    "placeOrder": Row(
        each_side(lambda s, w, r: Call(json={"item_id": s.item, "shop_id": s.shop, "quantity": 1})),
        {
            # The admin lives at the city: no catalog there, nothing to order.
            "same": roles(ok(201), ({ADMIN}, REFUSED)),
            # Another community's catalog is out of scope at placement.
            "foreign": roles(REFUSED),
        },
    ),
    "listMyOrders": Row(
        only(lambda w, r: Call(secrets=(w.side_of(r).placed_code, *w.other_side(r).secrets()))),
        {"any": roles(ok(200, hides=True))},
    ),
    **{
        op: Row(
            {
                "own": own("order", lambda o, w, r: Call(path={"order_id": o})),
                **each_side(lambda s, w, r: Call(path={"order_id": s.placed_order})),
            },
            {"own": roles(ok(200)), "same": roles(HIDDEN), "foreign": roles(HIDDEN)},
        )
        for op in ("getMyOrder", "getPickupQr", "getPickupToken", "cancelMyOrder")
    },
    # Public keys, by nature: every signed-in member (counters are members).
    "listPickupKeys": Row(only(lambda w, r: Call()), {"any": roles(ok(200))}),
    # --- shops ---
    "listShops": Row(
        only(with_foreign_secrets(lambda w, r: Call())),
        {"any": roles(ok(200, hides=True), ({ADMIN}, ok(200)))},
    ),
    "createShop": Row(
        each_side(lambda s, w, r: Call(json={"organisation_id": s.community, "name_zh": "新开的小店"})),
        {"same": managers_only(ok(201)), "foreign": managers_only(REFUSED, ({ADMIN}, ok(201)))},
    ),
    "addShopStaff": Row(
        {
            **each_side(lambda s, w, r: Call(path={"shop_id": s.shop}, json={"member_id": s.spare.id})),
            # Never oneself (that would dodge "nobody changes their own roles").
            "self": lambda w, r: Call(path={"shop_id": w.side_of(r).shop}, json={"member_id": w.people[r].id}),
            # Only members the caller manages.
            "foreign_member": lambda w, r: Call(
                path={"shop_id": w.side_of(r).shop},
                json={"member_id": w.other_side(r).spare.id},
                secrets=(w.other_side(r).spare.name, w.other_side(r).spare.phone),
            ),
            "no_such_member": lambda w, r: Call(path={"shop_id": w.side_of(r).shop}, json={"member_id": MISSING_ID}),
        },
        {
            "same": managers_only(ok(204)),
            "foreign": managers_only(HIDDEN, ({ADMIN}, ok(204))),
            "self": managers_only(FORBIDDEN),
            # Exactly like a member who does not exist: the endpoint must not probe member ids.
            "foreign_member": managers_only(HIDDEN, ({ADMIN}, ok(204))),
            "no_such_member": managers_only(HIDDEN),
        },
    ),
    "confirmPickup": Row(
        {
            **each_side(lambda s, w, r: Call(path={"shop_id": s.shop}, json={"code": s.placed_code})),
            # Shop A's counter typing a code of an order at shop B.
            "code_of_other_shop": lambda w, r: Call(
                path={"shop_id": w.side_of(r).shop},
                json={"code": w.other_side(r).placed_code},
                secrets=w.other_side(r).secrets(),
            ),
        },
        {
            # Counter work is for that shop's staff only. Its managers see
            # the shop (403 not_shop_staff); everyone else does not (404).
            "same": roles(HIDDEN, ({SHOP_STAFF}, ok(200)), (MANAGERS, FORBIDDEN)),
            "foreign": roles(HIDDEN, ({ADMIN}, FORBIDDEN)),
            "code_of_other_shop": roles(HIDDEN, (MANAGERS, FORBIDDEN)),
        },
    ),
    "confirmPickupByToken": Row(
        {
            **each_side(lambda s, w, r: Call(path={"shop_id": s.shop}, json={"token": s.placed_token})),
            # Shop A's counter scanning the QR of an order at shop B.
            "token_of_other_shop": lambda w, r: Call(
                path={"shop_id": w.side_of(r).shop},
                json={"token": w.other_side(r).placed_token},
                secrets=w.other_side(r).secrets(),
            ),
        },
        {
            # As typing the code: that shop's staff only; its managers see the
            # shop (403 not_shop_staff), everyone else does not (404). A token
            # for another shop is refused to the clerk by name (422), since a
            # token cannot be guessed and says nothing the QR did not show.
            "same": roles(HIDDEN, ({SHOP_STAFF}, ok(200)), (MANAGERS, FORBIDDEN)),
            "foreign": roles(HIDDEN, ({ADMIN}, FORBIDDEN)),
            "token_of_other_shop": roles(HIDDEN, ({SHOP_STAFF}, refused(422)), (MANAGERS, FORBIDDEN)),
        },
    ),
    "previewPickup": Row(
        {
            **each_side(lambda s, w, r: Call(path={"shop_id": s.shop}, json={"code": s.placed_code})),
            "code_of_other_shop": lambda w, r: Call(
                path={"shop_id": w.side_of(r).shop},
                json={"code": w.other_side(r).placed_code},
                secrets=w.other_side(r).secrets(),
            ),
        },
        {
            # As confirming: a look-up is counter work, for that shop's staff only.
            "same": roles(HIDDEN, ({SHOP_STAFF}, ok(200)), (MANAGERS, FORBIDDEN)),
            "foreign": roles(HIDDEN, ({ADMIN}, FORBIDDEN)),
            "code_of_other_shop": roles(HIDDEN, (MANAGERS, FORBIDDEN)),
        },
    ),
    "listOrganisationPickupConflicts": Row(
        each_side(lambda s, w, r: Call(path={"organisation_id": s.community})),
        {"same": managers_only(ok(200)), "foreign": managers_only(HIDDEN, ({ADMIN}, ok(200)))},
    ),
    "listPickupConflicts": Row(
        each_side(lambda s, w, r: Call(path={"shop_id": s.shop})),
        {"same": managers_only(ok(200)), "foreign": managers_only(HIDDEN, ({ADMIN}, ok(200)))},
        method="GET",
        path="/api/v1/shops/{shop_id}/pickup-conflicts",
    ),
    "listShopOrders": Row(
        {
            "own": own("shop", lambda shop, w, r: Call(path={"shop_id": shop})),
            **each_side(lambda s, w, r: Call(path={"shop_id": s.shop})),
        },
        {
            "own": roles(ok(200)),
            "same": roles(HIDDEN, (COUNTER, ok(200))),
            "foreign": roles(HIDDEN, ({ADMIN}, ok(200))),
        },
    ),
    "returnOrder": Row(
        {
            **each_side(
                lambda s, w, r: Call(
                    path={"shop_id": s.shop, "order_id": s.fulfilled_order},
                    json={"restock": True, "reason_zh": "包装破损"},
                )
            ),
            "order_of_other_shop": lambda w, r: Call(
                path={"shop_id": w.side_of(r).shop, "order_id": w.other_side(r).fulfilled_order},
                json={"restock": True, "reason_zh": "包装破损"},
                secrets=w.other_side(r).secrets(),
            ),
        },
        {
            "same": roles(HIDDEN, (COUNTER, ok(200))),
            "foreign": roles(HIDDEN, ({ADMIN}, ok(200))),
            "order_of_other_shop": roles(HIDDEN),
        },
    ),
    "getShopStatement": Row(
        each_side(lambda s, w, r: Call(path={"shop_id": s.shop, "period": this_month()})),
        {"same": roles(HIDDEN, (COUNTER, ok(200))), "foreign": roles(HIDDEN, ({ADMIN}, ok(200)))},
    ),
    "settleShopPeriod": Row(
        each_side(lambda s, w, r: Call(path={"shop_id": s.shop, "period": last_month()})),
        {"same": managers_only(ok(200)), "foreign": managers_only(HIDDEN, ({ADMIN}, ok(200)))},
    ),
    # --- the organisation tree ---
    **{
        op: Row(
            {
                "own": own("member", lambda m, w, r: Call(path={"organisation_id": home_of(w, r)})),
                **each_side(lambda s, w, r: Call(path={"organisation_id": s.building}, secrets=(s.building_name,))),
            },
            {"own": roles(ok(200)), "same": SEE_NODE, "foreign": roles(HIDDEN, ({ADMIN}, ok(200)))},
        )
        for op in ("getOrganisation", "listOrganisationChildren", "listOrganisationSubtree")
    },
    "createOrganisation": Row(
        each_side(lambda s, w, r: Call(json={"parent_id": s.grid, "level": "building", "name_zh": "新楼"})),
        {"same": managers_only(ok(201)), "foreign": managers_only(HIDDEN, ({ADMIN}, ok(201)))},
    ),
    **{
        op: Row(
            each_side(lambda s, w, r: Call(path={"organisation_id": s.building})),
            {
                "same": roles(HIDDEN, (REVIEWERS, ok(200))),
                "foreign": roles(HIDDEN, ({ADMIN}, ok(200))),
            },
        )
        for op in ("listOrganisationPosts", "listOverdueActivities")
    },
    "grantPost": Row(
        {
            **each_side(
                lambda s, w, r: Call(
                    path={"organisation_id": s.building}, json={"member_id": s.peer.id, "role": "lane_head"}
                )
            ),
            "self": lambda w, r: Call(
                path={"organisation_id": w.side_of(r).building}, json={"member_id": w.people[r].id, "role": "lane_head"}
            ),
        },
        {
            "same": managers_only(ok(200)),
            "foreign": managers_only(HIDDEN, ({ADMIN}, ok(200))),
            "self": managers_only(FORBIDDEN),
        },
    ),
    "revokePost": Row(
        {
            **each_side(
                lambda s, w, r: Call(
                    path={"organisation_id": s.building, "member_id": s.building_head.id, "role": "building_head"}
                )
            ),
            "self": lambda w, r: Call(
                path={"organisation_id": home_of(w, r), "member_id": w.people[r].id, "role": own_role(r)}
            ),
        },
        {
            "same": managers_only(ok(204)),
            "foreign": managers_only(HIDDEN, ({ADMIN}, ok(204))),
            "self": managers_only(FORBIDDEN),
        },
    ),
    "importMembers": Row(
        each_side(lambda s, w, r: Call(path={"organisation_id": s.building}, files=csv_upload(s))),
        {"same": managers_only(ok(201)), "foreign": managers_only(HIDDEN, ({ADMIN}, ok(201)))},
    ),
    # --- members ---
    "registerMember": Row(
        each_side(
            lambda s, w, r: Call(
                json={
                    "name": "新登记居民",
                    "phone": f"135{s.number:02d}{uuid.uuid4().int % 1_000_000:06d}",
                    "organisation_id": s.building,
                }
            )
        ),
        {"same": managers_only(ok(201)), "foreign": managers_only(HIDDEN, ({ADMIN}, ok(201)))},
    ),
    "listMembers": Row(
        each_side(lambda s, w, r: Call(query={"organisation_id": s.building})),
        {"same": roles(HIDDEN, (REVIEWERS, ok(200))), "foreign": roles(HIDDEN, ({ADMIN}, ok(200)))},
    ),
    "getMember": Row(
        {
            "own": own("member", lambda m, w, r: Call(path={"member_id": m})),
            **each_side(lambda s, w, r: Call(path={"member_id": s.peer.id})),
        },
        {
            "own": roles(ok(200)),
            "same": roles(HIDDEN, (REVIEWERS, ok(200))),
            "foreign": roles(HIDDEN, ({ADMIN}, ok(200))),
        },
    ),
    "reinviteMember": Row(
        {
            "own": own("member", lambda m, w, r: Call(path={"member_id": m})),
            **each_side(lambda s, w, r: Call(path={"member_id": s.peer.id})),
            # A reissued code works as a password reset: only where the caller
            # could grant every role the target holds (no peers, nobody above).
            "peer_organiser": lambda w, r: Call(path={"member_id": w.side_of(r).peer_organiser.id}),
            "admin_living_below": lambda w, r: Call(path={"member_id": w.side_of(r).hidden_admin.id}),
        },
        {
            # Never one's own account (403 own_account): a stolen token must not
            # turn into a new password without the current one (POST /me/password).
            "own": managers_only(FORBIDDEN),
            "same": managers_only(ok(201)),
            "foreign": managers_only(HIDDEN, ({ADMIN}, ok(201))),
            "peer_organiser": managers_only(FORBIDDEN, ({ADMIN}, ok(201))),
            "admin_living_below": managers_only(FORBIDDEN, ({ADMIN}, ok(201))),
        },
    ),
    # --- teams ---
    "createTeam": Row(
        each_side(lambda s, w, r: Call(json={"organisation_id": s.community, "name_zh": "新队", "kind": "service"})),
        {"same": managers_only(ok(201)), "foreign": managers_only(HIDDEN, ({ADMIN}, ok(201)))},
    ),
    "listTeams": Row(
        each_side(lambda s, w, r: Call(query={"organisation_id": s.community})),
        {"same": roles(ok(200)), "foreign": roles(HIDDEN, ({ADMIN}, ok(200)))},
    ),
    "getTeam": Row(
        each_side(lambda s, w, r: Call(path={"team_id": s.team})),
        {"same": roles(ok(200)), "foreign": roles(HIDDEN, ({ADMIN}, ok(200)))},
    ),
    "addTeamMember": Row(
        each_side(lambda s, w, r: Call(path={"team_id": s.team}, json={"member_id": s.spare.id})),
        {"same": managers_only(ok(200)), "foreign": managers_only(HIDDEN, ({ADMIN}, ok(200)))},
    ),
    "removeTeamMember": Row(
        each_side(lambda s, w, r: Call(path={"team_id": s.team, "member_id": s.peer.id})),
        {"same": managers_only(ok(204)), "foreign": managers_only(HIDDEN, ({ADMIN}, ok(204)))},
    ),
    "setTeamLeader": Row(
        each_side(lambda s, w, r: Call(path={"team_id": s.team}, json={"member_id": s.peer.id})),
        {"same": managers_only(ok(200)), "foreign": managers_only(HIDDEN, ({ADMIN}, ok(200)))},
    ),
    # --- campaigns ---
    "createCampaign": Row(
        each_side(
            lambda s, w, r: Call(
                json={"organisation_id": s.community, "title_zh": "冬季送温暖", "starts_at": utc_now().isoformat()}
            )
        ),
        {"same": managers_only(ok(201)), "foreign": managers_only(REFUSED, ({ADMIN}, ok(201)))},
    ),
    "listCampaigns": Row(
        each_side(lambda s, w, r: Call(query={"organisation_id": s.community})),
        {"same": roles(ok(200)), "foreign": roles(ok(200, hides=True), ({ADMIN}, ok(200)))},
    ),
    "getCampaign": Row(
        each_side(lambda s, w, r: Call(path={"campaign_id": s.campaign})),
        {"same": roles(ok(200)), "foreign": roles(HIDDEN, ({ADMIN}, ok(200)))},
    ),
    "fundCampaign": Row(
        each_side(lambda s, w, r: Call(path={"campaign_id": s.campaign}, json={"amount": "10.00"})),
        {"same": managers_only(ok(201)), "foreign": managers_only(HIDDEN, ({ADMIN}, ok(201)))},
    ),
    "closeCampaign": Row(
        each_side(lambda s, w, r: Call(path={"campaign_id": s.campaign})),
        {"same": managers_only(ok(200)), "foreign": managers_only(HIDDEN, ({ADMIN}, ok(200)))},
    ),
    # --- activities: submitting (anyone, for themself, within their own area) ---
    "logService": Row(
        {
            "home": lambda w, r: Call(json=service_body(30)),
            "foreign": lambda w, r: Call(
                json=service_body(30, organisation_id=w.other_side(r).building), secrets=w.other_side(r).secrets()
            ),
        },
        # The admin's area is the whole city: it may submit anywhere below it.
        {"home": roles(ok(201)), "foreign": roles(refused(404, 422), ({ADMIN}, ok(201)))},
    ),
    "submitReport": Row(
        {
            "home": lambda w, r: Call(json={"report_kind": "snap", "title": "井盖松动", "position": HERE}),
            "foreign": lambda w, r: Call(
                json={
                    "report_kind": "snap",
                    "title": "井盖松动",
                    "position": HERE,
                    "organisation_id": w.other_side(r).building,
                },
                secrets=w.other_side(r).secrets(),
            ),
        },
        # The admin's area is the whole city: it may submit anywhere below it.
        {"home": roles(ok(201)), "foreign": roles(refused(404, 422), ({ADMIN}, ok(201)))},
    ),
    "checkInPatrol": Row(
        each_side(lambda s, w, r: Call(json={"position": HERE, "patrol_task_id": s.patrol_task})),
        {
            # The volunteer's own patrol is still open (409: patrols never overlap).
            "same": roles(ok(201), ({VOLUNTEER}, refused(409))),
            "foreign": roles(refused(404, 422), ({ADMIN}, ok(201))),
        },
    ),
    "uploadReportPhoto": Row(only(lambda w, r: Call(files=png_upload(70 + ROLES.index(r)))), {"any": roles(ok(201))}),
    "getReportPhoto": Row(
        {
            "own": own("photo", lambda p, w, r: Call(path={"sha256": p})),
            **each_side(lambda s, w, r: Call(path={"sha256": s.report_photo}, secrets=("IHDR",))),
        },
        {
            "own": roles(ok(200)),
            "same": roles(HIDDEN, (REVIEWERS, ok(200))),
            "foreign": roles(HIDDEN, ({ADMIN}, ok(200))),
        },
    ),
    "listActivities": Row(
        {
            "mine": with_foreign_secrets(lambda w, r: Call()),
            "review_foreign": with_foreign_secrets(
                lambda w, r: Call(query={"scope": "review", "organisation_id": w.other_side(r).building})
            ),
        },
        {"mine": roles(ok(200, hides=True)), "review_foreign": roles(ok(200, hides=True), ({ADMIN}, ok(200)))},
    ),
    "listPatrolTasks": Row(
        only(with_foreign_secrets(lambda w, r: Call())), {"any": roles(ok(200, hides=True), ({ADMIN}, ok(200)))}
    ),
    "createPatrolTask": Row(
        each_side(lambda s, w, r: Call(json={"organisation_id": s.grid, "title_zh": "周末巡逻"})),
        {"same": managers_only(ok(201)), "foreign": managers_only(REFUSED, ({ADMIN}, ok(201)))},
    ),
    # --- grab-order tasks: volunteers and posts of the task's grid or below
    # claim; who cannot earn is refused; a task of another community is hidden.
    "claimPatrolTask": Row(
        each_side(lambda s, w, r: Call(path={"task_id": s.grab_task})),
        {
            "same": roles(FORBIDDEN, ({VOLUNTEER, GRID_WORKER, BUILDING_HEAD}, ok(201))),
            "foreign": roles(HIDDEN, ({ADMIN}, FORBIDDEN)),
        },
    ),
    "releasePatrolTask": Row(
        {
            "own": own("claimed_task", lambda t, w, r: Call(path={"task_id": t})),
            # Nobody holds a slot of these: one not-found, seen or not.
            **each_side(lambda s, w, r: Call(path={"task_id": s.grab_task})),
        },
        {"own": roles(ok(200)), "same": roles(HIDDEN), "foreign": roles(HIDDEN)},
    ),
    "listPatrolTaskClaims": Row(
        each_side(lambda s, w, r: Call(path={"task_id": s.claimed_task})),
        {"same": managers_only(ok(200)), "foreign": managers_only(HIDDEN, ({ADMIN}, ok(200)))},
    ),
    # --- activities: the caller's own patrol ---
    **{
        op: Row(
            walk_patrol(body),
            {
                "own": roles(ok(200)),
                # Someone else's patrol: reviewers see it, but may not walk it (403 or 404).
                "same": roles(HIDDEN, (REVIEWERS, REFUSED)),
                "foreign": roles(HIDDEN),
            },
        )
        for op, body in (
            ("addPatrolRoute", lambda w: [{"position": HERE, "at": (utc_now() - timedelta(minutes=5)).isoformat()}]),
            ("checkOutPatrol", lambda w: HERE),
        )
    },
    # --- activities: reading and the verification loop ---
    "getActivity": Row(
        {
            "own": own("service", lambda a, w, r: Call(path={"activity_id": a})),
            **each_side(lambda s, w, r: Call(path={"activity_id": s.submitted_service})),
        },
        {
            "own": roles(ok(200)),
            "same": roles(HIDDEN, (REVIEWERS, ok(200))),
            "foreign": roles(HIDDEN, ({ADMIN}, ok(200))),
        },
    ),
    **{
        op: Row(
            decide_service(body),
            {
                "own": roles(FORBIDDEN),  # nobody verifies their own submission
                "same": roles(HIDDEN, (REVIEWERS, ok(200))),
                "foreign": roles(HIDDEN, ({ADMIN}, ok(200))),
            },
        )
        for op, body in (("verifyActivity", None), ("rejectActivity", {"reason": "时间对不上"}))
    },
    # --- fraud review cases: the peer's held report on each side ---
    "listFraudCases": Row(
        only(with_foreign_secrets(lambda w, r: Call())),
        {"any": managers_only(ok(200, hides=True), ({ADMIN}, ok(200)))},
    ),
    "listMyFraudCases": Row(only(with_foreign_secrets(lambda w, r: Call())), {"any": roles(ok(200, hides=True))}),
    # The best free case of the caller's own queue (never a foreign one but for the admin).
    "takeNextFraudCase": Row(
        only(with_foreign_secrets(lambda w, r: Call())),
        {"any": managers_only(ok(200, hides=True), ({ADMIN}, ok(200)))},
    ),
    **{
        op: Row(
            only(with_foreign_secrets(lambda w, r: Call())),
            {"any": managers_only(ok(200, hides=True), ({ADMIN}, ok(200)))},
        )
        for op in ("listFraudSnoozes", "listFraudAllowPairs", "listFraudShadow")
    },
    # Exemptions of members the caller manages: organisers of the community and the admin.
    **{
        op: Row(
            each_side(build),
            {
                "same": {**roles(HIDDEN, (MANAGERS, ok(status))), **dict.fromkeys(EVERYONE - MANAGERS, FORBIDDEN)},
                "foreign": {**roles(HIDDEN, ({ADMIN}, ok(status))), **dict.fromkeys(EVERYONE - MANAGERS, FORBIDDEN)},
            },
        )
        for op, build, status in (
            (
                "createFraudSnooze",
                lambda s, w, r: Call(
                    json={
                        "member_id": s.peer.id,
                        "rule": "impossible_travel",
                        "reason": "GPS 漂移",
                        "expires_at": (utc_now() + timedelta(days=7)).isoformat(),
                    }
                ),
                201,
            ),
            ("deleteFraudSnooze", lambda s, w, r: Call(path={"snooze_id": s.snooze}), 204),
            (
                "createFraudAllowPair",
                lambda s, w, r: Call(json={"member_a": s.peer.id, "member_b": s.spare.id, "reason": "同住一户"}),
                201,
            ),
            ("deleteFraudAllowPair", lambda s, w, r: Call(path={"pair_id": s.allow_pair}), 204),
            ("getFraudSettings", lambda s, w, r: Call(path={"org_id": s.community}), 200),
            (
                "putFraudSettings",
                lambda s, w, r: Call(
                    path={"org_id": s.community},
                    json={"overrides": {"burst_count": 6}, "shadow": {"overrides": {"burst_count": 4}, "rules": []}},
                ),
                200,
            ),
        )
    },
    "getFraudStatistics": Row(
        only(with_foreign_secrets(lambda w, r: Call())),
        {"any": managers_only(ok(200, hides=True), ({ADMIN}, ok(200)))},
    ),
    **{
        op: Row(
            each_side(on_held_case(body)),
            {
                "same": guard(roles(HIDDEN, (MANAGERS, ok(200)))),
                "foreign": guard(roles(HIDDEN, ({ADMIN}, ok(200)))),
            },
        )
        for op, body, guard in (
            ("getFraudCase", None, lambda table: table),
            ("takeFraudCase", None, lambda table: {**table, **dict.fromkeys(EVERYONE - MANAGERS, FORBIDDEN)}),
            (
                "decideFraudCase",
                {"verdict": "approve", "label": "legitimate", "note": "核实无误"},
                lambda table: {**table, **dict.fromkeys(EVERYONE - MANAGERS, FORBIDDEN)},
            ),
        )
    },
    # Only the member whose points are held objects; the peer is no matrix role.
    "objectToFraudCase": Row(
        each_side(lambda s, w, r: Call(path={"case_id": s.held_case}, json={"note": "我确实在现场"})),
        {"same": roles(HIDDEN), "foreign": roles(HIDDEN)},
    ),
    "assignReport": Row(
        each_side(lambda s, w, r: Call(path={"activity_id": s.verified_report}, json={"handler_id": s.grid_worker.id})),
        {"same": roles(HIDDEN, (REVIEWERS, ok(200))), "foreign": roles(HIDDEN, ({ADMIN}, ok(200)))},
    ),
    "handleReport": Row(
        each_side(
            lambda s, w, r: Call(path={"activity_id": s.verified_report}, json={"useful": False, "feedback": "已处理"})
        ),
        {"same": roles(HIDDEN, (REVIEWERS, ok(200))), "foreign": roles(HIDDEN, ({ADMIN}, ok(200)))},
    ),
    "rateReport": Row(
        {
            "own": own("handled_report", lambda a, w, r: Call(path={"activity_id": a}, json={"rating": 5})),
            **each_side(lambda s, w, r: Call(path={"activity_id": s.handled_report}, json={"rating": 1})),
        },
        {
            "own": roles(ok(200)),
            # Only the reporter rates; reviewers see the report, so theirs is a 403.
            "same": roles(HIDDEN, (REVIEWERS, FORBIDDEN)),
            "foreign": roles(HIDDEN, ({ADMIN}, FORBIDDEN)),
        },
    ),
    # --- the organiser dashboard (issue #14): managers of the node only; never another community's ---
    **{
        op: Row(
            each_side(lambda s, w, r: Call(path={"org_id": s.community})),
            {"same": managers_only(ok(200)), "foreign": managers_only(HIDDEN, ({ADMIN}, ok(200)))},
        )
        for op in ("getDashboard", "exportDashboardCsv", "exportDashboardXlsx")
    },
}


def home_of(world: World, role: str) -> int:
    return HOMES[role](world)


HOMES: dict[str, Callable[[World], int]] = {
    VOLUNTEER: lambda w: w.sides[0].building,
    GRID_WORKER: lambda w: w.sides[0].grid,
    BUILDING_HEAD: lambda w: w.sides[0].building,
    SHOP_STAFF: lambda w: w.sides[0].community,
    ORGANISER_1: lambda w: w.sides[0].community,
    ORGANISER_2: lambda w: w.sides[1].community,
    ADMIN: lambda w: w.city,
}


def own_role(role: str) -> str:
    return {
        VOLUNTEER: "volunteer",
        GRID_WORKER: "grid_worker",
        BUILDING_HEAD: "building_head",
        SHOP_STAFF: "shop_staff",
        ORGANISER_1: "organizer",
        ORGANISER_2: "organizer",
        ADMIN: "admin",
    }[role]


# --- rows for routes other helpers of issue #8 are adding ---------------------------
# Keyed by the operation id they are expected to carry (and their method and
# path, so the rows also apply under another id). Until a route is served its
# rows are not run; once served, they are.

FUTURE_ROWS: dict[str, Row] = {
    "logout": Row(only(lambda w, r: Call()), {"any": roles(ok(200, 204))}, method="POST", path="/api/v1/auth/logout"),
    "changeMyPassword": Row(
        only(lambda w, r: Call(json={"current_password": PASSWORD, "new_password": "another-horse-2"})),
        {"any": roles(ok(200, 204))},
        method="POST",
        path="/api/v1/me/password",
    ),
    "deactivateMember": Row(
        {
            "own": own("member", lambda m, w, r: Call(path={"member_id": m})),
            **each_side(lambda s, w, r: Call(path={"member_id": s.peer.id})),
            "peer_organiser": lambda w, r: Call(path={"member_id": w.side_of(r).peer_organiser.id}),
            "admin_living_below": lambda w, r: Call(path={"member_id": w.side_of(r).hidden_admin.id}),
        },
        {
            "own": managers_only(FORBIDDEN),
            "same": managers_only(ok(200, 204)),
            "foreign": managers_only(HIDDEN, ({ADMIN}, ok(200, 204))),
            "peer_organiser": managers_only(FORBIDDEN, ({ADMIN}, ok(200, 204))),
            "admin_living_below": managers_only(FORBIDDEN, ({ADMIN}, ok(200, 204))),
        },
        method="POST",
        path="/api/v1/members/{member_id}/deactivate",
    ),
    "listShopStaff": Row(
        each_side(lambda s, w, r: Call(path={"shop_id": s.shop})),
        {"same": managers_only(ok(200)), "foreign": managers_only(HIDDEN, ({ADMIN}, ok(200)))},
        method="GET",
        path="/api/v1/shops/{shop_id}/staff",
    ),
    "removeShopStaff": Row(
        {
            **each_side(lambda s, w, r: Call(path={"shop_id": s.shop, "member_id": shop_staff_of(w, s)})),
            # Staff of another shop (or nobody's staff) through this shop's path: nothing to see.
            "member_of_other_shop": lambda w, r: Call(
                path={"shop_id": w.side_of(r).shop, "member_id": shop_staff_of(w, w.other_side(r))},
                secrets=w.other_side(r).secrets(),
            ),
        },
        {
            "same": managers_only(ok(200, 204)),
            "foreign": managers_only(HIDDEN, ({ADMIN}, ok(200, 204))),
            "member_of_other_shop": managers_only(HIDDEN),
        },
        method="DELETE",
        path="/api/v1/shops/{shop_id}/staff/{member_id}",
    ),
    "listAdjustments": Row(
        only(lambda w, r: Call()),
        {"any": managers_only(ok(200))},
        method="GET",
        path="/api/v1/ledger/adjustments",
    ),
    **{
        op: Row(
            each_side(decide_pending(verb)),
            {
                # Created by the community's peer organiser: a second organiser
                # or admin over that node decides; nobody else sees it.
                "same": managers_only(ok(200, 204)),
                "foreign": managers_only(HIDDEN, ({ADMIN}, ok(200, 204))),
            },
            method="POST",
            path=f"/api/v1/ledger/adjustments/{{adjustment_id}}/{verb}",
        )
        for op, verb in (("approveAdjustment", "approve"), ("rejectAdjustment", "reject"))
    },
}


def shop_staff_of(world: World, side: Side) -> int:
    """A member working at ``side``'s shop counter (not one of the seven roles)."""
    return side.staff.id


# --- running it ------------------------------------------------------------------------


@dataclass
class Operation:
    op_id: str
    method: str
    path: str
    params: tuple[str, ...]
    idempotent_key: bool


def served_operations(client: TestClient[Any]) -> list[Operation]:
    schema = client.get("/schema/openapi.json").json()
    found = []
    for path, item in schema["paths"].items():
        for method, spec in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            parameters = spec.get("parameters", [])
            found.append(
                Operation(
                    op_id=spec.get("operationId") or f"{method.upper()} {path}",
                    method=method.upper(),
                    path=path,
                    params=tuple(p["name"] for p in parameters if p["in"] == "path"),
                    idempotent_key=any(p["name"] == "Idempotency-Key" for p in parameters),
                )
            )
    return found


def row_for(operation: Operation) -> Row | None:
    if operation.op_id in ROWS:
        return ROWS[operation.op_id]
    if operation.op_id in FUTURE_ROWS:
        return FUTURE_ROWS[operation.op_id]
    return next(
        (row for row in FUTURE_ROWS.values() if (row.method, row.path) == (operation.method, operation.path)), None
    )


def test_every_served_route_has_matrix_rows() -> None:
    """A route added to the app without rows here fails, naming it."""
    get_settings.cache_clear()
    with TestClient(app=create_app(run_background_jobs=False)) as client:
        operations = served_operations(client)
    missing = [f"{op.op_id} ({op.method} {op.path})" for op in operations if row_for(op) is None]
    assert not missing, (
        "served operations without authorisation-matrix rows: "
        + ", ".join(missing)
        + ". Add a Row keyed by the operation id to ROWS in tests/integration/api/test_authorization_matrix.py "
        "(targets own/same/foreign and the outcome for each of the seven roles)."
    )
    served = {op.op_id for op in operations}
    stale = sorted(set(ROWS) - served)
    assert not stale, (
        f"rows for operations the app no longer serves: {stale}; rename or remove them in ROWS "
        "(rows for routes still to come belong in FUTURE_ROWS)"
    )
    incomplete = [
        f"{op_id}: target {target!r}"
        for op_id, row in {**ROWS, **FUTURE_ROWS}.items()
        for target in row.targets
        if set(row.expect.get(target, {})) != set(ROLES)
    ]
    assert not incomplete, f"rows without an outcome for every role: {incomplete}"


def _url(operation: Operation, call: Call) -> str:
    values = dict(call.path)
    if set(values) != set(operation.params) and len(values) == len(operation.params) == 1:
        values = {operation.params[0]: next(iter(values.values()))}
    assert set(values) == set(operation.params), (
        f"{operation.op_id}: the row fills {sorted(values)}, the route takes {sorted(operation.params)}"
    )
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), operation.path)


def _problem_code(body: str) -> str | None:
    try:
        return str(json.loads(body).get("code"))
    except (ValueError, AttributeError):
        return None


def _leaks(body: str, call: Call, request_text: str) -> list[str]:
    return [secret for secret in call.secrets if secret and secret not in request_text and secret in body]


@dataclass
class Matrix:
    client: TestClient[Any]
    world: World
    pristine: Any
    pristine_rows: Any
    failures: list[str] = field(default_factory=list)
    cells: int = 0
    probes: int = 0

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        portal = self.client.blocking_portal
        return portal.call(fn, *args)

    def request(self, operation: Operation, role: str, call: Call) -> tuple[int, str, str, str]:
        headers = {} if role == ANONYMOUS else {"Authorization": f"Bearer {self.world.tokens[role]}"}
        if operation.idempotent_key:
            headers["Idempotency-Key"] = f"matrix-{uuid.uuid4()}"
        kwargs: dict[str, Any] = {"params": call.query, "headers": headers}
        if call.files is not None:
            kwargs["files"] = call.files
        elif call.json is not None:
            kwargs["json"] = call.json
        url = _url(operation, call)
        response = self.client.request(operation.method, url, **kwargs)
        request_text = f"{url} {call.query} {call.json}"
        return response.status_code, response.headers.get("content-type", ""), response.text, request_text

    def cell(self, operation: Operation, role: str, target: str, call: Call, expected: Outcome) -> None:
        self.cells += 1
        status, content_type, body, request_text = self.request(operation, role, call)
        where = f"{operation.op_id} as {role} on {target}"
        problems = []
        if status not in expected.statuses:
            problems.append(f"expected {expected}, got {status}: {body[:160]}")
        refusal = isinstance(expected, Refused)
        if (refusal or getattr(expected, "hides", False)) and (leaked := _leaks(body, call, request_text)):
            problems.append(f"the answer ({status}) carries the target's {leaked}")
        if refusal and status in expected.statuses and not content_type.startswith("application/problem+json"):
            problems.append(f"a refusal answered {content_type!r}, not application/problem+json")
        after = self.run(fingerprint)
        if after != self.pristine:
            if refusal:
                problems.append(f"a refused request ({status}) changed {self.pristine.changes(after)}")
            changed = {name for name in after.tables if after.tables[name] != self.pristine.tables.get(name)}
            self.run(restore, self.pristine_rows, changed)
            restored = self.run(fingerprint)
            assert restored == self.pristine, f"restoring after {where} left {self.pristine.changes(restored)}"
        if operation.method != "GET":
            self.run(self.client.app.state.redis.flushdb)  # throttle counters: each cell starts clean
        if expected == HIDDEN and status == 404 and target == "foreign":
            problems += self.probe(operation, role, call, body)
        self.failures.extend(f"{where}: {problem}" for problem in problems)

    def probe(self, operation: Operation, role: str, call: Call, body: str) -> list[str]:
        """A foreign object must answer exactly like one that does not exist
        (same status, same problem code), or ids can be probed."""
        ids = {name: value for name, value in call.path.items() if isinstance(value, int)}
        if not ids:
            return []
        self.probes += 1
        missing = Call({**call.path, **dict.fromkeys(ids, MISSING_ID)}, call.query, call.json, call.files)
        status, _, missing_body, _ = self.request(operation, role, missing)
        if not 400 <= status < 500:  # it did something: put the world back
            after = self.run(fingerprint)
            self.run(
                restore, self.pristine_rows, {n for n in after.tables if after.tables[n] != self.pristine.tables[n]}
            )
        if operation.method != "GET":
            self.run(self.client.app.state.redis.flushdb)
        if status == 404 and _problem_code(missing_body) == _problem_code(body):
            return []
        return [
            f"a foreign object answers 404 {_problem_code(body)!r}, a missing one {status} "
            f"{_problem_code(missing_body)!r}: ids can be probed"
        ]


def _login(client: TestClient[Any], phone: str) -> str:
    response = client.post("/api/v1/auth/login", json={"phone": phone, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _pending_adjustments(client: TestClient[Any], world: World, operations: list[Operation]) -> None:
    """The approve/reject rows need one pending adjustment per community,
    made by its peer organiser above the four-eyes threshold; only once
    those routes are served."""
    deciding = {id(FUTURE_ROWS["approveAdjustment"]), id(FUTURE_ROWS["rejectAdjustment"])}
    if not any(id(row_for(operation)) in deciding for operation in operations):
        return
    above = get_settings().adjustment_approval_above + 100
    for side in world.sides:
        token = _login(client, side.peer_organiser.phone)
        response = client.post(
            "/api/v1/ledger/adjustments",
            json={
                "debit_account": side.issuance,
                "credit_account": f"volunteer:{side.spare.id}:wallet",
                "amount": f"{above:.2f}",
                "reason_zh": "大额补录",
            },
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"matrix-pending-{side.number}"},
        )
        assert response.status_code in {201, 202}, response.text
        created = response.json()
        world.pending[side.number] = int(created.get("adjustment_id") or created["id"])


@pytest.mark.slow
@pytest.mark.slow
def test_authorisation_matrix() -> None:
    """Every served route, as every role, on own / same-node / foreign
    objects, answers as the policy says; refusals reveal and change nothing."""
    get_settings.cache_clear()
    with TestClient(app=create_app(run_background_jobs=False)) as client:
        portal = client.blocking_portal
        portal.call(client.app.state.redis.flushdb)
        world = portal.call(build_world)
        for role in ROLES:
            world.tokens[role] = _login(client, world.people[role].phone)
        operations = served_operations(client)
        _pending_adjustments(client, world, operations)
        portal.call(client.app.state.redis.flushdb)
        matrix = Matrix(client, world, portal.call(fingerprint), portal.call(snapshot))
        for operation in operations:
            row = row_for(operation)
            assert row is not None, f"{operation.op_id} has no rows (see test_every_served_route_has_matrix_rows)"
            for target, fill in row.targets.items():
                for role in ROLES:
                    call = fill(world, role)
                    if call is not None:
                        matrix.cell(operation, role, target, call, row.expect[target][role])
            target, call = next(
                (name, made) for name, fill in row.targets.items() if (made := fill(world, VOLUNTEER)) is not None
            )
            matrix.cell(operation, ANONYMOUS, target, call, row.anonymous)
    disagreeing = "\n".join(matrix.failures)
    assert not matrix.failures, (
        f"{len(matrix.failures)} of {matrix.cells} cells ({matrix.probes} missing-id probes) "
        f"disagree with the policy:\n{disagreeing}"
    )
