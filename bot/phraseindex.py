"""The keyword and exclusion phrases of rules.yaml, indexed to find them in a message's words fast.

Contract of :meth:`PhraseIndex.find`: the ``(entry, i)`` pairs of every
phrase that matches the message's words from word ``i`` on, ordered by
``i`` and, at one word, as the index lists them: one-word phrases, then
phrases of two or more words, then phrases with a prefix word (``inject*``,
``en 199*``). A phrase word matches a message word equal to one of its
forms (:func:`bot.textnorm.variants`); a prefix word matches a word
starting with it.

Phrases are indexed by the forms of their first word (one word) or of
their first two words (longer phrases), so common first words ("a", "no",
"the") cost one dict lookup, not a check of every phrase they start.
Phrases starting with a prefix word, or whose second word is one, sit in a
small side index keyed by the first three letters of the prefix (or by the
first word). Only words that can start a phrase are looked at, found with
set operations on the message's words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import compress, count, islice

from bot.rules import Rules
from bot.textnorm import phrase_words, variants
from bot.tokenized import HEAD, Tokenized

__all__ = ["Entry", "PhraseIndex"]

# One element of a phrase: (forms an exact word may take, or None; prefix, or None).
Elem = tuple[frozenset[str] | None, str | None]


@dataclass
class Entry:
    """One phrase of a topic (its words listed once, with every language it was listed for)."""

    topic: int
    label: str
    seq: tuple[Elem, ...]
    exclude: bool
    langs: list[str] = field(default_factory=list)
    sentence: bool = False  # an exclusion covering its whole sentence


def _elem(word: str, is_prefix: bool) -> Elem:
    return (None, word) if is_prefix else (variants(word), None)


def is_sentence_wide(phrase: str) -> bool:
    """Whether an exclusion is written between dots, ``"... last year ..."``: it covers its sentence."""
    p = phrase.strip()
    return p.startswith(("...", "\u2026")) and p.endswith(("...", "\u2026"))


class PhraseIndex:
    """Every topic's keyword and exclusion phrases (see the module docstring)."""

    def __init__(self, rules: Rules) -> None:
        self.single: dict[str, list[Entry]] = {}
        self.pair: dict[str, dict[str, list[Entry]]] = {}  # first word -> second word -> phrases
        self.prefixed: dict[str, list[Entry]] = {}
        seen: dict[tuple, Entry] = {}
        for ti, topic in enumerate(rules.topics):
            for exclude, table in ((False, topic.keywords), (True, topic.exclude)):
                for lang, phrases in table.items():
                    for phrase in phrases:
                        seq = tuple(_elem(w, p) for w, p in phrase_words(phrase))
                        sentence = exclude and is_sentence_wide(phrase)
                        key = (ti, exclude, sentence, seq)
                        if key in seen:  # the same words listed for another language
                            seen[key].langs.append(lang)
                            continue
                        seen[key] = entry = Entry(ti, phrase, seq, exclude, [lang], sentence)
                        self._index(entry)
        self.single_keys = frozenset(self.single)
        self.pair_keys = frozenset(
            (first, second) for first, seconds in self.pair.items() for second in seconds
        )
        # A word starts a prefixed phrase when it is a key, or its first three letters are one.
        self.prefix_words = frozenset(self.prefixed)
        self.prefix_heads = frozenset(k for k in self.prefixed if len(k) == HEAD)
        self.gates = {key: _gate(entries) for key, entries in self.prefixed.items()}
        self.next_heads = {
            key: frozenset(p[:HEAD] for p in gate[1]) if all(len(p) >= HEAD for p in gate[1]) else None
            for key, gate in self.gates.items()
            if gate is not None and gate[0] == 1
        }

    def _index(self, entry: Entry) -> None:
        first = entry.seq[0][0]
        second = entry.seq[1][0] if len(entry.seq) > 1 else None
        if first is None or (len(entry.seq) > 1 and second is None):
            key = entry.seq[0][1][:HEAD] if first is None else ""  # type: ignore[index]
            for form in first or (key,):
                self.prefixed.setdefault(form, []).append(entry)
        elif second is None:
            for form in first:
                self.single.setdefault(form, []).append(entry)
        else:
            for f0 in first:
                for f1 in second:
                    self.pair.setdefault(f0, {}).setdefault(f1, []).append(entry)

    def find(self, tokens: Tokenized) -> list[tuple[Entry, int]]:
        """The phrases matching at each word (see the module docstring)."""
        ws, distinct = tokens.words, tokens.distinct
        at: list[tuple[int, int, list[Entry]]] = []  # (word, kind, phrases found there)
        singles = self.single_keys.intersection(distinct)
        if singles:
            at.extend((i, 0, self.single[ws[i]]) for i in compress(count(), map(singles.__contains__, ws)))
        # Every two words in a row looked up at once (C loops, not a Python one per word); zip's pairs
        # hash from their words' cached hashes.
        for i in compress(
            count(), map(self.pair_keys.__contains__, zip(ws, islice(ws, 1, None), strict=False))
        ):
            entries = self.pair[ws[i]][ws[i + 1]]
            at.append((i, 1, [e for e in entries if len(e.seq) == 2 or _rest_matches(e.seq, ws, i, 2)]))
        prefixed = self._prefix_words(tokens)
        for i in compress(count(), map(prefixed.__contains__, ws)) if prefixed else ():
            found = self._prefixed_at(ws, i)
            if found:
                at.append((i, 2, found))
        at.sort()  # by word, then kind: one (word, kind) each, so the lists are never compared
        return [(entry, i) for i, _, entries in at for entry in entries]

    def _prefix_words(self, tokens: Tokenized) -> set[str]:
        """The words a phrase listed in ``prefixed`` may start at: under the word, or its first 3 letters."""
        heads = tokens.heads
        words = {w for w in self.prefix_words.intersection(tokens.distinct) if self._may(w, w, heads)}
        present = self.prefix_heads.intersection(heads)
        if present:
            words.update(w for w in tokens.headed(present) if len(w) > HEAD and self._may(w[:HEAD], w, heads))
        return words

    def _may(self, key: str, word: str, heads: set[str]) -> bool:
        """Whether the phrases listed under ``key`` may match at ``word``, given the message's heads."""
        gate = self.gates[key]
        if gate is None:
            return True
        if gate[0] == 0:
            return word.startswith(gate[1])
        nexts = self.next_heads[key]  # the heads one of which the next word must have
        return nexts is None or not nexts.isdisjoint(heads)

    def _prefixed_at(self, ws: list[str], i: int) -> list[Entry]:
        word = ws[i]
        after = ws[i + 1] if i + 1 < len(ws) else None
        found: list[Entry] = []
        for key in (word, word[:HEAD]) if len(word) > HEAD else (word,):
            entries = self.prefixed.get(key)
            if not entries:
                continue
            gate = self.gates[key]  # a test every phrase of the list needs: skip the list at once
            if gate is not None and not (word if gate[0] == 0 else after or "").startswith(gate[1]):
                continue
            found.extend(e for e in entries if _two(e.seq, word, after) and _rest_matches(e.seq, ws, i, 2))
        return found


def _gate(entries: list[Entry]) -> tuple[int, tuple[str, ...]] | None:
    """(0, prefixes) when every phrase starts with a prefix word: the word must start with one;
    (1, prefixes) when every phrase's second word is a prefix: the next word must start with one."""
    if all(e.seq[0][0] is None for e in entries):
        return 0, tuple(e.seq[0][1] for e in entries)  # type: ignore[misc]
    if all(len(e.seq) > 1 and e.seq[1][0] is None for e in entries):
        return 1, tuple(e.seq[1][1] for e in entries)  # type: ignore[misc]
    return None


def _two(seq: tuple[Elem, ...], word: str, after: str | None) -> bool:
    """Whether the first two elements of a phrase (one, if it has one) match ``word`` and ``after``."""
    for (forms, prefix), w in zip(seq[:2], (word, after), strict=False):
        if w is None or ((w not in forms) if forms is not None else not w.startswith(prefix or "")):
            return False
    return True


def _rest_matches(seq: tuple[Elem, ...], ws: list[str], i: int, start: int) -> bool:
    """Whether the words from ``ws[i + start]`` on match the phrase's elements from ``start``."""
    if i + len(seq) > len(ws):
        return False
    for k in range(start, len(seq)):
        forms, prefix = seq[k]
        word = ws[i + k]
        if (word not in forms) if forms is not None else not word.startswith(prefix or ""):
            return False
    return True
