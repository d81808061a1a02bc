"""What a regex can match, read from the standard library's own parse of it (``re._parser``).

Shared by :mod:`bot.patternwords` and :mod:`bot.patternscan`. Strings here
are what a part of a pattern matches, with :data:`MARK` standing for a word
boundary (``\\b``, or a ``\\s+``/``\\W+`` that must follow): zero width, but
it tells that the letters or digits before or after it end or start a token
of the text (tokens are maximal ``[a-z0-9]`` runs, :mod:`bot.textnorm`).
Every function answers None (or raises :class:`Unsupported`) rather than
guess: an unknown part only makes a pattern run on more messages.
"""

from __future__ import annotations

import re
from itertools import product
from re import _constants as C  # the parser's opcodes (Python 3.11+)

from bot.tokenized import HEAD

__all__ = ["ALNUM", "LIMIT", "MARK", "REPEATS", "Unsupported", "check_flags", "exact", "exact_seq"]
__all__ += ["first_strings", "is_separator", "start_words"]

LIMIT = 64  # most alternative strings one stretch may expand to before it is cut
MARK = "\x00"  # stands for \b inside an expanded stretch
ALNUM = re.compile(r"[a-z0-9]+")
REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT)
_SEP_CATEGORIES = (C.CATEGORY_SPACE, C.CATEGORY_NOT_WORD)  # never a letter or digit


class Unsupported(Exception):
    """The pattern uses something the analysis does not model: it always runs."""


def exact(item: tuple) -> set[str] | None:
    """Every string ``item`` can match, when that is a short finite list; else None."""
    op, av = item
    if op is C.LITERAL:
        if chr(av) == MARK:
            raise Unsupported  # a NUL in the pattern would read as \b
        return {chr(av)}
    if op is C.IN:
        if all(o is C.LITERAL and chr(a) != MARK for o, a in av):
            return {chr(a) for _, a in av}
        return None
    if op is C.AT:
        return {MARK} if av == C.AT_BOUNDARY else {""}
    if op in (C.ASSERT, C.ASSERT_NOT):
        return {""}  # zero width: the stretch around it stays contiguous
    if op is C.SUBPATTERN:
        check_flags(av[1])
        return exact_seq(av[3])
    if op is C.ATOMIC_GROUP:
        return exact_seq(av)
    if op is C.BRANCH:
        out: set[str] = set()
        for alt in av[1]:
            x = exact_seq(alt)
            if x is None:
                return None
            out |= x
        return out if len(out) <= LIMIT else None
    if op in REPEATS:
        lo, hi, sub = av
        x = exact_seq(sub)
        if x is None or hi > 3 or len(x) ** hi > LIMIT:
            return None
        return {"".join(p) for k in range(lo, hi + 1) for p in product(x, repeat=k)}
    return None


def exact_seq(seq: list) -> set[str] | None:
    out = {""}
    for item in seq:
        x = exact(item)
        if x is None or len(out) * len(x) > LIMIT:
            return None
        out = {a + b for a in out for b in x}
    return out


def check_flags(flags: int) -> None:
    if flags & (re.IGNORECASE | re.LOCALE):
        raise Unsupported


def is_separator(item: tuple) -> bool:
    """Whether ``item`` always consumes at least one character that is not a letter or digit."""
    op, av = item
    if op in REPEATS:
        return av[0] >= 1 and len(av[2]) == 1 and is_separator(av[2][0])
    if op is C.IN:
        return all(
            (o is C.CATEGORY and a in _SEP_CATEGORIES) or (o is C.LITERAL and not ALNUM.match(chr(a)))
            for o, a in av
        )
    return op is C.LITERAL and not ALNUM.match(chr(av))


def first_strings(seq: list) -> set[str] | None:
    """Strings one of which the text at the start of every match of ``seq`` begins with.

    A string may hold :data:`MARK`: a word boundary there (``\\b``, or the
    separator ``\\s+``/``\\W+`` that follows). The empty string means
    nothing is known.
    """
    out = {""}
    for item in seq:
        x = exact(item)
        if x is None:
            if is_separator(item):
                return {a + MARK for a in out}
            first = _item_first_strings(item)
            # What is known so far is a prefix of every match; an unknown part ends it.
            if first is None or len(out) * len(first) > LIMIT:
                return out
            return {a + b for a in out for b in first}
        if len(out) * len(x) > LIMIT:
            break
        out = {a + b for a in out for b in x}
    return out


def _item_first_strings(item: tuple) -> set[str] | None:
    op, av = item
    if op is C.SUBPATTERN:
        check_flags(av[1])
        return first_strings(av[3])
    if op in REPEATS and av[0] >= 1:
        return first_strings(av[2])
    if op is C.BRANCH:
        out: set[str] = set()
        for alt in av[1]:
            first = first_strings(alt)
            if first is None:
                return None
            out |= first
        return out
    return None


Starts = tuple[dict[str, frozenset[str] | None], frozenset[str]]


def start_words(seq: list) -> Starts | None:
    """For a ``seq`` right after ``\\b``: where a match can start, as ``(words, prefixes)``.

    Every match of ``\\b`` + ``seq`` starts at the start of a token that
    either is a key of ``words``, followed by a token in its value (None:
    any token, or none), or starts with one of ``prefixes`` (three letters
    or more). None when that cannot be said.
    """
    first = first_strings(seq)
    words: dict[str, set[str] | None] = {}
    prefixes = set()
    for s in first or ():
        runs = list(ALNUM.finditer(s))
        if not runs or runs[0].start() != 0:
            return None
        word = runs[0].group()
        if runs[0].end() == len(s):  # nothing known after it: the token only starts so
            if len(word) < HEAD:
                return None
            prefixes.add(word)
            continue
        # Only characters that are not letters or digits lie between the first two runs: the second
        # is the next token, all of it when something follows it too.
        after = runs[1].group() if len(runs) > 1 and runs[1].end() < len(s) else None
        if word not in words or words[word] is not None:
            words[word] = None if after is None else {*(words.get(word) or ()), after}
    return (
        ({w: None if n is None else frozenset(n) for w, n in words.items()}, frozenset(prefixes))
        if first
        else None
    )
