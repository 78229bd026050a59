"""How a chain block stores what it sealed (ledger/chain.py), without a database."""

from __future__ import annotations

from ledger.chain import LINK_BYTES, Block, IdSet, link_prefix, pack_ids, unpack_ids


def block(ids: list[int], links: bytes | None = None, head_seq: int = 10, raw_ids: bytes | None = None) -> Block:
    return Block.from_row(
        {
            "id": 1,
            "head_seq": head_seq,
            "head": "ab" * 32,
            "entry_ids": pack_ids(ids) if raw_ids is None else raw_ids,
            "links": bytes(LINK_BYTES * len(ids)) if links is None else links,
            "sealed_through": max(ids, default=0),
        }
    )


def test_entry_ids_round_trip_in_chain_order() -> None:
    ids = [7, 3, 2**40, 1]
    assert unpack_ids(pack_ids(ids)) == tuple(ids)
    assert len(pack_ids(ids)) == 8 * len(ids)


def test_a_block_knows_where_it_starts_and_each_entry_link() -> None:
    links = bytes(range(3 * LINK_BYTES))
    sealed = block([5, 6, 9], links, head_seq=12)
    assert sealed.first_seq == 10 and sealed.well_formed
    assert sealed.link_at(1) == links[LINK_BYTES : 2 * LINK_BYTES]


def test_a_block_whose_lists_disagree_is_not_well_formed() -> None:
    assert not block([5, 6], links=bytes(LINK_BYTES)).well_formed
    assert not block([5], raw_ids=pack_ids([5]) + b"\x01").well_formed


def test_a_link_is_stored_as_its_first_bytes() -> None:
    link = "0123456789abcdef" * 4
    assert link_prefix(link) == bytes.fromhex(link)[:LINK_BYTES]


def test_id_set_adds_each_id_once_and_grows() -> None:
    ids = IdSet()
    assert ids.add(3) and ids.add(10_000_001)
    assert not ids.add(3)
    assert 3 in ids and 10_000_001 in ids
    assert 4 not in ids and 10**9 not in ids
