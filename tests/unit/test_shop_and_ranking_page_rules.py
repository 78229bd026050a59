"""The pure choices of the supermarket and ranking pages
(``web/shop_pages.py``, ``web/ranking_pages.py``) and the words their
templates build from enum values: no database."""

from __future__ import annotations

from decimal import Decimal

from activities.models import Kind, Status
from campaigns.rules import ReportKind
from community.models import OrganisationRecord, TeamKind, TeamRecord
from community.roles import Level
from leaderboards.models import Visibility
from marketplace.catalog import CATEGORIES
from marketplace.models import ItemRecord, LimitPeriod, OrderStatus
from web.i18n import CATALOG
from web.ranking_pages import PERIODS, board_choices
from web.shop_pages import KEY_PATTERN, new_order_key, page_order_key, shown_items


def item(item_id: int, price: str) -> ItemRecord:
    return ItemRecord(
        id=item_id,
        organisation_id=1,
        name_zh=f"商品{item_id}",
        name_en="",
        description_zh="",
        description_en="",
        category="other",
        image_sha256="",
        price=Decimal(price),
        stock=None,
        limit_count=None,
        limit_period=None,
        available_from=None,
        available_until=None,
        active=True,
    )


def test_affordable_items_come_first_in_their_order_then_the_rest_with_how_far_short() -> None:
    items = (item(1, "3.00"), item(2, "30.00"), item(3, "10.00"), item(4, "10.01"))
    shown = shown_items(items, Decimal("10.00"))
    assert [row.item.id for row in shown] == [1, 3, 2, 4]
    assert [row.affordable for row in shown] == [True, True, False, False]
    assert [row.short_by for row in shown] == [Decimal("0.00"), Decimal("0.00"), Decimal("20.00"), Decimal("0.01")]


def test_with_no_points_nothing_is_affordable_but_everything_is_listed() -> None:
    shown = shown_items((item(1, "1.00"), item(2, "2.00")), Decimal("0.00"))
    assert [(row.item.id, row.affordable) for row in shown] == [(1, False), (2, False)]


def test_each_redeem_form_gets_its_own_key_within_what_the_server_accepts() -> None:
    keys = {new_order_key() for _ in range(50)}
    assert len(keys) == 50
    assert all(KEY_PATTERN.fullmatch(key) for key in keys)
    assert page_order_key(7, "k" * 16) == "page:7:" + "k" * 16
    assert page_order_key(7, "k" * 16) != page_order_key(8, "k" * 16)


def node(node_id: int, level: Level, parent: int | None) -> OrganisationRecord:
    return OrganisationRecord(
        id=node_id,
        parent_id=parent,
        level=level,
        name_zh=f"节点{node_id}",
        name_en="",
        issues_points=False,
        path=str(node_id),
    )


def test_the_ranking_offers_my_grid_my_community_and_each_team() -> None:
    nodes = [node(9, Level.BUILDING, 5), node(5, Level.GRID, 3), node(3, Level.COMMUNITY, 1), node(1, Level.CITY, None)]
    team = TeamRecord(
        id=4,
        organisation_id=3,
        name_zh="巡逻队",
        name_en="Patrol team",
        kind=TeamKind.PATROL,
        leader_id=None,
        active=True,
        member_count=3,
    )
    choices = board_choices(nodes, [team], "en")
    assert [(c.key, c.scope, c.label, c.name) for c in choices] == [
        ("grid", "org:5", "ranking_grid", ""),
        ("community", "org:3", "ranking_community", ""),
        ("team-4", "team:4", "ranking_team", "Patrol team"),
    ]
    assert board_choices(nodes, [team], "zh")[2].name == "巡逻队"


def test_a_member_living_above_any_grid_ranks_in_their_home_node() -> None:
    nodes = [node(3, Level.COMMUNITY, 1), node(1, Level.CITY, None)]
    assert [(c.key, c.scope) for c in board_choices(nodes, [], "zh")] == [("grid", "org:3")]


def test_every_word_a_template_builds_from_a_value_is_in_the_catalog() -> None:
    built = (
        {f"status_{status.value}" for status in OrderStatus}
        | {f"category_{name}" for name in CATEGORIES}
        | {f"item_limit_{period.value}" for period in LimitPeriod}
        | {f"status_{status.value}" for status in Status}
        | {f"report_kind_{kind.value}" for kind in ReportKind}
        | {f"activity_title_{kind.value}" for kind in Kind}
        | {f"visibility_{choice.value}" for choice in Visibility}
        | {f"ranking_{period}" for period in PERIODS}
    )
    assert built - CATALOG.keys() == set()


def test_every_redemption_refusal_has_words_and_a_subclass_gets_its_parents() -> None:
    from ledger.errors import InsufficientFunds
    from web.shop_pages import REDEEM_REFUSALS, refusal_message

    class Poorer(InsufficientFunds):
        pass

    assert set(REDEEM_REFUSALS.values()) <= CATALOG.keys()
    assert refusal_message(Poorer("w", Decimal("1.00"), Decimal("2.00"))) == "redeem_insufficient"
