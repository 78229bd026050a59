"""The corpus gate (issue #12): over the seeded fraud corpus, every
planted fraud is flagged review or deny (recall 100 %), honest work is
flagged at most 1 % of the time, every confirmation is found and allowed,
and taking out any one rule makes the gate fail. Per-rule precision and
recall are printed (``pytest -s`` or the ``-ra`` summary on failure).

A fixed seed runs in CI; the property test draws seeds (marked slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from admin.cli import app
from fraud.models import Subject
from fraud.rules import RULES_BY_SUBJECT, Rule, all_rules
from fraud.simulate import MAX_FALSE_POSITIVE_RATE, Corpus, CorpusLabel, GateReport, generate, score, without

CI_SEED = 20261130


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return generate(seed=CI_SEED, weeks=4)


def _print(report: GateReport, title: str) -> None:
    print(f"\n{title}")
    print(f"{'rule':<24}{'hits':>6}{'precision':>11}{'recall':>8}")
    for rule, hits, precision, recall in report.table():
        print(f"{rule:<24}{hits:>6}{precision:>11}{recall:>8}")
    print(
        f"planted flagged {report.flagged_planted}/{report.planted}, honest flagged "
        f"{report.flagged_honest}/{report.honest}, confirmations {report.confirmations_found}/{report.confirmations}"
    )


def test_every_planted_fraud_is_flagged_and_honest_work_almost_never(corpus: Corpus) -> None:
    report = score(corpus)
    _print(report, f"fraud corpus, seed {CI_SEED}")
    assert report.failures() == []
    assert report.recall == 1.0
    assert report.false_positive_rate <= MAX_FALSE_POSITIVE_RATE
    assert report.confirmations_found == report.confirmations > 0
    # Each rule's own planted cases are found by it, and it was tested on some.
    for rule in report.rules:
        assert rule.planted > 0, f"nothing planted for {rule.rule}"
        assert rule.recall == 1.0, rule


def test_the_corpus_plants_every_kind_the_rules_know_and_keeps_labels_apart(corpus: Corpus) -> None:
    planted_kinds = {tag.rule for tag in corpus.labels.values() if tag.label is not CorpusLabel.PRELUDE}
    assert planted_kinds == {rule.__name__ for rule in all_rules()}
    assert {subject for subject, _ in corpus.labels} == {Subject.ACTIVITY, Subject.ORDER}
    # The rules see activities and orders; the answer key is elsewhere.
    assert not any(hasattr(activity, "label") for activity in corpus.activities)
    honest = len(corpus.activities) + len(corpus.orders) - len(corpus.labels)
    assert honest > 5 * len(corpus.labels) / 2


@pytest.mark.parametrize("removed", all_rules(), ids=lambda rule: rule.__name__)
def test_taking_out_any_one_rule_fails_the_gate(corpus: Corpus, removed: Rule) -> None:
    rules = without(removed)
    assert sum(len(chosen) for chosen in rules.values()) < sum(len(chosen) for chosen in RULES_BY_SUBJECT.values())
    report = score(corpus, rules)
    assert report.failures(), f"the gate passed without {removed.__name__}"
    # And it fails where that rule was needed.
    failing = report.missed if removed.__name__ != "duplicate_report" else ()
    assert all(f"({removed.__name__})" in item for item in failing)


def test_the_same_seed_gives_the_same_corpus() -> None:
    first, second = generate(seed=5, weeks=3), generate(seed=5, weeks=3)
    assert first.activities == second.activities and first.orders == second.orders
    assert first.labels == second.labels
    assert generate(seed=6, weeks=3).activities != first.activities


@pytest.mark.slow
@settings(max_examples=6, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32), weeks=st.integers(min_value=3, max_value=8))
def test_the_gate_holds_for_random_seeds(seed: int, weeks: int) -> None:
    report = score(generate(seed=seed, weeks=weeks))
    assert report.failures() == [], (seed, weeks, report.false_positives[:5])


def test_the_simulate_command_prints_each_rule_and_writes_the_corpus_with_labels_apart(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["fraud", "simulate", "--seed", "3", "--weeks", "3", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "gate passes" in result.output
    for rule in all_rules():
        assert rule.__name__ in result.output
    activities = [json.loads(line) for line in (tmp_path / "activities.jsonl").read_text().splitlines()]
    labels = [json.loads(line) for line in (tmp_path / "labels.jsonl").read_text().splitlines()]
    assert activities and labels
    assert not any("label" in row or "rule" in row for row in activities)
    assert {row["label"] for row in labels} == {"planted", "confirmation", "prelude"}
    assert {row["subject"] for row in labels} == {"activity", "order"}
