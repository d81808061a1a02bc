"""Topic matching: which rules.yaml topics an inquiry is about, and the words that said so.

Contract of :func:`match_topics`: the subject and the new text (never the
quoted earlier messages) are folded (:mod:`bot.textnorm`) and matched
against every topic's keywords *in every language* (people mix languages;
the detected language's words are listed first), its regex patterns, and
its exclusions: a keyword or pattern hit that overlaps one of the topic's
excluded phrases ("not urgent", "no quiero morir") does not count. An
excluded phrase written between dots (``"... last year ..."``) covers the
whole sentence it is in (up to ``.``, ``!``, ``?``, ``;`` or a line
break): "Last month Mum had chest pains." is an old event, not an
emergency. Regex patterns see every line break or tab as a space, so a
phrase hard-wrapped across two lines still matches. Hits come back highest
priority first.

Everything is compiled once per :class:`~bot.rules.Rules` (its
``compiled`` property): keyword phrases go into a dict keyed by the forms
of their first word, so a message costs one pass over its words plus the
few regexes, well under a millisecond.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.message import ParsedMessage, Reason, TopicHit, TopicResult
from bot.rules import Rules
from bot.textnorm import fold, phrase_words, tokens, variants

# One element of a phrase: (forms an exact word may take, or None; prefix, or None).
_Elem = tuple[frozenset[str] | None, str | None]


@dataclass
class _Entry:
    topic: int
    label: str
    seq: tuple[_Elem, ...]
    exclude: bool
    langs: list[str] = field(default_factory=list)
    sentence: bool = False  # an exclusion covering its whole sentence


@dataclass(frozen=True)
class _Hit:
    topic: int
    label: str
    langs: tuple[str, ...]
    start: int
    end: int


def _elem(word: str, is_prefix: bool) -> _Elem:
    return (None, word) if is_prefix else (variants(word), None)


# What ends a sentence: ! ? ; a full stop not inside a number ("2.5 mg"), or a line break,
# unless the line is long and followed by more text (mail clients hard-wrap at ~72).
_SENTENCE_END = re.compile(r"[!?;\n]|\.(?!\w)")
_WRAPPED = 60
# Whitespace a pattern sees as one space (the same length, so offsets still agree).
_FLAT = str.maketrans({c: " " for c in "\n\r\t\f\v"})


def _is_sentence_wide(phrase: str) -> bool:
    """Whether an exclusion is written between dots, ``"... last year ..."``: it covers its sentence."""
    p = phrase.strip()
    return p.startswith(("...", "\u2026")) and p.endswith(("...", "\u2026"))


def _sentence_ends(text: str) -> list[int]:
    """Offsets where the sentences of ``text`` end (see :data:`_SENTENCE_END`)."""
    ends = []
    for m in _SENTENCE_END.finditer(text):
        i = m.start()
        if text[i] == "\n":
            line_start = text.rfind("\n", 0, i) + 1
            wrapped = i - line_start >= _WRAPPED and text[i + 1 : i + 2] not in ("", "\n")
            if wrapped:
                continue
        ends.append(i)
    return ends


def _sentence_span(text: str, start: int, end: int, ends: list[int] | None = None) -> tuple[int, int]:
    """The span of the sentence of ``text`` holding ``start:end``."""
    ends = _sentence_ends(text) if ends is None else ends
    before = [e + 1 for e in ends if e < start]
    after = [e for e in ends if e >= end]
    return (before[-1] if before else 0), (after[0] if after else len(text))


class CompiledRules:
    """The keyword index and compiled patterns of one Rules; see :func:`compile_rules`.

    Phrases are indexed by the forms of their first word (one word) or of
    their first two words (longer phrases), so common first words ("a",
    "no", "the") cost one dict lookup, not a check of every phrase they
    start. Phrases starting with a prefix word sit in a small side index.
    """

    def __init__(self, rules: Rules) -> None:
        self.topic_ids = [t.id for t in rules.topics]
        self.priorities = [t.priority for t in rules.topics]
        self.single: dict[str, list[_Entry]] = {}
        self.pair: dict[str, dict[str, list[_Entry]]] = {}  # first word -> second word -> phrases
        self.prefixed: dict[str, list[_Entry]] = {}
        self.patterns: list[tuple[int, str, re.Pattern[str]]] = []
        seen: dict[tuple, _Entry] = {}
        for ti, topic in enumerate(rules.topics):
            for exclude, table in ((False, topic.keywords), (True, topic.exclude)):
                for lang, phrases in table.items():
                    for phrase in phrases:
                        seq = tuple(_elem(w, p) for w, p in phrase_words(phrase))
                        sentence = exclude and _is_sentence_wide(phrase)
                        key = (ti, exclude, sentence, seq)
                        if key in seen:  # the same words listed for another language
                            seen[key].langs.append(lang)
                            continue
                        seen[key] = entry = _Entry(ti, phrase, seq, exclude, [lang], sentence)
                        self._index(entry)
            for lang, regexes in topic.patterns.items():
                self.patterns.extend((ti, lang, re.compile(r)) for r in regexes)

    def _index(self, entry: _Entry) -> None:
        first = entry.seq[0][0]
        second = entry.seq[1][0] if len(entry.seq) > 1 else None
        if first is None or (len(entry.seq) > 1 and second is None):
            key = entry.seq[0][1][:3] if first is None else ""  # type: ignore[index]
            for form in first or (key,):
                self.prefixed.setdefault(form, []).append(entry)
        elif second is None:
            for form in first:
                self.single.setdefault(form, []).append(entry)
        else:
            for f0 in first:
                for f1 in second:
                    self.pair.setdefault(f0, {}).setdefault(f1, []).append(entry)

    def scan(self, text: str) -> tuple[list[_Hit], list[_Hit]]:
        """Keyword and pattern hits in ``text``, and the excluded spans, by topic index."""
        folded = fold(text)
        toks = tokens(folded)
        ws = [t[0] for t in toks]
        n = len(ws)
        found: list[tuple[_Entry, int]] = []
        single, pair, prefixed = self.single, self.pair, self.prefixed
        for i, word in enumerate(ws):
            entries = single.get(word)
            if entries:
                found.extend((entry, i) for entry in entries)
            seconds = pair.get(word)
            if seconds and i + 1 < n:
                for entry in seconds.get(ws[i + 1], ()):
                    if len(entry.seq) == 2 or _rest_matches(entry.seq, ws, i):
                        found.append((entry, i))
            if word in prefixed or word[:3] in prefixed:
                starts = prefixed.get(word, []) + (prefixed.get(word[:3], []) if len(word) > 3 else [])
                found.extend((entry, i) for entry in starts if _rest_matches(entry.seq, ws, i, 0))
        hits: list[_Hit] = []
        excluded: list[_Hit] = []
        ends: list[int] | None = None
        for entry, i in found:
            start, end = toks[i][1], toks[i + len(entry.seq) - 1][2]
            if entry.sentence:
                ends = _sentence_ends(folded) if ends is None else ends
                start, end = _sentence_span(folded, start, end, ends)
            hit = _Hit(entry.topic, entry.label, tuple(entry.langs), start, end)
            (excluded if entry.exclude else hits).append(hit)
        # Patterns see a line break as a space: mail is hard-wrapped mid-phrase ("todos los\ndias").
        flat = folded.translate(_FLAT)
        for ti, lang, regex in self.patterns:
            for m in regex.finditer(flat):
                hits.append(_Hit(ti, m.group()[:40].strip(), (lang,), m.start(), m.end()))
        return hits, excluded


def _rest_matches(seq: tuple[_Elem, ...], ws: list[str], i: int, start: int = 2) -> bool:
    """Whether the words from ``ws[i + start]`` on match the phrase's elements from ``start``."""
    if i + len(seq) > len(ws):
        return False
    for k in range(start, len(seq)):
        forms, prefix = seq[k]
        word = ws[i + k]
        if (word not in forms) if forms is not None else not word.startswith(prefix or ""):
            return False
    return True


def compile_rules(rules: Rules) -> CompiledRules:
    """Build the matcher for ``rules``; use ``rules.compiled``, which caches it."""
    return CompiledRules(rules)


def match_text(text: str, language: str | None, rules: Rules) -> TopicResult:
    """Match already chosen text (see :func:`match_topics`)."""
    compiled = rules.compiled
    hits, excluded = compiled.scan(text)
    by_topic: dict[int, list[_Hit]] = {}
    for hit in hits:
        if any(x.topic == hit.topic and x.start < hit.end and hit.start < x.end for x in excluded):
            continue
        by_topic.setdefault(hit.topic, []).append(hit)
    result_hits: list[TopicHit] = []
    reasons: list[Reason] = []
    for ti in sorted(by_topic, key=lambda t: (-compiled.priorities[t], compiled.topic_ids[t])):
        # The detected language's words first, then in the order they were written.
        found = sorted(by_topic[ti], key=lambda h: (language not in h.langs, h.start))
        labels: list[str] = []
        groups: dict[str, list[str]] = {}
        for hit in found:
            if hit.label in labels:
                continue
            labels.append(hit.label)
            lang = language if language in hit.langs else hit.langs[0]
            groups.setdefault(lang, []).append(f"'{hit.label}'")
        topic_id = compiled.topic_ids[ti]
        result_hits.append(TopicHit(topic_id, compiled.priorities[ti], tuple(labels)))
        detail = "; ".join(f"{', '.join(ws)} ({lang})" for lang, ws in groups.items())
        reasons.append(Reason("topics", topic_id, f"matched {detail}"))
    if not result_hits:
        reasons.append(Reason("topics", "none", "no topic's keywords or patterns matched"))
    return TopicResult(tuple(result_hits), tuple(reasons))


def match_topics(msg: ParsedMessage, language: str | None, rules: Rules) -> TopicResult:
    """The topics of ``msg``: subject plus new text (the whole text when nothing is new)."""
    body = msg.new_text if msg.new_text.strip() else msg.text
    return match_text(f"{msg.subject}\n{body}", language, rules)
