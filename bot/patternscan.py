"""Run one rules.yaml regex over a message fast, finding exactly what ``regex.finditer`` finds.

Contract of :class:`PatternScan`: ``scan.finditer(flat)`` yields the same
matches, in the same order, as ``scan.regex.finditer(flat)``; ``scan.needs``
are the pattern's needs (:func:`bot.patternwords.needed_words`). What it saves is the regex
engine trying the pattern at every character: a pattern starting with
``\\b`` or a lookbehind gives the engine nothing to skip ahead with.

* A *gate* is a tail of the pattern that starts with a literal (or a choice
  of literals), compiled on its own: every match of the pattern contains a
  match of its tail, so when the engine, skipping to that literal, finds no
  tail, the pattern finds nothing.
* An *anchor* is the pattern without its leading zero-width part
  (``\\b``): every match of the pattern starts where the anchor matches, so
  the pattern is tried only there, in order, as ``finditer`` would.
* A *clause* start is for a pattern led by a one-character lookbehind,
  ``(?<![^?.!])``: it can start only after one of those characters. When
  it also ends with one of them (``\\?``) and nothing in between can be
  one, it can start only after the one before each ``?``.

Everything is built from the standard library's own parse of the pattern
(``re._parser``, ``re._compiler``); anything unexpected, or a pattern that
can match the empty string, falls back to the plain ``finditer``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from re import _compiler as sre_compile  # Python 3.11+
from re import _constants as C
from re import _parser as sre_parse

from bot.patternwords import Need, needed_words
from bot.regexparts import MARK, Starts, Unsupported, first_strings, start_words

__all__ = ["PatternScan", "plan"]

_ZERO_WIDTH = (C.AT, C.ASSERT, C.ASSERT_NOT)
_CASE = re.IGNORECASE | re.LOCALE
# How often a character starts a place the engine must try (rough letter frequencies, en/es).
_FREQ = {" ": 16, **dict.fromkeys("eaosnirt", 8), **dict.fromkeys("ldcumph", 4), **dict.fromkeys("gbyfvw", 2)}


@dataclass(frozen=True)
class PatternScan:
    """One pattern, with what lets it run on a message fast (see the module docstring)."""

    regex: re.Pattern[str]
    needs: tuple[Need, ...] = ()
    gate: re.Pattern[str] | None = None
    anchor: re.Pattern[str] | None = None
    after: re.Pattern[str] | None = None  # a clause start follows one of these characters
    at_start: bool = False  # ... or is the start of the text
    ends: frozenset[str] | None = None  # ... and its first such character after it is one of these
    marks: str = ""  # those characters, when they are a few literal ones
    # After \b: the tokens a match can start at (see bot.regexparts.start_words).
    starts: Starts | None = None

    def __reduce__(self) -> tuple:
        # The parts compiled from the parse have no pattern text to pickle: plan again instead.
        return plan, (self.regex,)

    def finditer(self, flat: str) -> Iterator[re.Match[str]]:
        """Exactly ``self.regex.finditer(flat)``."""
        if self.gate is not None and self.gate.search(flat) is None:
            return
        if self.anchor is not None:
            yield from self._anchored(flat)
        elif self.after is not None:
            yield from self.from_starts(flat, self._clause_starts(flat))
        else:
            yield from self.regex.finditer(flat)

    def _anchored(self, flat: str) -> Iterator[re.Match[str]]:
        # The leftmost start at or after pos is the leftmost anchor start there that the pattern matches at.
        search, match = self.anchor.search, self.regex.match  # type: ignore[union-attr]
        pos = 0
        while (hit := search(flat, pos)) is not None:
            m = match(flat, hit.start())
            if m is None:
                pos = hit.start() + 1
            else:
                yield m
                pos = m.end()  # never empty: planned only for patterns that cannot match ""

    def _clause_starts(self, flat: str) -> list[int]:
        if self.ends is not None and self.marks:
            return self._ending_clause_starts(flat)
        starts = []
        prev = 0 if self.at_start else None  # the start of the current clause, if one may start there
        for hit in self.after.finditer(flat):  # type: ignore[union-attr]
            if prev is not None and (self.ends is None or hit.group() in self.ends):
                starts.append(prev)
            prev = hit.end()
        if prev is not None and self.ends is None:
            starts.append(prev)
        return starts

    def _ending_clause_starts(self, flat: str) -> list[int]:
        # The clauses that end with one of ends: each starts after the mark before its end.
        starts = []
        for end in sorted(i for c in self.ends for i in _find_all(flat, c)):  # type: ignore[union-attr]
            start = max(flat.rfind(c, 0, end) for c in self.marks) + 1
            if start or self.at_start:
                starts.append(start)
        return starts

    def from_starts(self, flat: str, starts: list[int]) -> Iterator[re.Match[str]]:
        """Exactly ``self.regex.finditer(flat)``, given every place a match can start, in order."""
        match, pos = self.regex.match, 0
        for start in starts:
            if start >= pos and (m := match(flat, start)) is not None:
                yield m
                pos = m.end()


def _compile(state: sre_parse.State, items: list) -> re.Pattern[str]:
    return sre_compile.compile(sre_parse.SubPattern(state, list(items)))


def _skip_cost(items: list) -> float | None:
    """How often the engine must try a regex of ``items`` per character, if it can skip (else None)."""
    head = items[0] if items else None
    while head is not None and head[0] is C.SUBPATTERN and not head[1][1]:
        head = head[1][3][0] if len(head[1][3]) else None
    if head is None or head[0] not in (C.LITERAL, C.BRANCH):
        return None  # the engine skips ahead only to a literal or a choice of literals
    if head[0] is C.BRANCH and not all(alt and alt[0][0] is C.LITERAL for alt in head[1][1]):
        return None
    first = first_strings(items)
    if not first or any(not s or s[0] == MARK for s in first):
        return None
    if head[0] is C.LITERAL and len(items) > 1 and items[1][0] is C.LITERAL:
        return 0.005  # a literal prefix of two or more characters: a plain substring search
    return sum(_FREQ.get(c, 1) for c in {s[0] for s in first}) / 100


def _consumes(items: list, chars: frozenset[str], state: sre_parse.State) -> bool:
    """Whether a match of ``items`` may contain one of ``chars`` (True when unsure)."""
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue
        if op is C.LITERAL:
            hit = chr(av) in chars
        elif op is C.IN:
            klass = _compile(state, [(op, av)])
            hit = any(klass.fullmatch(c) for c in chars)
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT):
            hit = av[1] > 0 and _consumes(list(av[2]), chars, state)
        elif op is C.SUBPATTERN:
            hit = _consumes(list(av[3]), chars, state)
        elif op is C.BRANCH:
            hit = any(_consumes(list(alt), chars, state) for alt in av[1])
        else:
            hit = True
        if hit:
            return True
    return False


def _clause(items: list, state: sre_parse.State) -> dict | None:
    """The clause start of a pattern led by a one-character lookbehind (see the module docstring)."""
    op, av = items[0]
    if op not in (C.ASSERT, C.ASSERT_NOT) or av[0] != -1 or len(av[1]) != 1 or av[1][0][0] is not C.IN:
        return None
    klass = list(av[1][0][1])
    negated = klass[:1] == [(C.NEGATE, None)]
    if op is C.ASSERT_NOT:
        if not negated:
            return None  # "not after x" allows almost anywhere
        klass = klass[1:]  # not after a non-x: after an x, or at the start
    out = {"after": _compile(state, [(C.IN, klass)]), "at_start": op is C.ASSERT_NOT}
    last_op, last = items[-1]
    if not all(o is C.LITERAL for o, _ in klass):  # (a negated class too): no set of characters to end on
        return out
    chars = frozenset(chr(a) for _, a in klass)
    ends = {chr(last)} if last_op is C.LITERAL else None
    if ends and ends <= chars and not _consumes(items[1:-1], chars, state):
        out["ends"] = frozenset(ends)
        out["marks"] = "".join(sorted(chars)) if len(chars) <= 12 else ""
    return out


def _find_all(text: str, c: str) -> Iterator[int]:
    i = text.find(c)
    while i >= 0:
        yield i
        i = text.find(c, i + 1)


def plan(regex: re.Pattern[str]) -> PatternScan:
    """How to run ``regex`` fast; a plain :class:`PatternScan` when nothing safe is found."""
    try:
        parsed = sre_parse.parse(regex.pattern, regex.flags)
    except (re.error, RecursionError):
        return PatternScan(regex, ())
    needs = tuple(needed_words(parsed))
    try:
        items = list(parsed)
        if parsed.state.flags & _CASE or parsed.getwidth()[0] == 0 or _unmodelled(items):
            return PatternScan(regex, needs)
        return _plan(regex, needs, parsed.state, items)
    except (re.error, RecursionError, Unsupported):
        return PatternScan(regex, needs)


def _plan(
    regex: re.Pattern[str], needs: tuple[Need, ...], state: sre_parse.State, items: list
) -> PatternScan:
    lead = 0
    while lead < len(items) and items[lead][0] in _ZERO_WIDTH:
        lead += 1
    own = _skip_cost(items)  # the engine skips ahead on the pattern itself
    anchor_cost = _skip_cost(items[lead:]) if lead else None
    clause = _clause(items, state) if lead and anchor_cost is None else None
    run_cost = own if own is not None else anchor_cost if anchor_cost is not None else 1.0
    if clause and "ends" in clause:
        run_cost = 0.02
    tails = [
        (cost, k)
        for k in range(lead + 1, len(items))
        if items[k - 1][0] is not C.LITERAL and (cost := _skip_cost(items[k:])) is not None
    ]
    gate = None
    if tails and min(tails)[0] < run_cost / 2:
        gate = _compile(state, items[min(tails)[1] :])
    starts = start_words(items[lead:]) if (C.AT, C.AT_BOUNDARY) in items[:lead] else None
    if anchor_cost is not None:
        return PatternScan(regex, needs, gate, anchor=_compile(state, items[lead:]), starts=starts)
    if clause:
        return PatternScan(regex, needs, gate, **clause)
    return PatternScan(regex, needs, gate, starts=starts)


def _unmodelled(items: list) -> bool:
    """Whether the pattern uses what the plans do not model: back-references, atomic parts, case flags."""
    for op, av in items:
        if op in (C.GROUPREF, C.GROUPREF_EXISTS, C.ATOMIC_GROUP, C.POSSESSIVE_REPEAT):
            return True
        subs = []
        if op in (C.MAX_REPEAT, C.MIN_REPEAT):
            subs = [av[2]]
        elif op is C.SUBPATTERN:
            if av[1] & _CASE:
                return True
            subs = [av[3]]
        elif op is C.BRANCH:
            subs = av[1]
        elif op in (C.ASSERT, C.ASSERT_NOT):
            subs = [av[1]]
        if any(_unmodelled(list(sub)) for sub in subs):
            return True
    return False
