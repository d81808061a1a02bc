"""Screening's shortcuts skip only work that could not fire a rule.

A rule that names the headers it reads is not run on a message without them
(``Rule.may_fire``); the bounce-subject regex is not run on a plain subject
without any alternative's letters (``subject_match``). Both must hide
nothing: checked on every message we have and on subjects made to match.
tests/test_triage_equivalence.py compares whole screening results with the
code before the shortcuts.
"""

from __future__ import annotations

import random
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.message import ParsedMessage
from bot.parse import ParseError, parse_message
from bot.screen import rule_order
from bot.screening.bounce_subject import SUBJECT, subject_match

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT.parent / "shared" / "corpora"
NOT_MAIL = frozenset({".md", ".rb", ".py", ".yml", ".yaml", ".json"})


@cache
def messages() -> list[ParsedMessage]:
    paths = [*sorted((ROOT / "tests").rglob("*.eml")), *sorted(p for p in CORPORA.rglob("*") if p.is_file())]
    out = []
    for path in paths:
        if path.suffix.lower() in NOT_MAIL:
            continue
        try:
            out.append(parse_message(path.read_bytes()))
        except ParseError:
            continue
    assert len(out) > 1500
    return out


def test_a_rule_that_reads_headers_only_fires_only_on_mail_that_has_them() -> None:
    rules = rule_order(frozenset({"help@alsb12.example.org"}))
    assert sum(rule.headers is not None for rule in rules) >= 7
    fired = 0
    for msg in messages():
        names = msg.header_names()
        for rule in rules:
            if rule.check(msg):
                fired += 1
                assert rule.may_fire(names), (rule.name, msg.message_id)
    assert fired > 1000


def _same(subject: str) -> None:
    fast, plain = subject_match(subject), SUBJECT.search(subject)
    assert (fast and (fast.span(), fast.group())) == (plain and (plain.span(), plain.group())), subject


def test_bounce_subjects_of_real_mail_are_found_as_by_the_regex() -> None:
    subjects = {msg.subject for msg in messages()}
    assert sum(SUBJECT.search(s) is not None for s in subjects) > 80
    for subject in subjects:
        _same(subject)
        _same(subject.upper())
        _same(subject.swapcase())


@settings(max_examples=1500, deadline=None, derandomize=True, database=None)
@given(st.data(), st.text(max_size=12), st.text(max_size=12))
def test_subjects_made_to_match_are_found_as_by_the_regex(
    data: st.DataObject, before: str, after: str
) -> None:
    found = data.draw(st.from_regex(SUBJECT, fullmatch=True))  # one alternative, nothing around it
    plain = "".join(" " if c.isspace() else c for c in found)  # an ASCII subject where the regex allows
    rnd = random.Random(data.draw(st.integers()))
    mixed = "".join(c.upper() if rnd.random() < 0.5 else c for c in plain)
    around = before + mixed + after
    for subject in (found, plain, mixed, around, around.encode().decode("ascii", "ignore")):
        _same(subject)


@pytest.mark.parametrize(
    "subject",
    [
        "Undeliverable: hello",
        "RETURNED MAIL: see transcript",
        "Re: dosis",
        "",
        "Mail System Error - Returned",
    ],
)
def test_bounce_subjects_by_hand(subject: str) -> None:
    _same(subject)
