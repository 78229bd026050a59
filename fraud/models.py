"""The fraud app's typed records: what a rule sees, what it answers, and
the thresholds an issuing organisation judges with.

Pure data: no database, no clock. ``fraud.rules`` evaluates a
``ScreeningContext`` into ``RuleResult``s and ``fraud.decisions`` sums
them against ``Thresholds``. The services that load a context live with
what they screen (``activities.screening`` for awards), so this app reads
no other app's tables.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ledger.amounts import from_minor


class Outcome(StrEnum):
    """What a decision does to the award or order it screened."""

    ALLOW = "allow"  # go ahead as if nothing was screened
    REVIEW = "review"  # held: the points wait on a ledger hold for a reviewer
    DENY = "deny"  # refused with the reasons; nothing changes


class Subject(StrEnum):
    ACTIVITY = "activity"  # an award for a verified activity
    ORDER = "order"  # a redemption


class CaseStatus(StrEnum):
    OPEN = "open"  # waiting for a reviewer
    APPROVED = "approved"  # the hold was posted to the wallet
    REJECTED = "rejected"  # the hold was voided, the activity (or order) rejected
    WITHDRAWN = "withdrawn"  # the member cancelled the held order before a decision


class Label(StrEnum):
    """A reviewer's verdict on the rules' hit (statistics read these)."""

    FRAUD = "fraud"  # confirmed fraud
    LEGITIMATE = "legitimate"  # a false positive
    UNCLEAR = "unclear"


@dataclass(frozen=True, slots=True)
class Fix:
    """A position the member's phone reported, and where it comes from
    (``own``: it belongs to the subject being screened)."""

    latitude: float
    longitude: float
    accuracy_m: float | None
    at: datetime
    source: str
    own: bool = False


@dataclass(frozen=True, slots=True)
class Submission:
    """One of the member's recent submissions: the time its phone recorded
    (None when the phone sent none) and when it reached the server."""

    ref: str
    recorded_at: datetime | None
    arrived_at: datetime
    own: bool = False


@dataclass(frozen=True, slots=True)
class PhotoPrint:
    """A photo's 64-bit perceptual hash (16 hex digits) and whose it is."""

    sha256: str
    phash: str
    activity_id: int | None
    member_id: int


@dataclass(frozen=True, slots=True)
class PatrolFacts:
    """A patrol's duration and its own positions (check-in, route points,
    check-out), for the thin-or-fake-patrol rule."""

    minutes: int
    route: tuple[Fix, ...]


@dataclass(frozen=True, slots=True)
class PriorReport:
    """Another member's report of the same kind, near this one in place and
    time (loaded by the screening service, not yet judged)."""

    activity_id: int
    member_id: int
    latitude: float
    longitude: float
    at: datetime


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """A report's kind, place and time, and the other members' reports of
    the same kind around it, for the duplicate-report rule."""

    report_kind: str
    latitude: float
    longitude: float
    at: datetime
    nearby: tuple[PriorReport, ...] = ()


@dataclass(frozen=True, slots=True)
class VerifierFacts:
    """Who approved what, over the concentration window, before this award:
    the volunteer's approvals by the verifier, the volunteer's approvals in
    all, the verifier's approvals of anybody, and the verifier's own
    activities the volunteer approved (the pair verifying each other)."""

    pair_approvals: int
    member_approvals: int
    verifier_approvals: int
    reverse_approvals: int
    # China-time days on which the pair's approved activities and this one
    # happened (a day's offline queue verified together is one day).
    pair_days: int = 1
    # The verifier's approvals were counted only up to the number that
    # decides the rule (``fraud.rules.verifier_approvals_worth_counting``):
    # ``verifier_approvals`` is then a lower bound, enough to know the share
    # is below the threshold.
    verifier_approvals_capped: bool = False


@dataclass(frozen=True, slots=True)
class Funding:
    """Points a wallet received from awards one verifier approved."""

    verifier_id: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class AwardFact:
    """One award into the wallet: when, how much, approved by whom."""

    at: datetime
    amount: Decimal
    verifier_id: int | None


@dataclass(frozen=True, slots=True)
class ShopRedemption:
    """A recent redemption at the same shop by another wallet, with where
    that wallet's awarded points came from."""

    order_id: int
    member_id: int
    at: datetime
    amount: Decimal
    balance_before: Decimal
    funded_by: tuple[Funding, ...] = ()


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What the cashing-out rule looks at for a redemption: the shop, the
    wallet's balance just before the order, the wallet's recent awards
    (with their verifiers) and other wallets' recent redemptions at the
    shop. Loaded by whatever places orders; the rule is pure."""

    shop_id: int
    balance_before: Decimal
    recent_awards: tuple[AwardFact, ...] = ()
    shop_redemptions: tuple[ShopRedemption, ...] = ()
    history_loaded: bool = True
    """False when the loader read neither the awards nor the shop's
    redemptions (they cost the most to read, and matter only to an order
    that drains the wallet): the rule then raises ``HistoryNeeded`` for an
    order that does, and the loader reads them and judges again."""


class HistoryNeeded(Exception):
    """A redemption drains its wallet and was judged without the wallet's
    awards and the shop's redemptions (``OrderFacts.history_loaded``): read
    them, then judge again. Raised by the pure rule, before anything is
    written."""


@dataclass(frozen=True, slots=True)
class ScreeningContext:
    """Everything the rules look at for one award or redemption, loaded
    once by the service (only what the rules need). The optional facts
    belong to one kind of subject (a patrol, a report, a verified award,
    an order); a rule whose facts are missing does not hit."""

    subject: Subject
    subject_id: int
    member_id: int
    member_joined_at: datetime
    amount: Decimal
    moment: datetime
    verifier_id: int | None = None
    positions: tuple[Fix, ...] = ()
    submissions: tuple[Submission, ...] = ()
    photos: tuple[PhotoPrint, ...] = ()
    other_photos: tuple[PhotoPrint, ...] = ()
    patrol: PatrolFacts | None = None
    report: ReportFacts | None = None
    verifications: VerifierFacts | None = None
    order: OrderFacts | None = None
    # Exemptions an organiser set (``fraud.exemptions``): rules snoozed for
    # this member, and the members allow-listed with them (a family sharing
    # a phone). ``fraud.rules.evaluate`` honours both.
    snoozed_rules: frozenset[str] = frozenset()
    allowed_members: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One rule's answer: hit or not, its score (0 unless hit), why in
    Chinese and English, and the evidence it used (JSON-ready)."""

    rule: str
    hit: bool
    score: int
    reason_zh: str
    reason_en: str
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "evidence": dict(self.evidence)}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """How an issuing organisation judges: the sum of hit scores at which
    an award is held (``review_score``) or refused (``deny_score``), each
    rule's score and its parameters. ``DEFAULT_THRESHOLDS`` unless the
    organisation stored overrides (``fraud.thresholds``)."""

    review_score: int = 50
    deny_score: int = 100
    # Impossible travel: faster than this between consecutive positions,
    # after taking both positions' accuracy off the distance.
    travel_max_kmh: int = 120
    travel_score: int = 60
    # Bursts: more than burst_count submissions recorded on the phone
    # within burst_minutes; a recorded time later than arrival plus the
    # skew is not believed (the arrival time counts instead).
    burst_count: int = 5
    burst_minutes: int = 10
    clock_skew_minutes: int = 10
    burst_score: int = 50
    # New-account cooling-off: an award of cooling_award_minor hundredths
    # or more, or any redemption, within cooling_days of joining.
    cooling_days: int = 7
    cooling_award_minor: int = 5000
    cooling_score: int = 50
    # Near-duplicate photos: perceptual hashes within this Hamming distance.
    photo_max_distance: int = 6
    photo_score: int = 60
    # Thin or fake patrols (patrols of at least patrol_check_minutes):
    # fewer than one position per patrol_minutes_per_point; or, with at
    # least patrol_shape_points positions, all within patrol_line_m of one
    # straight line, every step an equal axis-aligned grid step (within
    # patrol_grid_m), or every accuracy value the same (mock location).
    patrol_check_minutes: int = 20
    patrol_minutes_per_point: int = 10
    patrol_shape_points: int = 6
    patrol_line_m: int = 2
    patrol_grid_m: int = 1
    patrol_score: int = 50
    # Duplicate report: another member's report of the same kind within
    # duplicate_radius_m and duplicate_minutes before it makes this one a
    # confirmation, paid confirmation_pct percent of the report's points.
    # Not fraud: it scores nothing.
    duplicate_radius_m: int = 100
    duplicate_minutes: int = 60
    confirmation_pct: int = 30
    # Verifier–volunteer concentration over concentration_days: at least
    # concentration_min approvals of the volunteer by one verifier that are
    # concentration_share_pct of the volunteer's approvals and
    # concentration_verifier_pct of the verifier's; or the two approving
    # each other at least mutual_min times each way. The pair's approvals
    # must also span concentration_min_days days of activity (this one's
    # included), so one busy day verified together is no pattern.
    concentration_days: int = 90
    concentration_min: int = 8
    concentration_min_days: int = 5
    concentration_share_pct: int = 80
    concentration_verifier_pct: int = 50
    mutual_min: int = 3
    concentration_score: int = 50
    # Cashing out (积分套现), on redemptions: within cashout_days, at least
    # cashout_wallets wallets redeeming at one shop that were funded
    # (cashout_funded_pct of their award points) by the same cashout_funders
    # verifiers or fewer, each order taking drain_balance_pct of its
    # wallet's balance; or an order of drain_balance_pct of the wallet's
    # balance after drain_awards awards or more within drain_hours.
    cashout_days: int = 30
    cashout_wallets: int = 5
    cashout_funders: int = 2
    cashout_funded_pct: int = 80
    drain_hours: int = 24
    drain_awards: int = 4
    drain_balance_pct: int = 90
    cashout_score: int = 60
    # Review deadline in working days (the calendar of activities' deadlines).
    review_working_days: int = 3
    # When a review's deadline passes: amounts up to this (hundredths) are
    # released automatically; larger ones escalate up the tree.
    auto_release_minor: int = 2000

    @property
    def cooling_award(self) -> Decimal:
        return from_minor(self.cooling_award_minor)

    @property
    def auto_release(self) -> Decimal:
        return from_minor(self.auto_release_minor)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True, slots=True)
class Verdict:
    """A decision before it is stored: the outcome, the total score and
    every rule's result, under the rule-set version that produced them."""

    outcome: Outcome
    score: int
    results: tuple[RuleResult, ...]
    ruleset_version: str
    thresholds: Thresholds

    @property
    def hits(self) -> tuple[RuleResult, ...]:
        return tuple(result for result in self.results if result.hit)

    def reason_zh(self) -> str:
        return "；".join(result.reason_zh for result in self.hits) or "无风险提示"

    def reason_en(self) -> str:
        return "; ".join(result.reason_en for result in self.hits) or "no risk found"

    def hit_rules(self) -> str:
        """The rules that hit, comma-separated (a case's ``rules``)."""
        return ",".join(result.rule for result in self.hits)


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """A stored decision (``fraud_decision``): never updated."""

    id: int
    subject: Subject
    subject_id: int
    member_id: int
    issuer_id: int | None
    outcome: Outcome
    score: int
    ruleset_version: str
    thresholds: Mapping[str, Any]
    results: tuple[Mapping[str, Any], ...]
    decided_at: datetime
    shadow: bool = False

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> DecisionRecord:
        return cls(
            id=int(row["id"]),
            subject=Subject(row["subject"]),
            subject_id=int(row["subject_id"]),
            member_id=int(row["member"]),
            issuer_id=None if row["issuer"] is None else int(row["issuer"]),
            outcome=Outcome(row["outcome"]),
            score=int(row["score"]),
            ruleset_version=str(row["ruleset_version"]),
            thresholds=json.loads(row["thresholds"]),
            results=tuple(json.loads(row["results"])),
            decided_at=row["decided_at"],
            shadow=bool(row.get("shadow", False)),
        )


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A held award waiting for (or decided by) a reviewer (``fraud_case``)."""

    id: int
    decision_id: int
    subject: Subject
    subject_id: int
    member_id: int
    verifier_id: int | None
    organisation_id: int
    hold_id: int
    amount: Decimal
    reason_zh: str
    reason_en: str
    status: CaseStatus
    due_at: datetime
    taken_by: int | None
    taken_until: datetime | None
    decided_by: int | None
    decided_at: datetime | None
    label: Label | None
    note: str
    objection: str
    created_at: datetime
    score: int = 0
    rules: tuple[str, ...] = ()
    campaign_id: int | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> CaseRecord:
        return cls(
            id=int(row["id"]),
            decision_id=int(row["decision"]),
            subject=Subject(row["subject"]),
            subject_id=int(row["subject_id"]),
            member_id=int(row["member"]),
            verifier_id=None if row["verifier"] is None else int(row["verifier"]),
            organisation_id=int(row["organisation"]),
            hold_id=int(row["hold_id"]),
            amount=from_minor(int(row["amount_minor"])),
            reason_zh=str(row["reason_zh"]),
            reason_en=str(row["reason_en"]),
            status=CaseStatus(row["status"]),
            due_at=row["due_at"],
            taken_by=None if row["taken_by"] is None else int(row["taken_by"]),
            taken_until=row["taken_until"],
            decided_by=None if row["decided_by"] is None else int(row["decided_by"]),
            decided_at=row["decided_at"],
            label=None if not row["label"] else Label(row["label"]),
            note=str(row["note"]),
            objection=str(row["objection"]),
            created_at=row["created_at"],
            score=int(row.get("score") or 0),
            rules=tuple(rule for rule in str(row.get("rules") or "").split(",") if rule),
            campaign_id=None if row.get("campaign") is None else int(row["campaign"]),
        )
