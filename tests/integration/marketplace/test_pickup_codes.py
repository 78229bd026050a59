"""Pickup codes: alphabet, length, normalisation, and uniqueness among open
orders (a partial unique index, the database's backstop for invariant 6);
QR images of a code."""

from __future__ import annotations

import sqlite3
import struct
from datetime import timedelta

import pytest
from asyncpg.exceptions import UniqueViolationError

from core.clock import utc_now
from core.database import is_unique_violation
from marketplace import orders
from marketplace.pickup_codes import (
    ALPHABET,
    CODE_LENGTH,
    display,
    is_well_formed,
    new_pickup_code,
    normalise_pickup_code,
)
from marketplace.qr import pickup_qr
from marketplace.tables import RedemptionOrder
from tests.support.marketplace_helpers import Market, acting


def test_new_codes_are_8_characters_of_the_unambiguous_alphabet() -> None:
    """Codes are 8 characters from the 31-letter alphabet (no 0/O, 1/I/L), random and well formed."""
    codes = [new_pickup_code() for _ in range(2000)]
    assert all(len(code) == CODE_LENGTH == 8 for code in codes)
    assert set("".join(codes)) <= set(ALPHABET)
    assert not set("01ILO") & set(ALPHABET)
    assert all(is_well_formed(code) for code in codes)
    # Drawn at random: 2000 draws from ~10^12 codes do not repeat, and use the whole alphabet.
    assert len(set(codes)) == len(codes)
    assert set("".join(codes)) == set(ALPHABET)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("abcdefgh", "ABCDEFGH"),
        ("ABCD-EFGH", "ABCDEFGH"),
        ("abcd-efgh", "ABCDEFGH"),
        (" ab cd\tef-gh\n", "ABCDEFGH"),
        ("", ""),
    ],
)
def test_normalise_accepts_lower_case_dashes_and_spaces(typed: str, expected: str) -> None:
    """What staff type (any case, dash, spaces) normalises to the stored code."""
    assert normalise_pickup_code(typed) == expected


def test_display_round_trips_through_normalise() -> None:
    """The dashed display form, even lower-cased, normalises back to the code."""
    code = new_pickup_code()
    assert display(code) == f"{code[:4]}-{code[4:]}"
    assert normalise_pickup_code(display(code).lower()) == code


@pytest.mark.parametrize("code", ["ABCDEFG", "ABCDEFGHJ", "ABCDEFG0", "ABCDEFGI", "abcdefgh", "ABCD-EFG"])
def test_is_well_formed_refuses_wrong_length_or_letters(code: str) -> None:
    """Wrong length, ambiguous letters or lower case (before normalising) are not well formed."""
    assert not is_well_formed(code)


async def test_the_database_refuses_two_open_orders_with_one_code(market: Market) -> None:
    """Insert a second *placed* order with an open order's code behind the
    service's back: the partial unique index refuses it. Closed orders may
    reuse a code."""
    item = await market.item(stock=10)
    member = await market.member("100")
    order = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)

    def twin(status: str) -> RedemptionOrder:
        return RedemptionOrder(
            member=member,
            item=item.id,
            shop=market.shop_b.id,
            quantity=1,
            unit_price_minor=1000,
            total_minor=1000,
            status=status,
            pickup_code=order.pickup_code,
            expires_at=utc_now() + timedelta(days=7),
        )

    with pytest.raises((sqlite3.IntegrityError, UniqueViolationError)) as caught:
        await RedemptionOrder.insert(twin("placed")).run()
    assert is_unique_violation(caught.value), repr(caught.value)
    assert int(await RedemptionOrder.count().run()) == 1
    # A closed order with the same code is fine: codes are unique among open orders only.
    await RedemptionOrder.insert(twin("cancelled"), twin("fulfilled")).run()
    assert int(await RedemptionOrder.count().where(RedemptionOrder.pickup_code == order.pickup_code).run()) == 3
    # ...and once the first closes, its code may be drawn again for a new open order.
    await orders.cancel_order(await acting(member), order_id=order.id)
    await RedemptionOrder.insert(twin("placed")).run()


async def test_a_code_collision_draws_again(market: Market, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the drawn code is taken by an open order, place_order retries with a new one."""
    item = await market.item(stock=10)
    member = await market.member("100")
    draws = iter(["AAAA2222", "AAAA2222", "BBBB3333"])
    monkeypatch.setattr(orders, "new_pickup_code", lambda: next(draws))
    first = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    second = await orders.place_order(await acting(member), item_id=item.id, shop_id=market.shop_a.id)
    assert (first.pickup_code, second.pickup_code) == ("AAAA2222", "BBBB3333")
    assert int(await RedemptionOrder.count().run()) == 2


def test_pickup_qr_png_and_svg() -> None:
    """pickup_qr gives a PNG (signature, size from the scale) and an SVG document."""
    code = new_pickup_code()
    png = pickup_qr(code)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 100
    svg = pickup_qr(code, image_format="svg")
    assert b"<svg" in svg[:300] and svg.rstrip().endswith(b"</svg>")
    # IHDR width: a QR version 1 (21 modules) + 2 × 2 border modules, 8 pixels each; twice that at scale 16.
    width = struct.unpack(">I", png[16:20])[0]
    assert width == (21 + 4) * 8
    assert struct.unpack(">I", pickup_qr(code, scale=16)[16:20])[0] == 2 * width
