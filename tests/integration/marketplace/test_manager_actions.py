"""Shops and catalog items are opened and changed only by managers of their
organisation (marketplace/policy.py); the change and its audit row commit
together. Someone who may see the node or item gets 403, anyone else the
same 404 as for an id that does not exist; nothing is written either way."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from community import audit
from community.errors import AccessRefused, OrganisationNotFound
from community.members import grant_role
from community.organisations import create_organisation
from community.roles import Level, Role
from community.tables import AuditEvent
from marketplace.catalog import ItemDraft, create_item, set_image, update_item, visible_item
from marketplace.errors import InvalidCatalogData, ItemNotFound
from marketplace.shops import create_shop
from tests.support.marketplace_helpers import Market, acting, assert_same, fast_member, snapshot_everything


async def refused_alike(error: type[Exception], call: Any) -> Exception:
    before = await snapshot_everything()
    with pytest.raises(error) as caught:
        await call
    assert_same(before, await snapshot_everything())
    return caught.value


async def outside_organiser() -> int:
    elsewhere = await create_organisation(name_zh="别的社区", level=Level.COMMUNITY, issues_points=True)
    organiser = await fast_member(elsewhere.id, "外社区书记")
    await grant_role(organiser, elsewhere.id, Role.ORGANIZER)
    return organiser


async def test_only_managers_of_a_node_open_shops_there(market: Market) -> None:
    """A volunteer of the community: 403 not_manager. An organiser of another
    community: 404, worded as for a node id that does not exist."""
    volunteer = await acting(await market.member())
    error = await refused_alike(AccessRefused, create_shop(volunteer, organisation_id=market.org_id, name_zh="黑店"))
    assert isinstance(error, AccessRefused) and error.code == "not_manager"
    stranger = await acting(await outside_organiser())
    foreign = await refused_alike(
        OrganisationNotFound, create_shop(stranger, organisation_id=market.org_id, name_zh="黑店")
    )
    missing = await refused_alike(
        OrganisationNotFound, create_shop(stranger, organisation_id=market.org_id + 1000, name_zh="黑店")
    )
    assert isinstance(foreign, OrganisationNotFound) and isinstance(missing, OrganisationNotFound)
    assert foreign.message.replace(str(market.org_id), "N") == missing.message.replace(str(market.org_id + 1000), "N")


async def test_only_managers_change_items_and_other_communities_do_not_see_them(market: Market) -> None:
    """A volunteer sees the item but cannot change it (403); an organiser of
    another community neither sees nor changes it (404); the item is unchanged."""
    item = await market.item(stock=5)
    draft = ItemDraft(name_zh="改名", price=Decimal("1.00"), shop_ids=[market.shop_a.id])
    volunteer = await acting(await market.member())
    assert (await visible_item(volunteer, item.id)).id == item.id
    await refused_alike(AccessRefused, update_item(volunteer, item.id, draft))
    await refused_alike(AccessRefused, set_image(volunteer, item.id, "0" * 64))
    stranger = await acting(await outside_organiser())
    await refused_alike(ItemNotFound, visible_item(stranger, item.id))
    await refused_alike(ItemNotFound, update_item(stranger, item.id, draft))
    await refused_alike(ItemNotFound, set_image(stranger, item.id, "0" * 64))
    await refused_alike(
        OrganisationNotFound,
        create_item(
            stranger, market.org_id, ItemDraft(name_zh="x", price=Decimal("1.00"), shop_ids=[market.shop_a.id])
        ),
    )


async def test_an_item_stays_in_its_catalog_and_shops_come_from_under_it(market: Market) -> None:
    """update_item with another organisation id, or a shop outside the
    catalog's organisation (or one that does not exist), is 422 and changes nothing."""
    organiser = await acting(market.organiser)
    item = await market.item(stock=5)
    draft = ItemDraft(name_zh="改名", price=Decimal("1.00"), shop_ids=[market.shop_a.id])
    error = await refused_alike(
        InvalidCatalogData, update_item(organiser, item.id, draft, organisation_id=market.org_id + 1)
    )
    assert isinstance(error, InvalidCatalogData) and error.field == "organisation_id"
    stranger = await acting(await outside_organiser())
    (elsewhere,) = stranger.organisations_with(Role.ORGANIZER)
    outside_shop = await create_shop(stranger, organisation_id=elsewhere, name_zh="外社区超市")
    answers = []
    for shop_id in (outside_shop.id, outside_shop.id + 1000):
        bad = draft.model_copy(update={"shop_ids": [shop_id]})
        error = await refused_alike(InvalidCatalogData, update_item(organiser, item.id, bad))
        assert isinstance(error, InvalidCatalogData) and error.field == "shop_ids"
        answers.append(error.message.replace(str(shop_id), "N"))
    assert answers[0] == answers[1]


async def test_an_item_and_its_audit_row_commit_together(market: Market, monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit write fails: no item, no shop link; with it working, one row."""
    organiser = await acting(market.organiser)
    draft = ItemDraft(name_zh="香皂", price=Decimal("3.00"), shop_ids=[market.shop_a.id])

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("audit store down")

    with monkeypatch.context() as patch:
        patch.setattr(audit, "record", broken)
        await refused_alike(RuntimeError, create_item(organiser, market.org_id, draft))
    item = await create_item(organiser, market.org_id, draft)
    (row,) = await AuditEvent.select().where(AuditEvent.target_ref == f"item:{item.id}").run()
    assert row["action"] == "catalog.create" and row["actor_ref"] == f"member:{market.organiser}"
