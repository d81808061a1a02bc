"""A regression guard on the TEST half of tests/heldout, and the scorer's rules for halves.

tests/heldout holds 150 inquiries written blind to rules.yaml.
tests/heldout/split.json (committed before any rule was changed) splits
them by position in the sorted file names: even positions are DEV, odd are
TEST. Rules are tuned looking at DEV messages only; TEST is only measured,
in aggregate (``rules test tests/heldout --only test --summary``), never
read message by message.

TEST half, measured once before and once after the DEV tuning of urgent,
dosage, administration and obtaining (rules at 4da8bbe, then 81b4d36):

    TEST (75 messages)     before           after
    urgent recall          0.600 (12/20)    0.800 (16/20)
    false escalations      0.018 (1/55)     0.000 (0/55)
    topic micro-F1         0.727            0.773
    language accuracy      0.986 (70/71)    0.986 (70/71)
    action accuracy        0.853            0.907
    dosage P / R           0.368 / 0.875    0.400 / 0.500
    administration P / R   0.444 / 1.000    0.444 / 1.000
    obtaining P / R        1.000 / 1.000    1.000 / 1.000

Language accuracy counts the 71 messages not expected to be ignored (the
scorer before this change counted all 75: 0.933 before, the same 70 right).
(On DEV, which the tuning saw, the same run went from urgent recall 0.520
to 1.000 and micro-F1 0.693 to 0.969: the gap to TEST is how much of it
was fitted to the messages seen.)

The assertions below are a REGRESSION GUARD, not a target: each is the
after-figure minus a small margin (about one message), so a later rules
change that loses ground on unseen mail fails here. Nothing was tuned to
make them pass, and nothing should be: tune on DEV (or tests/corpus), then
run this. A failure prints the figures only, never the TEST messages'
misses, so the TEST half stays unseen.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.commands.rules import Outcome, classifier, format_report, load_split, run_corpus, score
from bot.config import Languages
from bot.rules import load_rules
from bot.triage import TriageContext

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "tests" / "heldout"
RULES = load_rules(ROOT / "rules.yaml")

# The after-figures above, minus the margin of the guard.
GUARD = {
    "urgent_recall": 0.75,  # 16/20 measured; one more miss is 15/20
    "false_escalation_max": 0.02,  # 0/55 measured; one is 1/55 = 0.018
    "micro_f1": 0.75,  # 0.773 measured
    "language_accuracy": 0.97,  # 70/71 measured; one more miss is 69/71 = 0.972
}


def test_split_is_the_even_and_odd_positions_of_the_sorted_files():
    split = json.loads((HELDOUT / "split.json").read_text(encoding="utf-8"))
    names = sorted(p.name for p in HELDOUT.glob("*.eml"))
    assert split == {"dev": names[0::2], "test": names[1::2]}
    assert not set(split["dev"]) & set(split["test"])


@pytest.fixture(scope="module")
def test_half():
    context = TriageContext(rules=RULES, languages=Languages(), available=frozenset({"en", "es"}))
    expected, got, unknown = run_corpus(HELDOUT, classifier(context), only=load_split(HELDOUT, "test"))
    assert not unknown
    assert len(got) == 75
    return score(expected, got)


def test_test_half_urgent_recall_does_not_regress(test_half):
    assert test_half.urgent_recall >= GUARD["urgent_recall"], format_report(test_half, misses=False)


def test_test_half_false_escalations_do_not_regress(test_half):
    assert test_half.false_escalation <= GUARD["false_escalation_max"], format_report(test_half, misses=False)


def test_test_half_micro_f1_does_not_regress(test_half):
    assert test_half.micro_f1 >= GUARD["micro_f1"], format_report(test_half, misses=False)


def test_test_half_language_accuracy_does_not_regress(test_half):
    assert test_half.language_accuracy >= GUARD["language_accuracy"], format_report(test_half, misses=False)


def test_language_accuracy_leaves_out_mail_expected_to_be_ignored():
    # Machine mail is screened out before language detection: its missing language is no miss.
    expected = {
        "a.eml": {"language": "es", "topics": [], "action": "manual"},
        "b.eml": {"language": "de", "topics": [], "action": "ignore"},
    }
    got = {"a.eml": Outcome("es", (), "manual"), "b.eml": Outcome(None, (), "ignore")}
    report = score(expected, got)
    assert report.language_accuracy == 1.0
    assert report.misses == []
    got["a.eml"] = Outcome("pt", (), "manual")
    assert score(expected, got).language_accuracy == 0.0
