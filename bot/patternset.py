"""All the rules' regex patterns, run on one message: only those whose needed words it has.

Contract of :meth:`PatternSet.matches`: given a message's folded text cut
into words (:class:`bot.tokenized.Tokenized`), it returns
``(pattern index, match)`` pairs exactly as running every pattern's
``finditer`` over the flattened text (line breaks and tabs as spaces), in
pattern order, would: a pattern is skipped only when one of its needs
(:func:`bot.patternwords.needed_words`) is missing, which proves it finds
nothing, and it runs through :class:`bot.patternscan.PatternScan`, which
finds the same matches as ``finditer``.

Each pattern's cheapest need made of words and heads only is its
*trigger*: the patterns a message can reach are found by intersecting its
tokens with one dict of trigger words (and its heads with one of trigger
heads), so a message costs a few set operations, not a test per pattern.
A pattern that starts with ``\\b`` and a word is then tried only at the
words it can start with (:func:`bot.regexparts.start_words`), not at every
character.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import compress, count, repeat

from bot.patternscan import PatternScan, plan
from bot.patternwords import cost
from bot.tokenized import HEAD, Tokenized

__all__ = ["PatternSet", "flatten"]

# Whitespace a pattern sees as one space (each one character, so offsets still agree).
_FLAT = "\n\r\t\f\v"


def flatten(folded: str) -> str:
    """``folded`` with every line break, tab, form feed or vertical tab made a space."""
    for c in _FLAT:
        if c in folded:
            folded = folded.replace(c, " ")
    return folded


class PatternSet:
    """The compiled patterns of a Rules, indexed by the words that trigger them."""

    def __init__(self, regexes: Sequence[re.Pattern[str]]) -> None:
        self.scans: list[PatternScan] = [plan(r) for r in regexes]
        # The needs left to check once triggered: set lookups only (a substring search costs about
        # what running the pattern does), as (words, heads).
        self.rest: list[tuple[tuple[frozenset[str], frozenset[str]], ...]] = []
        self.always: list[int] = []  # patterns without a trigger: run on every message
        self.by_word: dict[str, list[int]] = {}
        self.by_head: dict[str, list[int]] = {}
        for i, scan in enumerate(self.scans):
            triggers = [n for n in scan.needs if not n[2]]
            trigger = min(triggers, key=cost) if triggers else None
            self.rest.append(tuple((n[0], n[1]) for n in triggers if n is not trigger))
            if trigger is None:
                self.always.append(i)
            for word in trigger[0] if trigger else ():
                self.by_word.setdefault(word, []).append(i)
            for head in trigger[1] if trigger else ():
                self.by_head.setdefault(head, []).append(i)
        # Where a match can start (PatternScan.starts): the patterns each start word or prefix leads to.
        self.by_start: dict[str, list[tuple[int, frozenset[str] | None]]] = {}  # (pattern, next words)
        self.by_start_head: dict[str, list[tuple[str, int]]] = {}
        for i, scan in enumerate(self.scans):
            for word, nexts in scan.starts[0].items() if scan.starts else ():
                self.by_start.setdefault(word, []).append((i, nexts))
            for prefix in scan.starts[1] if scan.starts else ():
                self.by_start_head.setdefault(prefix[:HEAD], []).append((prefix, i))
        self.start_words = frozenset(self.by_start)
        self.start_heads = frozenset(self.by_start_head)
        self.trigger_words = frozenset(self.by_word)
        self.trigger_heads = frozenset(self.by_head)

    def matches(self, tokens: Tokenized) -> list[tuple[int, re.Match[str]]]:
        """Every pattern's matches in the flattened text, pattern by pattern (see the module docstring)."""
        words, heads = tokens.distinct, tokens.heads
        reached = set(self.always)
        for word in self.trigger_words.intersection(words):
            reached.update(self.by_word[word])
        for head in self.trigger_heads.intersection(heads):
            reached.update(self.by_head[head])
        runnable = []
        for i in sorted(reached):
            for need_words, need_heads in self.rest[i]:
                if need_words.isdisjoint(words) and need_heads.isdisjoint(heads):
                    break
            else:
                runnable.append(i)
        if not runnable:
            return []
        flat = flatten(tokens.folded)
        where = {i: [] for i in runnable if self.scans[i].starts is not None}
        if where:
            self._fill_starts(tokens, where)
        out: list[tuple[int, re.Match[str]]] = []
        for i in runnable:
            starts, scan = where.get(i), self.scans[i]
            found = scan.finditer(flat) if starts is None else scan.from_starts(flat, starts)
            out.extend(zip(repeat(i), found))
        return out

    def _fill_starts(self, tokens: Tokenized, where: dict[int, list[int]]) -> None:
        """Append to ``where[i]``, in order, the offsets of the tokens where pattern i can start."""
        # word -> the patterns that can start there, each with the words that must follow (None: any).
        # Whether the pattern runs on this message, and what follows, are checked where the word is:
        # a few tests there cost less than filtering every list here.
        by_start = self.by_start
        owners = {word: by_start[word] for word in self.start_words.intersection(tokens.distinct)}
        present = self.start_heads.intersection(tokens.heads)
        for word in tokens.headed(present) if present else ():
            mine = owners.get(word, ())
            for prefix, i in self.by_start_head[word[:HEAD]]:
                if i in where and (i, None) not in mine and word.startswith(prefix):
                    mine = [*mine, (i, None)]
            if mine:
                owners[word] = mine
        ws = tokens.words
        last = len(ws) - 1
        part_of, before = tokens.offset_tables()
        for k in compress(count(), map(owners.__contains__, ws)) if owners else ():
            for i, nexts in owners[ws[k]]:
                if i in where and (nexts is None or (k < last and ws[k + 1] in nexts)):
                    where[i].append(before[part_of[k]] + part_of[k])  # tokens.start(k)
