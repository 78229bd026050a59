"""The entry fingerprint's direct text is the general encoder's, byte for byte.

Every stored entry carries the digest its request had when it was posted
(``ledger_entry.request_fingerprint``), and a retry under the same key is
compared with it (invariant 3). ``ledger.posting.entry_fingerprint`` writes
the canonical JSON of a request without metadata directly; if that text
drifted from what ``fingerprint`` writes, a retry of an entry posted before
would be refused as another payload. These tests hold the two equal.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.models import MAX_REASON_CHARS, EntryRequest, Leg
from ledger.posting import _generic_entry_fingerprint, entry_fingerprint

# Any text, escapes, quotes, control and non-ASCII characters included.
texts = st.text(max_size=40)
nonempty = st.text(min_size=1, max_size=40)
minor_amounts = st.integers(min_value=1, max_value=10**12)


@st.composite
def entry_requests(draw: st.DrawFn, *, with_metadata: bool) -> EntryRequest:
    codes = draw(st.lists(nonempty, min_size=2, max_size=5, unique=True))
    amounts = [Decimal(draw(minor_amounts)).scaleb(-2) for _ in codes[1:]]
    legs = [Leg(account_code=code, amount=amount) for code, amount in zip(codes[1:], amounts, strict=True)]
    legs.append(Leg(account_code=codes[0], amount=-sum(amounts, Decimal("0"))))
    metadata = draw(st.dictionaries(texts, st.one_of(texts, st.integers()), min_size=1)) if with_metadata else {}
    return EntryRequest(
        kind=draw(st.text(min_size=1, max_size=40)),
        legs=tuple(draw(st.permutations(legs))),
        reason_zh=draw(st.text(min_size=1, max_size=MAX_REASON_CHARS)),
        reason_en=draw(texts),
        memo=draw(texts),
        metadata=metadata,
        cause_ref=draw(texts),
        idempotency_key=draw(st.one_of(st.none(), nonempty)),
    )


@settings(max_examples=300)
@given(entry_requests(with_metadata=False))
def test_entry_fingerprint_text_is_the_generic_one(request: EntryRequest) -> None:
    assert entry_fingerprint(request) == _generic_entry_fingerprint(request)


@given(entry_requests(with_metadata=True))
def test_entry_fingerprint_with_metadata_is_the_generic_one(request: EntryRequest) -> None:
    assert entry_fingerprint(request) == _generic_entry_fingerprint(request)


def test_a_stored_transfer_fingerprint_is_unchanged() -> None:
    """The digest of a plain transfer, as computed before the direct text
    (pinned: a change here breaks retries of entries already stored)."""
    request = EntryRequest(
        kind="transfer",
        legs=(
            Leg(account_code="member:1:wallet", amount="-12.50"),
            Leg(account_code="member:2:wallet", amount="12.50"),
        ),
        reason_zh="积分转赠",
        reason_en='points "transfer"\n',
        idempotency_key="k-1",
    )
    assert entry_fingerprint(request) == PINNED_TRANSFER_DIGEST


PINNED_TRANSFER_DIGEST = "261ed68c8486a70aa851d0497b4178307a263bbfafe289a6eb65ac760b03e5fd"
