"""Fraud tables: decisions (append-only), held cases, per-organisation thresholds.

A decision row is written once and never updated: it keeps every rule's
result, the thresholds it was judged with and the rule-set version, so
changing an organisation's thresholds later never rewrites it. A case row
is the review of one held award; its ledger hold is in ``ledger_hold``.
"""

from __future__ import annotations

from piccolo.columns import BigInt, Boolean, ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from community.tables import Member, Organisation


class FraudDecision(Table, tablename="fraud_decision"):
    id = Serial(primary_key=True)
    subject = Varchar(length=10)
    subject_id = BigInt(index=True)
    member = ForeignKey(Member, null=False, index=True, on_delete=OnDelete.restrict)
    # The issuing organisation whose thresholds judged it (None: none issues there).
    issuer = ForeignKey(Organisation, null=True, default=None, on_delete=OnDelete.restrict)
    outcome = Varchar(length=10, index=True)
    score = Integer()
    ruleset_version = Varchar(length=40)
    # JSON text: the thresholds as they were, and each rule's result with its evidence.
    thresholds = Text()
    results = Text()
    decided_at = Timestamptz(default=TimestamptzNow())
    # A shadow decision: what the organisation's shadow settings and rules
    # would have decided, recorded beside the enforced one, never enforced.
    shadow = Boolean(default=False)


class FraudCase(Table, tablename="fraud_case"):
    id = Serial(primary_key=True)
    decision = ForeignKey(FraudDecision, null=False, unique=True, on_delete=OnDelete.restrict)
    subject = Varchar(length=10)
    subject_id = BigInt(index=True)
    member = ForeignKey(Member, null=False, index=True, on_delete=OnDelete.restrict)
    verifier = ForeignKey(Member, null=True, default=None, on_delete=OnDelete.restrict)
    # Where it happened: reviewers manage this organisation or one above it.
    organisation = ForeignKey(Organisation, null=False, index=True, on_delete=OnDelete.restrict)
    hold_id = BigInt()
    amount_minor = BigInt()
    reason_zh = Text()
    reason_en = Text()
    # For the queue: the decision's score, the rules that hit (comma-separated)
    # and the campaign an award was to be paid from (None for orders).
    score = Integer(default=0)
    rules = Varchar(length=300, default="")
    campaign = BigInt(null=True, default=None)
    status = Varchar(length=10, index=True)
    due_at = Timestamptz(index=True)
    taken_by = ForeignKey(Member, null=True, default=None, on_delete=OnDelete.restrict)
    taken_until = Timestamptz(null=True, default=None)
    decided_by = ForeignKey(Member, null=True, default=None, on_delete=OnDelete.restrict)
    decided_at = Timestamptz(null=True, default=None)
    label = Varchar(length=12, default="")
    note = Text(default="")
    objection = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class FraudThreshold(Table, tablename="fraud_threshold"):
    """An issuing organisation's overrides of ``DEFAULT_THRESHOLDS`` (JSON
    object, only the keys it changes)."""

    id = Serial(primary_key=True)
    organisation = ForeignKey(Organisation, null=False, unique=True, on_delete=OnDelete.restrict)
    overrides = Text(default="{}")
    # Shadow mode (JSON): {"overrides": {...}, "rules": [...]}: evaluated and
    # recorded on every screening, never enforced (``fraud.shadow``).
    shadow = Text(default="{}")
    updated_at = Timestamptz(default=TimestamptzNow())


class FraudSnooze(Table, tablename="fraud_snooze"):
    """A rule snoozed for one member until ``expires_at`` (an organiser's
    call, with a reason); deleting it ends the snooze."""

    id = Serial(primary_key=True)
    member = ForeignKey(Member, null=False, index=True, on_delete=OnDelete.restrict)
    rule = Varchar(length=40)
    reason = Text()
    expires_at = Timestamptz()
    created_by = ForeignKey(Member, null=False, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())


class FraudAllowPair(Table, tablename="fraud_allow_pair"):
    """Two members the rules do not hold against each other (a family
    sharing a phone): ``member_low`` < ``member_high``."""

    id = Serial(primary_key=True)
    member_low = ForeignKey(Member, null=False, index=True, on_delete=OnDelete.restrict)
    member_high = ForeignKey(Member, null=False, index=True, on_delete=OnDelete.restrict)
    reason = Text()
    created_by = ForeignKey(Member, null=False, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())
