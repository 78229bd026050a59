"""Marketplace tables.

Points amounts are BIGINT hundredths, as in the ledger; conversion goes
through ``ledger.amounts``. Points never live here: an order refers to the
ledger hold (and later entry) that carries them.
"""

from __future__ import annotations

from piccolo.columns import (
    BigInt,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from community.tables import Member, Organisation


class Shop(Table, tablename="marketplace_shop"):
    """A partner shop that hands out redeemed items; owns ``shop:<id>:settlement``."""

    id = Serial(primary_key=True)
    organisation = ForeignKey(Organisation, null=False, index=True, on_delete=OnDelete.restrict)
    name_zh = Varchar(length=200)
    name_en = Varchar(length=200, default="")
    address = Varchar(length=300, default="")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class ShopStaff(Table, tablename="marketplace_shop_staff"):
    """Which members work the counter of which shop. (shop, member) is
    unique through an index in a raw migration."""

    id = Serial(primary_key=True)
    shop = ForeignKey(Shop, null=False, index=True, on_delete=OnDelete.restrict)
    member = ForeignKey(Member, null=False, index=True, on_delete=OnDelete.restrict)
    added_at = Timestamptz(default=TimestamptzNow())


class CatalogItem(Table, tablename="marketplace_catalog_item"):
    id = Serial(primary_key=True)
    organisation = ForeignKey(Organisation, null=False, index=True, on_delete=OnDelete.restrict)
    name_zh = Varchar(length=200, index=True)
    name_en = Varchar(length=200, default="")
    description_zh = Text(default="")
    description_en = Text(default="")
    category = Varchar(length=40, index=True)
    image_sha256 = Varchar(length=64, default="")
    price_minor = BigInt(index=True)
    # NULL means unlimited stock.
    stock = Integer(null=True, default=None)
    # Per-member limit: at most `limit_count` units per `limit_period`.
    limit_count = Integer(null=True, default=None)
    limit_period = Varchar(length=8, null=True, default=None)
    available_from = Timestamptz(null=True, default=None)
    available_until = Timestamptz(null=True, default=None)
    active = Boolean(default=True, index=True)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class CatalogItemShop(Table, tablename="marketplace_catalog_item_shop"):
    """The shops that hand out an item. (item, shop) unique via raw migration."""

    id = Serial(primary_key=True)
    item = ForeignKey(CatalogItem, null=False, index=True, on_delete=OnDelete.restrict)
    shop = ForeignKey(Shop, null=False, index=True, on_delete=OnDelete.restrict)


class RedemptionOrder(Table, tablename="marketplace_order"):
    """placed → fulfilled (→ returned) | cancelled | expired.

    The pickup code is unique among *placed* orders (partial unique index
    in a raw migration), so codes can be reused once an order is closed.
    """

    id = Serial(primary_key=True)
    member = ForeignKey(Member, null=False, index=True, on_delete=OnDelete.restrict)
    item = ForeignKey(CatalogItem, null=False, index=True, on_delete=OnDelete.restrict)
    shop = ForeignKey(Shop, null=False, index=True, on_delete=OnDelete.restrict)
    quantity = Integer()
    unit_price_minor = BigInt()
    total_minor = BigInt()
    status = Varchar(length=12, index=True)
    pickup_code = Varchar(length=12, index=True)
    # Set in the same transaction, right after the hold is created for this order.
    hold_id = BigInt(null=True, default=None, index=True)
    entry_id = BigInt(null=True, default=None)
    return_entry_id = BigInt(null=True, default=None)
    restocked = Boolean(default=False)
    idempotency_key = Varchar(length=200, null=True, default=None, unique=True)
    placed_at = Timestamptz(default=TimestamptzNow(), index=True)
    expires_at = Timestamptz(index=True)
    fulfilled_at = Timestamptz(null=True, default=None, index=True)
    fulfilled_by = ForeignKey(Member, null=True, default=None, on_delete=OnDelete.restrict)
    closed_at = Timestamptz(null=True, default=None)
    returned_at = Timestamptz(null=True, default=None, index=True)


class SettlementStatement(Table, tablename="marketplace_settlement"):
    """A settled period of one shop. (shop, period_start) unique via raw
    migration: a period is settled once and then locked."""

    id = Serial(primary_key=True)
    shop = ForeignKey(Shop, null=False, index=True, on_delete=OnDelete.restrict)
    period_start = Timestamptz()
    period_end = Timestamptz()
    total_minor = BigInt()
    order_count = Integer()
    entry_id = BigInt(null=True, default=None)
    settled_at = Timestamptz(default=TimestamptzNow())
    settled_by = ForeignKey(Member, null=False, on_delete=OnDelete.restrict)


class SigningKey(Table, tablename="marketplace_signing_key"):
    """The deployment's Ed25519 keys for pickup tokens (``marketplace/signing_keys.py``).

    The newest key not yet retired signs; every key whose ``verify_until``
    has not passed (or is unset, for the signing one) still verifies, so a
    rotation never invalidates a token already on a member's phone. The
    private key is stored sealed (AES-GCM under a key derived from the
    deployment's secret key), never in the clear."""

    id = Serial(primary_key=True)
    public_key = Varchar(length=64)  # the raw 32 bytes, base64url
    sealed_private_key = Text()  # nonce ‖ AES-GCM ciphertext, base64url
    created_at = Timestamptz(default=TimestamptzNow())
    retired_at = Timestamptz(null=True, default=None)
    verify_until = Timestamptz(null=True, default=None)


class PickupConflict(Table, tablename="marketplace_pickup_conflict"):
    """A counter's offline hand-over the server could not confirm: the order
    its token names was already picked up (on another device), cancelled or
    expired by the time the counter's outbox synced
    (``marketplace/counter.py``). Kept for the organisers of the shop's
    node; nothing was posted for it. ``client_ref`` is the counter outbox
    item's own id, so a retried sync records one conflict."""

    id = Serial(primary_key=True)
    shop = ForeignKey(Shop, null=False, index=True, on_delete=OnDelete.restrict)
    redemption_order = ForeignKey(RedemptionOrder, null=False, index=True, on_delete=OnDelete.restrict)
    staff = ForeignKey(Member, null=False, on_delete=OnDelete.restrict)
    device = Varchar(length=64, default="")
    client_ref = Varchar(length=64, null=True, default=None, unique=True)
    reason = Varchar(length=24)
    order_status = Varchar(length=12)
    client_recorded_at = Timestamptz(null=True, default=None)
    recorded_at = Timestamptz(default=TimestamptzNow(), index=True)
