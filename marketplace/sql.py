"""The redemption path's statements, as fixed SQL (``core.fixed_sql``).

Placing an order and confirming its pickup are the marketplace's hot path:
through Piccolo they took 46 round trips and ~11 ms of client CPU per
redemption (``bench/RESULTS.md``). Here each side is a few statements that
read only the columns the rules need and write with ``RETURNING`` instead of
reading back:

- placing: ``PLACE_FACTS`` (the item locked, with every fact the placement
  rules judge), then the ledger's hold, then ``PLACE_ORDER`` (the order, the
  stock and the audit row; on PostgreSQL one statement);
- confirming: ``COUNTER_ORDER`` (who the clerk is to the shop, with the open
  order of that code locked), then the ledger's capture, then
  ``FULFIL_ORDER`` (the order and the audit row; on PostgreSQL one statement).

Where PostgreSQL does in one statement what SQLite does in several (a
data-modifying CTE), SQLite gets its own statements; they cost no round trip
there (a script is one thread hop). The statements read the community's
tables for the facts policy needs (the tree by its paths, the role grants),
never write them, except the audit row, whose INSERT is ``community.audit``'s.

The database backs the rules checked in Python: stock never below zero
(CHECK, trigger on SQLite), one open order per pickup code and one order
per idempotency key (unique indexes).
"""

from __future__ import annotations

from community.audit import insert_audit_row_sql
from community.organisations import nearest_issuer_sql
from core.fixed_sql import fixed_sql, postgres_only
from fraud.sql import insert_decision_sql
from marketplace.models import LimitPeriod, OrderStatus
from marketplace.placement import COUNTED_STATUSES

# The columns ``OrderRecord.from_row`` reads of an order (its names come from
# the item and the shop).
ORDER_COLUMNS = (
    "id, member, item, shop, quantity, unit_price_minor, total_minor, status, pickup_code, hold_id, entry_id,"
    " return_entry_id, restocked, placed_at, expires_at, fulfilled_at, closed_at, returned_at"
)
_COUNTED = ", ".join(f"'{status.value}'" for status in COUNTED_STATUSES)
_PERIODS = tuple(LimitPeriod)


def _window_bound(first_parameter: int, *, pg: bool) -> str:
    """The item's limit-period bound among the one given per period, in
    ``LimitPeriod`` order from ``$first_parameter`` (NULL without a period)."""
    cast = "::timestamptz" if pg else ""
    arms = " ".join(
        f"WHEN '{period.value}' THEN ${first_parameter + index}{cast}" for index, period in enumerate(_PERIODS)
    )
    return f"CASE item.limit_period {arms} END"


def _place_facts(*, pg: bool) -> str:
    # Parameters: $1 item, $2 shop, $3 member, $4 member's home organisation,
    # $5 idempotency key, $6.. the start of each limit period containing the
    # moment of placing, $10.. their ends (``LimitPeriod`` order), then the
    # member's wallet code and the moment of placing (the screening's facts).
    starts, ends = _window_bound(6, pg=pg), _window_bound(6 + len(_PERIODS), pg=pg)
    wallet, moment = 6 + 2 * len(_PERIODS), 7 + 2 * len(_PERIODS)
    moment_value = f"${moment}::timestamptz" if pg else f"${moment}"
    array = "COALESCE(json_agg({}), '[]'::json)" if pg else "json_group_array({})"
    partner = "CASE WHEN pair.member_low = $3 THEN pair.member_high ELSE pair.member_low END"
    next_order_id = (
        "nextval('marketplace_order_id_seq')"
        if pg
        # SQLite's writer holds the database's write lock: nobody else inserts meanwhile.
        else "(SELECT COALESCE(MAX(id), 0) + 1 FROM marketplace_order)"
    )
    return (
        "SELECT item.id, item.organisation, item.name_zh, item.name_en, item.price_minor, item.stock,"
        " item.limit_count, item.limit_period, item.available_from, item.available_until, item.active,"
        " shop.name_zh AS shop_name_zh, shop.active AS shop_active,"
        " EXISTS (SELECT 1 FROM marketplace_catalog_item_shop AS listed"
        "  WHERE listed.item = item.id AND listed.shop = shop.id) AS carries,"
        " home.path AS home_path,"
        f" {nearest_issuer_sql('home.path')} AS member_issuer,"
        f" {nearest_issuer_sql('shop_node.path')} AS shop_issuer,"
        " (SELECT COALESCE(SUM(counted.quantity), 0) FROM marketplace_order AS counted"
        f"  WHERE counted.member = $3 AND counted.item = item.id AND counted.status IN ({_COUNTED})"
        f"  AND counted.placed_at >= {starts} AND counted.placed_at < {ends}) AS taken,"
        " earlier.id AS earlier_id, earlier.member AS earlier_member, earlier.item AS earlier_item,"
        " earlier.shop AS earlier_shop, earlier.quantity AS earlier_quantity,"
        f" {next_order_id} AS next_order_id,"
        # The fraud screening's facts but the history (``marketplace.screening``).
        " joiner.created_at AS joined_at, stored.overrides AS fraud_overrides, stored.shadow AS fraud_shadow,"
        " (SELECT wallet.balance_minor - wallet.held_minor FROM ledger_account AS wallet"
        f"  WHERE wallet.code = ${wallet}) AS wallet_available_minor,"
        f" (SELECT {array.format('snooze.rule')} FROM fraud_snooze AS snooze"
        f"  WHERE snooze.member = $3 AND snooze.expires_at > {moment_value}) AS snoozed_rules,"
        f" (SELECT {array.format(partner)} FROM fraud_allow_pair AS pair"
        "  WHERE pair.member_low = $3 OR pair.member_high = $3) AS allowed_members"
        " FROM marketplace_catalog_item AS item"
        " LEFT JOIN marketplace_shop AS shop ON shop.id = $2"
        " LEFT JOIN community_organisation AS shop_node ON shop_node.id = shop.organisation"
        " LEFT JOIN community_organisation AS home ON home.id = $4"
        " LEFT JOIN marketplace_order AS earlier ON earlier.idempotency_key = $5"
        " LEFT JOIN community_member AS joiner ON joiner.id = $3"
        f" LEFT JOIN fraud_threshold AS stored ON stored.organisation = {nearest_issuer_sql('home.path')}"
        " WHERE item.id = $1" + (" FOR UPDATE OF item" if pg else "")
    )


PLACE_FACTS = fixed_sql(_place_facts(pg=True), sqlite=_place_facts(pg=False).replace("$", "?"))
"""The item row locked (PostgreSQL; SQLite's writer lock already serialises),
with what placing an order on it is decided over: the shop, whether it
hands the item out, the member's and the shop's points issuers, the units
the member already ordered in the item's limit period, the order an
idempotency key already made, and the id the new order will have (so the
ledger hold can name it before it is written); and the fraud screening's
facts but the history (``marketplace.screening.screening_from_facts``): the
member's joining time, their issuer's stored rule settings, the wallet's
available balance, the member's active snoozes and allow-listed partners.

Under READ COMMITTED the locked item row is the latest, but the rest is
read as of the moment this statement started: if it waited for the lock, an
order committed meanwhile by the transaction it waited for is not in
``taken`` nor in ``earlier``. ``marketplace.orders`` covers both: the units
are counted again when the order is written (``PLACE_ORDER``'s ``taken``),
and a key whose order it missed turns up as a unique violation (retried)
or, when a rule refuses, through ``ORDER_UNDER_KEY``."""


def _order_columns(alias: str) -> str:
    return ", ".join(f"{alias}.{column.strip()}" for column in ORDER_COLUMNS.split(","))


ORDER_UNDER_KEY = fixed_sql(
    f"SELECT {_order_columns('earlier')}, item.name_zh AS item_name_zh, item.name_en AS item_name_en,"
    " shop.name_zh AS shop_name_zh FROM marketplace_order AS earlier"
    " JOIN marketplace_catalog_item AS item ON item.id = earlier.item"
    " JOIN marketplace_shop AS shop ON shop.id = earlier.shop WHERE earlier.idempotency_key = $1"
)
"""The order an idempotency key made, as stored now, with its names (a
replay's answer)."""

_INSERT_ORDER = (
    "INSERT INTO marketplace_order (id, member, item, shop, quantity, unit_price_minor, total_minor, status,"
    " pickup_code, hold_id, entry_id, return_entry_id, restocked, idempotency_key, placed_at, expires_at,"
    " fulfilled_at, fulfilled_by, closed_at, returned_at)"
    f" VALUES ($1, $2, $3, $4, $5, $6, $7, '{OrderStatus.PLACED.value}', $8, $9, NULL, NULL, FALSE, $10, $11, $12,"
    f" NULL, NULL, NULL, NULL) RETURNING {ORDER_COLUMNS}"
)


def _taken_beside(order: str, member: str, item: str, start: str, end: str) -> str:
    """Units of the member's counted orders of the item in [start, end),
    the order ``order`` aside: the limit's facts as of the write (see
    ``PLACE_FACTS``). No rows, so 0, when the window is NULL (no limit)."""
    return (
        "SELECT COALESCE(SUM(counted.quantity), 0) AS taken FROM marketplace_order AS counted"
        f" WHERE counted.member = {member} AND counted.item = {item} AND counted.status IN ({_COUNTED})"
        f" AND counted.placed_at >= {start} AND counted.placed_at < {end} AND counted.id <> {order}"
    )


PLACE_ORDER = postgres_only(
    # Parameters: $1-$12 the order (``INSERT_ORDER``), $13 the stock left
    # (NULL: unlimited, left alone), $14/$15 the limit window (NULL: no
    # limit), $16-$20 the audit row (``community.audit``), $21-$31 the fraud
    # decision (``fraud.decisions.decision_values``).
    f"WITH placed AS ({_INSERT_ORDER}),"
    " stocked AS (UPDATE marketplace_catalog_item SET stock = $13::integer"
    " WHERE id = $3 AND $13::integer IS NOT NULL),"
    f" audited AS ({insert_audit_row_sql(16)}),"
    f" decided AS ({insert_decision_sql(21)})"
    f" SELECT placed.*, ({_taken_beside('$1', '$2', '$3', '$14::timestamptz', '$15::timestamptz')}) AS taken,"
    " (SELECT id FROM decided) AS decision_id"
    " FROM placed"
)
"""PostgreSQL: the order, the stock it takes, its audit row and its fraud
decision in one round trip; returns the order as stored, ``taken`` and the
decision's id. (SQLite sends ``INSERT_ORDER``, ``TAKE_STOCK``, the audit
row, ``TAKEN_BESIDE`` and the decision.)"""

INSERT_ORDER = fixed_sql(_INSERT_ORDER)
TAKE_STOCK = fixed_sql("UPDATE marketplace_catalog_item SET stock = $2 WHERE id = $1")
TAKEN_BESIDE = fixed_sql(_taken_beside("$1", "$2", "$3", "$4", "$5"))
"""(order id, member, item, window start, window end) → ``taken``."""


def _counter(*, pg: bool, with_order: bool) -> str:
    # Parameters: $1 shop, $2 the clerk (member), $3 the counter role, $4 the pickup code.
    grants = (
        "(SELECT COALESCE(json_agg(held.organisation), '[]'::json)"
        if pg
        else "(SELECT json_group_array(held.organisation)"
    )
    sql = (
        "SELECT shop.organisation AS shop_organisation, shop.name_zh AS shop_name_zh, node.path AS shop_path,"
        " EXISTS (SELECT 1 FROM marketplace_shop_staff AS staff WHERE staff.shop = shop.id AND staff.member = $2)"
        " AS linked,"
        f" {grants} FROM community_role_grant AS held WHERE held.member = $2 AND held.role = $3) AS staff_grants"
    )
    tables = " FROM marketplace_shop AS shop JOIN community_organisation AS node ON node.id = shop.organisation"
    if with_order:
        sql += f", {_order_columns('placed')}, item.name_zh AS item_name_zh, item.name_en AS item_name_en"
        placed = (
            f"waiting.status = '{OrderStatus.PLACED.value}' AND waiting.pickup_code = $4 AND waiting.shop = shop.id"
        )
        if pg:  # the order row locked; a lock cannot reach through an outer join, a lateral subquery's can
            tables += (
                f" LEFT JOIN LATERAL (SELECT {ORDER_COLUMNS} FROM marketplace_order AS waiting"
                f" WHERE {placed} FOR UPDATE) AS placed ON TRUE"
            )
        else:
            tables += f" LEFT JOIN marketplace_order AS placed ON {placed.replace('waiting.', 'placed.')}"
        tables += " LEFT JOIN marketplace_catalog_item AS item ON item.id = placed.item"
    sql += tables + " WHERE shop.id = $1"
    return sql if pg else sql.replace("$", "?")


COUNTER_STANDING = fixed_sql(_counter(pg=True, with_order=False), sqlite=_counter(pg=False, with_order=False))
"""What the clerk is to the shop (``policy.counter_standing`` decides):
the shop's place in the tree, whether the clerk is linked to it, and where
the clerk holds the counter role. No row: no such shop."""

COUNTER_ORDER = fixed_sql(_counter(pg=True, with_order=True), sqlite=_counter(pg=False, with_order=True))
"""``COUNTER_STANDING`` with the open order of that pickup code at that shop,
locked (PostgreSQL), and its item's names; the order's columns are NULL if
there is none. The order row is read as it is once locked: a twin
confirmation that committed first has taken it out of ``placed``."""

_FULFIL = (
    "UPDATE marketplace_order SET status = $2, entry_id = $3, fulfilled_at = $4, fulfilled_by = $5, closed_at = $4"
    " WHERE id = $1 RETURNING status, entry_id, fulfilled_at, closed_at"
)

FULFIL_ORDER = postgres_only(
    # Parameters: $1-$5 the move (``UPDATE_FULFILLED``), $6-$10 the audit row.
    f"WITH fulfilled AS ({_FULFIL}), audited AS ({insert_audit_row_sql(6)}) SELECT * FROM fulfilled"
)
"""PostgreSQL: the pickup and its audit row in one round trip, returning
what changed. (SQLite sends ``UPDATE_FULFILLED`` and the audit row.)"""

UPDATE_FULFILLED = fixed_sql(_FULFIL)

HOLD_ORDER = fixed_sql(
    f"UPDATE marketplace_order SET status = '{OrderStatus.HELD.value}'"
    f" WHERE id = $1 AND status = '{OrderStatus.PLACED.value}'"
)
"""(order id): the order just placed goes to review (``marketplace.held_orders``)."""
