"""Who may do what in the points supermarket. One place, so the API, the
CLI, jobs and admin forms refuse alike.

- **Counter work** (confirm a pickup) needs a member who *works at that
  shop*: linked to it (``ShopStaff``) **and** holding an active
  ``shop_staff`` role grant at the shop's organisation or above it. Role
  grants are the source of truth: revoking the role ends the counter work at
  once, link or no link.
- **Shop reads and returns** (a shop's orders, its statements, taking an
  item back): whoever works at the shop, and the organisers and admins who
  manage the shop's organisation.
- **Managing a shop** (settling, adding and removing staff, listing staff):
  managers of its organisation only.
- To anyone else a shop does not exist (``ShopNotFound``), so a counter
  clerk of shop A learns nothing about shop B. Someone who may see the shop
  but not do this to it (a manager at the counter, a clerk settling) gets
  ``AccessRefused``.
- **Staff are added** only from the members the caller manages (home
  organisation in the caller's managed subtree), never the caller itself
  (nobody changes their own roles). A member the caller may not see answers
  exactly like a member id that does not exist.
- **Catalog items** are changed by managers of the item's organisation;
  members see the items of their home organisation and every one above it.
- **Orders** belong to the member who placed them; to everyone else they do
  not exist. A member orders only from their own catalog (the item's
  organisation is their home or above it; otherwise the item does not
  exist for them), at an open shop that hands the item out and belongs to
  the same points issuer as the member: points issued by one community are
  never settled into another's.

The ``check_*`` functions are pure decisions over facts, unit-tested without
a database; the ``*_standing``/``authorise_*`` functions read those facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from community.access import (
    Principal,
    can_manage_organisation,
    can_see_organisation,
    covers,
    holds_role_over,
    manages,
)
from community.errors import AccessRefused, MemberNotFound, OrganisationNotFound
from community.organisations import ancestor_ids
from community.roles import Role
from community.tables import Organisation
from marketplace.errors import ItemNotFound, ItemUnavailable, OrderNotFound, ShopNotFound, StaffNotFound
from marketplace.models import ShopRecord
from marketplace.tables import Shop, ShopStaff

STAFF_ROLE = frozenset({Role.SHOP_STAFF})


class ShopAction(StrEnum):
    COUNTER = "counter"  # confirm pickups
    READ = "read"  # the shop's orders and statements; returns at its counter
    MANAGE = "manage"  # settle, add/remove/list staff


@dataclass(frozen=True, slots=True)
class ShopStanding:
    """What the acting principal is to one shop."""

    shop_id: int
    organisation_id: int
    works_here: bool  # linked to the shop and holding the shop_staff role over it
    manages: bool  # organiser or admin over the shop's organisation


@dataclass(frozen=True, slots=True)
class ShopFacts:
    """What a shop standing is decided over, read in one statement
    (``marketplace.sql.COUNTER_STANDING``): the shop's organisation and its
    chain (the node, then upwards), whether the member is linked to the
    shop, and where the member holds the counter role."""

    organisation_id: int
    chain: tuple[int, ...]
    linked: bool
    staff_role_at: tuple[int, ...]


def standing_from(principal: Principal, shop_id: int, facts: ShopFacts | None) -> ShopStanding:
    """The principal's standing at ``shop_id`` (``None``: no such shop).
    Works here: linked *and* holding ``shop_staff`` at the shop's node or
    above (``works_at``); manages: an organiser or admin grant there or
    above (``community.access.can_manage_organisation``)."""
    if facts is None:
        return ShopStanding(shop_id=shop_id, organisation_id=0, works_here=False, manages=False)
    return ShopStanding(
        shop_id=shop_id,
        organisation_id=facts.organisation_id,
        works_here=facts.linked and covers(facts.staff_role_at, facts.chain),
        manages=manages(principal, facts.chain),
    )


def check_shop_action(standing: ShopStanding, action: ShopAction) -> None:
    """Raise unless ``standing`` allows ``action`` at the shop."""
    if action == ShopAction.COUNTER and standing.works_here:
        return
    if action == ShopAction.READ and (standing.works_here or standing.manages):
        return
    if action == ShopAction.MANAGE and standing.manages:
        return
    if standing.manages:
        raise AccessRefused("only the shop's own counter staff confirm pickups", field="shop_id", code="not_shop_staff")
    if standing.works_here:
        raise AccessRefused(
            "only organisers and admins of the shop's organisation do this", field="shop_id", code="not_manager"
        )
    raise ShopNotFound(f"no shop {standing.shop_id} that you work at or manage", field="shop_id")


def check_organisation_manager(*, organisation_id: int, manages: bool, sees: bool, field: str) -> None:
    """Creating at a node (a shop, a catalog item) needs a manager of it. A
    node the principal cannot even see is refused as if it did not exist."""
    if manages:
        return
    if sees:
        raise AccessRefused("you do not manage this organisation", field=field, code="not_manager")
    raise OrganisationNotFound(f"organisation {organisation_id} does not exist", field=field)


def check_item_manager(*, item_id: int, manages: bool, in_catalog: bool) -> None:
    """Changing an item needs a manager of its organisation. An item outside
    the principal's catalog and management does not exist for them."""
    if manages:
        return
    if in_catalog:
        raise AccessRefused("only organisers and admins of this catalog change its items", code="not_manager")
    raise ItemNotFound(f"no item {item_id} in your catalog", field="item_id")


def check_item_visible(*, item_id: int, in_catalog: bool, manages: bool) -> None:
    if not (in_catalog or manages):
        raise ItemNotFound(f"no item {item_id} in your catalog", field="item_id")


def check_staff_target(*, actor_id: int, member_id: int, exists: bool, managed: bool, visible: bool) -> None:
    """Who may be made counter staff: a member the actor manages, never the
    actor. Unknown ids and members the actor may not see answer alike."""
    if member_id == actor_id:
        raise AccessRefused("nobody changes their own roles", field="member_id", code="own_roles")
    if exists and managed:
        return
    if exists and visible:
        raise AccessRefused("you do not manage this member", field="member_id", code="not_managed")
    raise MemberNotFound(f"no member {member_id} that you manage", field="member_id")


def check_staff_removal(*, actor_id: int, member_id: int, linked: bool) -> None:
    if member_id == actor_id:
        raise AccessRefused("nobody changes their own roles", field="member_id", code="own_roles")
    if not linked:
        raise StaffNotFound(f"member {member_id} does not work at this shop", field="member_id")


def check_own_order(*, principal: Principal, order_id: int, order_member_id: int | None) -> None:
    """An order exists only for the member who placed it."""
    if order_member_id != principal.member_id:
        raise OrderNotFound(f"no order {order_id} of yours", field="order_id")


def check_order_scope(*, item_id: int, item_in_catalog: bool) -> None:
    """A member orders from their own catalog only: an item of another
    community's catalog is refused exactly like a missing one."""
    if not item_in_catalog:
        raise ItemNotFound(f"no item {item_id} in your catalog", field="item_id")


def check_pickup_shop(*, carries_item: bool, active: bool, same_issuer: bool) -> None:
    """The shop must hand the item out, be open, and belong to the member's
    points issuer (points of one issuer are never settled into another's).
    One answer for all of these and for a shop id that does not exist."""
    if not (carries_item and active and same_issuer):
        raise ItemUnavailable("this shop does not hand out this item", field="shop_id")


# --- facts, read from the database ---------------------------------------------


async def works_at(member_id: int, shop_id: int, organisation_id: int) -> bool:
    """Linked to the shop and holding ``shop_staff`` at its organisation or above."""
    linked = await ShopStaff.exists().where((ShopStaff.shop == shop_id) & (ShopStaff.member == member_id)).run()
    return bool(linked) and await holds_role_over(member_id, organisation_id, STAFF_ROLE)


async def find_shop(shop_id: int) -> ShopRecord | None:
    """The shop, unscoped (a fact for the decisions here; not for callers to show)."""
    rows = await Shop.select().where(Shop.id == shop_id).run()
    return ShopRecord.from_row(rows[0]) if rows else None


async def _standing(principal: Principal, shop_id: int, shop: ShopRecord | None) -> ShopStanding:
    if shop is None:  # a missing shop is one the principal has no standing at
        return ShopStanding(shop_id=shop_id, organisation_id=0, works_here=False, manages=False)
    return ShopStanding(
        shop_id=shop_id,
        organisation_id=shop.organisation_id,
        works_here=await works_at(principal.member_id, shop_id, shop.organisation_id),
        manages=await can_manage_organisation(principal, shop.organisation_id),
    )


async def shop_standing(principal: Principal, shop_id: int) -> ShopStanding:
    """The principal's standing at ``shop_id``; a missing shop is a shop the
    principal has no standing at (same refusal as any other)."""
    return await _standing(principal, shop_id, await find_shop(shop_id))


async def authorise_shop(principal: Principal, shop_id: int, action: ShopAction) -> ShopStanding:
    """Raise unless ``principal`` may do ``action`` at ``shop_id``."""
    standing = await shop_standing(principal, shop_id)
    check_shop_action(standing, action)
    return standing


async def shop_for(principal: Principal, shop_id: int, action: ShopAction) -> ShopRecord:
    """The shop, if ``principal`` may do ``action`` there: the resolver
    handlers receive a shop through (``api/marketplace/shops.py``)."""
    shop = await find_shop(shop_id)
    check_shop_action(await _standing(principal, shop_id, shop), action)
    if shop is None:  # check_shop_action refused already; this narrows the type
        raise ShopNotFound(f"no shop {shop_id} that you work at or manage", field="shop_id")
    return shop


async def authorise_organisation_manager(principal: Principal, organisation_id: int, *, field: str) -> None:
    """Raise unless the principal manages the node; a node they cannot see
    answers exactly like one that does not exist."""
    exists = bool(await Organisation.exists().where(Organisation.id == organisation_id).run())
    manages = exists and await can_manage_organisation(principal, organisation_id)
    sees = manages or (exists and await can_see_organisation(principal, organisation_id))
    check_organisation_manager(organisation_id=organisation_id, manages=manages, sees=sees, field=field)


async def in_catalog_of(principal: Principal, organisation_id: int) -> bool:
    """Is ``organisation_id``'s catalog the principal's (home or above)?"""
    return organisation_id in await ancestor_ids(principal.home_organisation_id)
