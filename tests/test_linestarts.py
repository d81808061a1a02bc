"""bot.linestarts: the case variants and blanks it knows are exactly those of ``re``, over all of Unicode.

:mod:`bot.quoting` skips its line-start patterns on lines whose first three
characters are not in :func:`bot.linestarts.heads` (and whose first is not
in ``LEADS``). That is exact only if every character ``re`` matches
case-blind for a letter is among :func:`bot.linestarts.variants` of it, and
every character ``\\s`` matches is among the blanks: checked here for every
code point.
"""

from __future__ import annotations

import re
import sys

from bot.linestarts import BLANKS, LEADS, STARTS, heads, variants

EVERY_CHARACTER = [chr(c) for c in range(sys.maxunicode + 1)]


def test_the_blanks_are_exactly_what_re_takes_for_a_blank() -> None:
    blank = re.compile(r"\s")
    assert {c for c in EVERY_CHARACTER if blank.fullmatch(c)} == set(BLANKS)
    assert {c for c in EVERY_CHARACTER if c.isspace()} == set(BLANKS)
    # str.split() cuts at the same characters (bot.mailheaders relies on it too).
    assert {c for c in EVERY_CHARACTER if len(f"a{c}b".split()) == 2} == set(BLANKS)


def test_case_variants_are_exactly_what_re_matches_case_blind() -> None:
    letters = {c for starts in STARTS.values() for start in starts for c in start[:3] if c != " "}
    assert len(letters) > 15
    any_of_them = re.compile("[" + re.escape("".join(sorted(letters))) + "]", re.IGNORECASE)
    candidates = [c for c in EVERY_CHARACTER if any_of_them.fullmatch(c)]
    for letter in letters:
        one = re.compile(re.escape(letter), re.IGNORECASE)
        assert {c for c in candidates if one.fullmatch(c)} == set(variants(letter)), letter


def test_heads_spell_every_case_of_a_start() -> None:
    table = heads("sent", "la ")
    assert {"sen", "SEN", "Sen", "\u017fen", "la ", "LA\t", "la\u3000"} <= table
    assert not {"se", "sent", "lax", "la"} & table


def test_the_leads_are_the_blanks_and_the_marks_the_patterns_allow() -> None:
    assert set("-_=*>") | set(BLANKS) == LEADS
