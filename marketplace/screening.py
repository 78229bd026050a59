"""Screening a redemption with the fraud rules, at order placement.

The facts the order rules (``fraud.rules.rules_for(Subject.ORDER)``:
cooling-off and cashing out) look at, judged inside the placement's
writing transaction (``judge``, pure) once the order's id and total are
known; the placement stores the decision (and a review's case) in that
transaction (``marketplace.orders``):

- the member's joining time (one row by primary key) and the issuing
  organisation's thresholds (``fraud.thresholds``);
- the wallet's balance less what is held (its account row, by unique code):
  the balance the order draws on;
- the member's snoozed rules and allow-listed partners (``fraud.exemptions``);
- the **history**, which costs the most to read (up to thousands of
  postings at a busy shop: ~15 ms of CPU per order, measured with
  ``bench/marketplace_throughput.py``):
  - the wallet's postings within ``cashout_days`` (the ``(account,
    created_at)`` index, at most ``POSTING_LIMIT``): its awards, and who
    approved each (the award entry's ``approver_member_id``);
  - other members' orders at the shop within ``cashout_days`` (the ``shop``
    index, at most ``SHOP_ORDER_LIMIT``), and those wallets' postings in the
    window (one query): each order's wallet balance just before it (the
    last posting's ``balance_after``) and who funded that wallet.

The history matters only to an order that drains the wallet (the
cashing-out rule). The placement therefore screens first without it, over
the rest of the facts read in its own first statement (``sql.PLACE_FACTS``,
``screening_from_facts``: no round trip of their own); the rule raises
``fraud.models.HistoryNeeded`` for an order that drains the wallet, before
anything is written, and the placement then reads everything here
(``load_order_screening``: a few bounded queries on indexed columns,
before the transaction) and places again.

The facts are read outside the placement's locks: a screen is a judgement
over recent history, and an order placed a moment earlier that it misses
is seen by the next one.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from community.accounts import wallet_code
from community.organisations import issuing_organisation_for
from community.tables import Member
from fraud.exemptions import Exemptions, exemptions_for
from fraud.models import AwardFact, Funding, OrderFacts, ScreeningContext, ShopRedemption, Subject, Verdict
from fraud.shadow import RuleSettings, judge, settings_for, stored_settings
from ledger.amounts import from_minor
from ledger.tables import LedgerAccount, LedgerPosting
from marketplace.placement import COUNTED_STATUSES
from marketplace.tables import RedemptionOrder

if TYPE_CHECKING:
    from core.fixed_sql import Row

# Bounds on what one screen reads: a wallet's postings in the window, other
# wallets' orders at the shop (a ring is a handful), their postings.
POSTING_LIMIT = 500
SHOP_ORDER_LIMIT = 100
RING_POSTING_LIMIT = 5000
AWARD_KIND = "award"


@dataclass(frozen=True, slots=True)
class OrderScreening:
    """What the order rules judge a member's redemption at a shop over,
    but the order itself (its id and total: ``judge``)."""

    member_id: int
    issuer_id: int | None
    settings: RuleSettings
    joined_at: datetime
    available: Decimal
    shop_id: int
    recent_awards: tuple[AwardFact, ...]
    shop_redemptions: tuple[ShopRedemption, ...]
    exemptions: Exemptions = field(default_factory=Exemptions)
    history_loaded: bool = True

    def judge(self, *, order_id: int, amount: Decimal, moment: datetime) -> tuple[Verdict, Verdict | None]:
        """The rules' enforced verdict on an order of ``amount``, and the
        shadow one if the issuer runs shadow mode (pure). Raises
        ``HistoryNeeded`` if the order drains the wallet and the history
        was not read."""
        context = ScreeningContext(
            subject=Subject.ORDER,
            subject_id=order_id,
            member_id=self.member_id,
            member_joined_at=self.joined_at,
            amount=amount,
            moment=moment,
            order=OrderFacts(
                shop_id=self.shop_id,
                balance_before=self.available,
                recent_awards=self.recent_awards,
                shop_redemptions=self.shop_redemptions,
                history_loaded=self.history_loaded,
            ),
            snoozed_rules=self.exemptions.snoozed_rules,
            allowed_members=self.exemptions.allowed_members,
        )
        return judge(context, self.settings)


def screening_from_facts(*, member_id: int, shop_id: int, facts: Row) -> OrderScreening:
    """The screening without the history, from the facts ``sql.PLACE_FACTS``
    reads beside the item (pure): ``member_issuer``, ``fraud_overrides`` and
    ``fraud_shadow`` (the issuer's stored settings, NULL without a row),
    ``joined_at``, ``wallet_available_minor`` (NULL without a wallet),
    ``snoozed_rules`` and ``allowed_members`` (JSON arrays)."""
    issuer = facts["member_issuer"]
    issuer_id = int(issuer) if issuer is not None else None
    available = facts["wallet_available_minor"]
    joined_at = facts["joined_at"]
    return OrderScreening(
        member_id=member_id,
        issuer_id=issuer_id,
        settings=stored_settings(issuer_id, facts["fraud_overrides"], facts["fraud_shadow"]),
        joined_at=joined_at if joined_at is not None else datetime.min.replace(tzinfo=UTC),
        available=from_minor(int(available)) if available is not None else Decimal("0.00"),
        shop_id=shop_id,
        recent_awards=(),
        shop_redemptions=(),
        exemptions=Exemptions(
            snoozed_rules=frozenset(str(rule) for rule in _json_array(facts["snoozed_rules"])),
            allowed_members=frozenset(int(partner) for partner in _json_array(facts["allowed_members"])) - {member_id},
        ),
        history_loaded=False,
    )


def _json_array(value: Any) -> list[Any]:
    """A JSON array as the driver hands it back (text on both engines)."""
    parsed = json.loads(value) if isinstance(value, str | bytes) else value
    return list(parsed) if parsed is not None else []


def _approver(metadata: Any) -> int | None:
    data = json.loads(metadata) if isinstance(metadata, str) else metadata
    if not isinstance(data, dict):
        return None
    approver = data.get("approver_member_id")
    return int(approver) if isinstance(approver, int) else None


def _posting_columns() -> tuple[Any, ...]:
    return (
        LedgerPosting.account,
        LedgerPosting.amount_minor,
        LedgerPosting.balance_after_minor,
        LedgerPosting.created_at,
        LedgerPosting.entry.kind,
        LedgerPosting.entry.metadata,
    )


def _award(row: dict[str, Any]) -> AwardFact | None:
    if row["entry.kind"] != AWARD_KIND or row["amount_minor"] <= 0:
        return None
    return AwardFact(
        at=row["created_at"], amount=from_minor(row["amount_minor"]), verifier_id=_approver(row["entry.metadata"])
    )


def shop_redemption(order: dict[str, Any], postings: list[dict[str, Any]]) -> ShopRedemption:
    """Another wallet's order at the shop with that wallet's balance just
    before it and who funded it, from its postings in the window (pure;
    ``postings`` in time order)."""
    placed_at = order["placed_at"]
    before = [row for row in postings if row["created_at"] < placed_at]
    balance = from_minor(before[-1]["balance_after_minor"]) if before else Decimal("0.00")
    funding: dict[int, Decimal] = defaultdict(Decimal)
    for row in before:
        award = _award(row)
        if award is not None and award.verifier_id is not None:
            funding[award.verifier_id] += award.amount
    return ShopRedemption(
        order_id=int(order["id"]),
        member_id=int(order["member"]),
        at=placed_at,
        amount=from_minor(order["total_minor"]),
        balance_before=balance,
        funded_by=tuple(Funding(verifier, amount) for verifier, amount in sorted(funding.items())),
    )


async def _wallets(member_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Wallet account rows by member."""
    codes = {wallet_code(member_id): member_id for member_id in member_ids}
    rows = await (
        LedgerAccount.select(
            LedgerAccount.id, LedgerAccount.code, LedgerAccount.balance_minor, LedgerAccount.held_minor
        )
        .where(LedgerAccount.code.is_in(sorted(codes)))
        .run()
    )
    return {codes[row["code"]]: row for row in rows}


async def _shop_redemptions(
    member_id: int, shop_id: int, since: datetime, until: datetime
) -> tuple[ShopRedemption, ...]:
    orders = await (
        RedemptionOrder.select(
            RedemptionOrder.id, RedemptionOrder.member, RedemptionOrder.placed_at, RedemptionOrder.total_minor
        )
        .where(
            (RedemptionOrder.shop == shop_id)
            & (RedemptionOrder.placed_at >= since)
            & (RedemptionOrder.placed_at < until)
            & (RedemptionOrder.member != member_id)
            & RedemptionOrder.status.is_in([status.value for status in COUNTED_STATUSES])
        )
        .order_by(RedemptionOrder.placed_at, ascending=False)
        .limit(SHOP_ORDER_LIMIT)
        .run()
    )
    if not orders:
        return ()
    wallets = await _wallets(sorted({int(order["member"]) for order in orders}))
    accounts = {int(row["id"]): member for member, row in wallets.items()}
    postings = (
        await LedgerPosting.select(*_posting_columns())
        .where(LedgerPosting.account.is_in(sorted(accounts)) & (LedgerPosting.created_at >= since))
        .order_by(LedgerPosting.created_at)
        .limit(RING_POSTING_LIMIT)
        .run()
        if accounts
        else []
    )
    by_member: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in postings:
        by_member[accounts[int(row["account"])]].append(row)
    return tuple(shop_redemption(order, by_member[int(order["member"])]) for order in orders)


async def load_order_screening(
    *, member_id: int, home_organisation_id: int, shop_id: int, moment: datetime
) -> OrderScreening:
    """Everything the order rules need but the order itself, the history
    included."""
    issuer = await issuing_organisation_for(home_organisation_id)
    issuer_id = issuer.id if issuer is not None else None
    settings = await settings_for(issuer_id)
    thresholds = settings.thresholds
    joined = await Member.select(Member.created_at).where(Member.id == member_id).run()
    since = moment - timedelta(days=thresholds.cashout_days)
    wallet = (await _wallets([member_id])).get(member_id)
    awards: list[AwardFact] = []
    available = Decimal("0.00")
    if wallet is not None:
        available = from_minor(int(wallet["balance_minor"]) - int(wallet["held_minor"]))
    if wallet is not None:
        rows = await (
            LedgerPosting.select(*_posting_columns())
            .where(
                (LedgerPosting.account == wallet["id"])
                & (LedgerPosting.created_at >= since)
                & (LedgerPosting.created_at <= moment)
            )
            .order_by(LedgerPosting.created_at, ascending=False)
            .limit(POSTING_LIMIT)
            .run()
        )
        awards = [award for award in map(_award, reversed(rows)) if award is not None]
    return OrderScreening(
        member_id=member_id,
        issuer_id=issuer_id,
        settings=settings,
        joined_at=joined[0]["created_at"] if joined else datetime.min.replace(tzinfo=UTC),
        available=available,
        shop_id=shop_id,
        recent_awards=tuple(awards),
        shop_redemptions=await _shop_redemptions(member_id, shop_id, since, moment),
        exemptions=await exemptions_for(member_id, moment),
    )
