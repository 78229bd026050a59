"""Snoozes and the allow-list: an organiser's exemptions from the rules.

- A **snooze** turns one rule off for one member until it expires, with a
  reason (a volunteer whose phone's GPS is known to jump, say): the rule is
  still evaluated and its would-be hit recorded, but it does not hit
  (``fraud.rules.snoozed``).
- An **allow-listed pair** is two members the rules never hold against
  each other (a family sharing a phone): each one's photos, approvals and
  redemptions are taken out of the other's context (``fraud.rules.honoured``).

Only organisers (and admins) who manage the member's home organisation
create, list and delete them (``check_exemption_manager``, pure over the
facts); every change is audited in its transaction. The screening services
read a member's active exemptions with ``exemptions_for`` (one indexed
statement) into the ``ScreeningContext``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from community import audit
from community.access import Principal, managed_organisations
from community.errors import MemberNotFound
from community.members import home_organisation_of
from core.clock import utc_now
from core.database import in_write_transaction
from core.fixed_sql import Row, fetch
from fraud import sql
from fraud.errors import ExemptionNotFound, InvalidExemption
from fraud.rules import all_rules
from fraud.tables import FraudAllowPair, FraudSnooze

RULE_NAMES = frozenset(rule.__name__ for rule in all_rules())
MAX_SNOOZE = timedelta(days=366)
REASON_MAX_CHARS = 500
MAX_LISTED = 500


@dataclass(frozen=True, slots=True)
class Snooze:
    id: int
    member_id: int
    rule: str
    reason: str
    expires_at: datetime
    created_by: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AllowPair:
    id: int
    member_ids: tuple[int, int]
    reason: str
    created_by: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Exemptions:
    """What the screening of one member honours."""

    snoozed_rules: frozenset[str] = frozenset()
    allowed_members: frozenset[int] = frozenset()


def check_reason(reason: str) -> str:
    text = reason.strip()
    if not 1 <= len(text) <= REASON_MAX_CHARS:
        raise InvalidExemption(f"a reason needs 1-{REASON_MAX_CHARS} characters", field="reason")
    return text


def check_snooze(rule: str, expires_at: datetime, now: datetime) -> None:
    """A registered rule, snoozed until a moment in the next year (pure)."""
    if rule not in RULE_NAMES:
        raise InvalidExemption(f"no rule named {rule!r}", field="rule")
    if expires_at.tzinfo is None:
        raise InvalidExemption("expires_at needs a time zone", field="expires_at")
    if not now < expires_at <= now + MAX_SNOOZE:
        raise InvalidExemption("a snooze ends in the future, within a year", field="expires_at")


def check_pair(member_a: int, member_b: int) -> tuple[int, int]:
    """Two different members, the lower id first (pure)."""
    if member_a == member_b:
        raise InvalidExemption("a pair needs two different members", field="member_b")
    return (member_a, member_b) if member_a < member_b else (member_b, member_a)


def check_exemption_manager(managed: set[int], homes: Iterable[int]) -> None:
    """The organiser manages every member's home organisation (pure);
    members they do not manage do not exist for them."""
    if not all(home in managed for home in homes):
        raise ExemptionNotFound("no such member in the organisations you manage", field="member_id")


async def _homes(member_ids: Iterable[int]) -> list[int]:
    homes = []
    for member_id in member_ids:
        try:
            homes.append(await home_organisation_of(member_id))
        except MemberNotFound as missing:  # the same answer as a member one does not manage
            raise ExemptionNotFound("no such member in the organisations you manage", field="member_id") from missing
    return homes


async def _authorise(principal: Principal, member_ids: Iterable[int]) -> None:
    check_exemption_manager(await managed_organisations(principal), await _homes(member_ids))


def _snooze(row: dict[str, object]) -> Snooze:
    return Snooze(
        id=int(row["id"]),  # type: ignore[call-overload]
        member_id=int(row["member"]),  # type: ignore[call-overload]
        rule=str(row["rule"]),
        reason=str(row["reason"]),
        expires_at=row["expires_at"],  # type: ignore[arg-type]
        created_by=int(row["created_by"]),  # type: ignore[call-overload]
        created_at=row["created_at"],  # type: ignore[arg-type]
    )


def _pair(row: dict[str, object]) -> AllowPair:
    return AllowPair(
        id=int(row["id"]),  # type: ignore[call-overload]
        member_ids=(int(row["member_low"]), int(row["member_high"])),  # type: ignore[call-overload]
        reason=str(row["reason"]),
        created_by=int(row["created_by"]),  # type: ignore[call-overload]
        created_at=row["created_at"],  # type: ignore[arg-type]
    )


async def snooze_rule(
    principal: Principal, *, member_id: int, rule: str, reason: str, expires_at: datetime, now: datetime | None = None
) -> Snooze:
    """Snooze ``rule`` for the member until ``expires_at`` (audited)."""
    moment = now or utc_now()
    text = check_reason(reason)
    check_snooze(rule, expires_at, moment)
    await _authorise(principal, [member_id])

    async def write() -> int:
        rows = await FraudSnooze.insert(
            FraudSnooze(
                member=member_id,
                rule=rule,
                reason=text,
                expires_at=expires_at,
                created_by=principal.member_id,
                created_at=moment,
            )
        ).run()
        snooze_id = int(rows[0]["id"])
        await audit.record(
            principal.ref,
            "fraud.snooze.create",
            f"fraud_snooze:{snooze_id}",
            member_id=member_id,
            rule=rule,
            reason=text,
            expires_at=expires_at.isoformat(),
        )
        return snooze_id

    snooze_id = await in_write_transaction(write)
    rows = await FraudSnooze.select().where(FraudSnooze.id == snooze_id).run()
    return _snooze(rows[0])


async def allow_pair(principal: Principal, *, member_a: int, member_b: int, reason: str) -> AllowPair:
    """Allow-list two members against each other (audited)."""
    low, high = check_pair(member_a, member_b)
    text = check_reason(reason)
    await _authorise(principal, [low, high])

    async def write() -> int:
        rows = await FraudAllowPair.insert(
            FraudAllowPair(member_low=low, member_high=high, reason=text, created_by=principal.member_id)
        ).run()
        pair_id = int(rows[0]["id"])
        await audit.record(
            principal.ref, "fraud.allow.create", f"fraud_allow_pair:{pair_id}", members=[low, high], reason=text
        )
        return pair_id

    pair_id = await in_write_transaction(write)
    rows = await FraudAllowPair.select().where(FraudAllowPair.id == pair_id).run()
    return _pair(rows[0])


async def list_snoozes(principal: Principal, *, now: datetime | None = None) -> list[Snooze]:
    """Active snoozes of members the principal manages, soonest to end first."""
    organisation_ids = sorted(await managed_organisations(principal))
    if not organisation_ids:
        return []
    rows = await (
        FraudSnooze.select()
        .where(
            (FraudSnooze.expires_at > (now or utc_now())) & FraudSnooze.member.home_organisation.is_in(organisation_ids)
        )
        .order_by(FraudSnooze.expires_at)
        .limit(MAX_LISTED)
        .run()
    )
    return [_snooze(row) for row in rows]


async def list_allow_pairs(principal: Principal) -> list[AllowPair]:
    """Allow-listed pairs whose members the principal both manages."""
    organisation_ids = sorted(await managed_organisations(principal))
    if not organisation_ids:
        return []
    rows = await (
        FraudAllowPair.select()
        .where(
            FraudAllowPair.member_low.home_organisation.is_in(organisation_ids)
            & FraudAllowPair.member_high.home_organisation.is_in(organisation_ids)
        )
        .order_by(FraudAllowPair.id)
        .limit(MAX_LISTED)
        .run()
    )
    return [_pair(row) for row in rows]


async def delete_snooze(principal: Principal, snooze_id: int) -> None:
    """End a snooze (audited); one the principal cannot manage does not exist."""
    rows = await FraudSnooze.select().where(FraudSnooze.id == snooze_id).run()
    if not rows:
        raise ExemptionNotFound(f"no snooze {snooze_id}", field="snooze_id")
    snooze = _snooze(rows[0])
    try:
        await _authorise(principal, [snooze.member_id])
    except ExemptionNotFound:
        raise ExemptionNotFound(f"no snooze {snooze_id}", field="snooze_id") from None

    async def write() -> None:
        await FraudSnooze.delete().where(FraudSnooze.id == snooze_id).run()
        await audit.record(
            principal.ref,
            "fraud.snooze.delete",
            f"fraud_snooze:{snooze_id}",
            member_id=snooze.member_id,
            rule=snooze.rule,
        )

    await in_write_transaction(write)


async def delete_allow_pair(principal: Principal, pair_id: int) -> None:
    """Take a pair off the allow-list (audited)."""
    rows = await FraudAllowPair.select().where(FraudAllowPair.id == pair_id).run()
    if not rows:
        raise ExemptionNotFound(f"no allow-listed pair {pair_id}", field="pair_id")
    pair = _pair(rows[0])
    try:
        await _authorise(principal, pair.member_ids)
    except ExemptionNotFound:
        raise ExemptionNotFound(f"no allow-listed pair {pair_id}", field="pair_id") from None

    async def write() -> None:
        await FraudAllowPair.delete().where(FraudAllowPair.id == pair_id).run()
        await audit.record(
            principal.ref, "fraud.allow.delete", f"fraud_allow_pair:{pair_id}", members=list(pair.member_ids)
        )

    await in_write_transaction(write)


def exemptions_from_rows(member_id: int, rows: Iterable[Row]) -> Exemptions:
    """The exemptions in ``sql.EXEMPTIONS_OF_MEMBER``'s rows (pure)."""
    rules = {str(row["rule"]) for row in rows if row["rule"] is not None}
    partners = {int(row["partner"]) for row in rows if row["partner"] is not None}
    return Exemptions(snoozed_rules=frozenset(rules), allowed_members=frozenset(partners - {member_id}))


async def exemptions_for(member_id: int, now: datetime) -> Exemptions:
    """The member's active snoozes and allow-listed partners (one fixed
    statement on the member indexes), for the screening context."""
    return exemptions_from_rows(member_id, await fetch(sql.EXEMPTIONS_OF_MEMBER(member_id, now)))
