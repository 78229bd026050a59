"""marketplace/policy: the pure who-may decisions, without a database.
Allowed cases return; refusals are 404 (``*NotFound``: the object does not
exist for the caller) or 403 (``AccessRefused`` with a code naming the rule)."""

from __future__ import annotations

import pytest

from community.access import Principal
from community.errors import AccessRefused, MemberNotFound, OrganisationNotFound
from community.roles import Role
from marketplace import policy
from marketplace.errors import ItemNotFound, ItemUnavailable, OrderNotFound, ShopNotFound, StaffNotFound
from marketplace.policy import ShopAction, ShopStanding


def standing(*, works_here: bool, manages: bool) -> ShopStanding:
    return ShopStanding(shop_id=7, organisation_id=3, works_here=works_here, manages=manages)


CLERK = standing(works_here=True, manages=False)
MANAGER = standing(works_here=False, manages=True)
MANAGING_CLERK = standing(works_here=True, manages=True)
NOBODY = standing(works_here=False, manages=False)


@pytest.mark.parametrize(
    ("who", "action"),
    [
        (CLERK, ShopAction.COUNTER),
        (CLERK, ShopAction.READ),
        (MANAGER, ShopAction.READ),
        (MANAGER, ShopAction.MANAGE),
        (MANAGING_CLERK, ShopAction.COUNTER),
        (MANAGING_CLERK, ShopAction.MANAGE),
    ],
)
def test_shop_actions_allowed(who: ShopStanding, action: ShopAction) -> None:
    policy.check_shop_action(who, action)


@pytest.mark.parametrize("action", list(ShopAction))
def test_a_shop_one_neither_works_at_nor_manages_does_not_exist(action: ShopAction) -> None:
    with pytest.raises(ShopNotFound) as caught:
        policy.check_shop_action(NOBODY, action)
    assert caught.value.field == "shop_id"


def test_managers_are_not_counter_clerks_and_clerks_are_not_managers() -> None:
    with pytest.raises(AccessRefused) as at_counter:
        policy.check_shop_action(MANAGER, ShopAction.COUNTER)
    assert at_counter.value.code == "not_shop_staff"
    with pytest.raises(AccessRefused) as managing:
        policy.check_shop_action(CLERK, ShopAction.MANAGE)
    assert managing.value.code == "not_manager"


def test_staff_target_is_never_the_actor_and_only_managed_members() -> None:
    policy.check_staff_target(actor_id=1, member_id=2, exists=True, managed=True, visible=True)
    with pytest.raises(AccessRefused) as own:
        policy.check_staff_target(actor_id=1, member_id=1, exists=True, managed=True, visible=True)
    assert own.value.code == "own_roles"
    with pytest.raises(AccessRefused) as seen:
        policy.check_staff_target(actor_id=1, member_id=2, exists=True, managed=False, visible=True)
    assert seen.value.code == "not_managed"


def test_an_unseen_member_and_a_missing_one_answer_alike() -> None:
    answers = []
    for exists in (True, False):
        with pytest.raises(MemberNotFound) as caught:
            policy.check_staff_target(actor_id=1, member_id=2, exists=exists, managed=False, visible=False)
        answers.append((caught.value.message, caught.value.field))
    assert answers[0] == answers[1]


def test_staff_removal_needs_a_linked_member_other_than_oneself() -> None:
    policy.check_staff_removal(actor_id=1, member_id=2, linked=True)
    with pytest.raises(AccessRefused):
        policy.check_staff_removal(actor_id=1, member_id=1, linked=True)
    with pytest.raises(StaffNotFound):
        policy.check_staff_removal(actor_id=1, member_id=2, linked=False)


def test_creating_at_a_node_needs_its_manager_and_unseen_nodes_do_not_exist() -> None:
    policy.check_organisation_manager(organisation_id=3, manages=True, sees=True, field="organisation_id")
    with pytest.raises(AccessRefused):
        policy.check_organisation_manager(organisation_id=3, manages=False, sees=True, field="organisation_id")
    with pytest.raises(OrganisationNotFound):
        policy.check_organisation_manager(organisation_id=3, manages=False, sees=False, field="organisation_id")


def test_items_change_only_by_their_managers_and_exist_only_in_ones_catalog() -> None:
    policy.check_item_manager(item_id=5, manages=True, in_catalog=False)
    with pytest.raises(AccessRefused):
        policy.check_item_manager(item_id=5, manages=False, in_catalog=True)
    with pytest.raises(ItemNotFound):
        policy.check_item_manager(item_id=5, manages=False, in_catalog=False)
    policy.check_item_visible(item_id=5, in_catalog=True, manages=False)
    with pytest.raises(ItemNotFound):
        policy.check_item_visible(item_id=5, in_catalog=False, manages=False)


def test_orders_exist_only_for_the_member_who_placed_them() -> None:
    me = Principal(member_id=4, name="张", home_organisation_id=3, grants=((3, Role.VOLUNTEER),))
    policy.check_own_order(principal=me, order_id=9, order_member_id=4)
    for owner in (5, None):
        with pytest.raises(OrderNotFound):
            policy.check_own_order(principal=me, order_id=9, order_member_id=owner)


def test_order_scope_refuses_other_catalogs_like_missing_items_and_other_issuers_shops() -> None:
    policy.check_order_scope(item_id=5, item_in_catalog=True)
    with pytest.raises(ItemNotFound):
        policy.check_order_scope(item_id=5, item_in_catalog=False)
    policy.check_pickup_shop(carries_item=True, active=True, same_issuer=True)
    for facts in (
        {"carries_item": False, "active": True, "same_issuer": True},
        {"carries_item": True, "active": False, "same_issuer": True},
        {"carries_item": True, "active": True, "same_issuer": False},
    ):
        with pytest.raises(ItemUnavailable) as caught:
            policy.check_pickup_shop(**facts)
        assert caught.value.field == "shop_id"
