"""The triage targets, measured on tests/corpus (the same figures as ``rules test``).

The corpus was written first, as patients, caregivers and physicians write;
rules.yaml was tuned afterwards. Targets: language accuracy >= 99%, topic
micro-F1 >= 0.95, urgent recall 100%, false escalations <= 2%.

These figures are measured on messages the rules were tuned on. The files
named ``*_h_*``, ``*_h2_*`` and ``*_h3_*`` were three later batches, each
scored blind before any change: micro-F1 0.77 and 0.65, urgent recall 2/5,
3/6 and 1/6, no false escalation. Keyword rules find the emergencies they
were shown; a new way of saying one can still be missed, so staff must not
rely on ``escalate`` alone to see urgent mail.

Triage is :func:`bot.triage.triage_bytes` when its stages exist; until
then a small stand-in here parses and screens with the standard library so
language detection and matching can be measured on their own.
"""

from __future__ import annotations

import email
import re
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.commands.rules import TARGETS, Outcome, format_report, run_corpus, score
from bot.config import Languages
from bot.language import detect_language
from bot.match import match_topics
from bot.message import ParsedMessage
from bot.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
RULES = load_rules(ROOT / "rules.yaml")
AVAILABLE = frozenset({"en", "es"})

_QUOTE_START = re.compile(
    r"^(?:On .+ wrote:|El .+ escribi[oó]:|-----Original Message-----|_{10,}|De: .+|From: .+)\s*$", re.M
)


def _stand_in_parse(raw: bytes) -> ParsedMessage:
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    part = msg.get_body(preferencelist=("plain",))
    text = part.get_content() if part is not None else ""
    cut = _QUOTE_START.search(text)
    new = text[: cut.start()] if cut else text
    new = "\n".join(line for line in new.splitlines() if not line.startswith(">"))
    return ParsedMessage(
        message_id=str(msg["Message-ID"] or "<none>"),
        synthetic_id=msg["Message-ID"] is None,
        subject=str(msg["Subject"] or ""),
        from_name="",
        from_address=str(msg["From"] or ""),
        content_language=str(msg["Content-Language"]) if msg["Content-Language"] else None,
        text=text,
        new_text=new,
        quoted_text=text[len(new) :],
        headers=tuple((k, str(v)) for k, v in msg.items()),
    )


def _stand_in_screen(msg: ParsedMessage) -> bool:
    auto = (msg.header("Auto-Submitted") or "no").lower()
    precedence = (msg.header("Precedence") or "").lower()
    return (
        auto != "no"
        or precedence in {"bulk", "junk", "list", "auto_reply"}
        or bool(msg.header_names() & {"list-id", "x-autoreply", "x-auto-response-suppress"})
        or (msg.header("Return-Path") or "").strip() == "<>"
        or "mailer-daemon" in msg.from_address.lower()
    )


def _stand_in(raw: bytes) -> Outcome:
    msg = _stand_in_parse(raw)
    if _stand_in_screen(msg):
        return Outcome(None, (), "ignore")
    language = detect_language(msg, RULES, Languages(), AVAILABLE)
    topics = match_topics(msg, language.language, RULES)
    ids = topics.topic_ids
    action = "escalate" if "urgent" in ids else ("draft" if ids else "manual")
    return Outcome(language.language, ids, action)


def _classifier():
    try:
        from bot.triage import TriageContext, triage_bytes
    except ImportError:  # parse/screen not written yet
        return _stand_in
    ctx = TriageContext(rules=RULES, languages=Languages(), available=AVAILABLE)

    def classify(raw: bytes) -> Outcome:
        t = triage_bytes(raw, config=None, rules=RULES, context=ctx)
        return Outcome(t.language.language if t.language else None, t.topic_ids, t.action.value)

    return classify


@pytest.fixture(scope="module")
def report():
    expected, got, unknown = run_corpus(CORPUS, _classifier())
    assert not unknown, f"files missing from expected.json: {unknown}"
    result = score(expected, got)
    print(format_report(result))
    return result


def test_corpus_is_large_and_covers_every_topic_and_action():
    import json

    expected = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
    assert len(expected) >= 150
    assert {t for e in expected.values() for t in e["topics"]} == {t.id for t in RULES.topics}
    assert {e["action"] for e in expected.values()} == {"draft", "escalate", "manual", "ignore"}
    assert sum("urgent" in e["topics"] for e in expected.values()) >= 12
    assert sorted(expected) == sorted(p.name for p in CORPUS.glob("*.eml"))


def test_language_accuracy(report):
    assert report.language_accuracy >= TARGETS["language_accuracy"], format_report(report)


def test_topic_micro_f1(report):
    assert report.micro_f1 >= TARGETS["micro_f1"], format_report(report)


def test_urgent_recall_is_total(report):
    assert report.urgent_recall >= TARGETS["urgent_recall"], format_report(report)


def test_false_escalations_are_rare(report):
    assert report.false_escalation <= TARGETS["false_escalation_max"], format_report(report)
