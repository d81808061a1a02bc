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
``compiled`` property): the message is folded and cut into words once
(:mod:`bot.tokenized`); keyword phrases are found through an index keyed by
their first words (:mod:`bot.phraseindex`), and a regex runs only when the
words it needs are there, and then only where a match can start
(:mod:`bot.patternset`). The results are those of trying every phrase at
every word and running every regex over the whole text
(tests/test_match_equivalence.py).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from bot.inquirytext import InquiryText
from bot.message import ParsedMessage, Reason, TopicHit, TopicResult
from bot.patternset import PatternSet
from bot.phraseindex import PhraseIndex
from bot.rules import Rules
from bot.textnorm import fold
from bot.tokenized import Tokenized


class _Hit(NamedTuple):
    topic: int
    label: str
    langs: tuple[str, ...]
    start: int
    end: int


# What ends a sentence: ! ? ; a full stop not inside a number ("2.5 mg"), or a line break,
# unless the line is long and followed by more text (mail clients hard-wrap at ~72).
_SENTENCE_END = re.compile(r"[!?;\n]|\.(?!\w)")
_WRAPPED = 60


def _ends_sentence(text: str, i: int) -> bool:
    """Whether a sentence of ``text`` ends at offset ``i`` (see :data:`_SENTENCE_END`)."""
    if _SENTENCE_END.match(text, i) is None:
        return False
    if text[i] == "\n":
        line_start = text.rfind("\n", 0, i) + 1
        return not (i - line_start >= _WRAPPED and text[i + 1 : i + 2] not in ("", "\n"))
    return True


def _sentence_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of the sentence of ``text`` holding ``start:end``: from after the last end before
    ``start`` (or 0) to the first end at or after ``end`` (or the end of the text)."""
    lo, pos = 0, start
    while (e := max(text.rfind(c, 0, pos) for c in "!?;\n.")) >= 0:  # the candidates, backwards
        if _ends_sentence(text, e):
            lo = e + 1
            break
        pos = e
    hi = next(
        (m.start() for m in _SENTENCE_END.finditer(text, end) if _ends_sentence(text, m.start())), len(text)
    )
    return lo, hi


class CompiledRules:
    """The phrase index and the patterns of one Rules, built once; see :func:`compile_rules`."""

    def __init__(self, rules: Rules) -> None:
        self.topic_ids = [t.id for t in rules.topics]
        self.priorities = [t.priority for t in rules.topics]
        self.phrases = PhraseIndex(rules)
        self.patterns: list[tuple[int, str, re.Pattern[str]]] = [
            (ti, lang, re.compile(r))
            for ti, topic in enumerate(rules.topics)
            for lang, regexes in topic.patterns.items()
            for r in regexes
        ]
        self.pattern_set = PatternSet([regex for _, _, regex in self.patterns])

    def scan(self, tokens: Tokenized) -> tuple[list[_Hit], list[_Hit]]:
        """Keyword and pattern hits in a folded text's words, and the excluded spans, by topic index."""
        folded = tokens.folded
        hits: list[_Hit] = []
        excluded: list[_Hit] = []
        for entry, i in self.phrases.find(tokens):
            start, end = tokens.start(i), tokens.end(i + len(entry.seq) - 1)
            if entry.sentence:
                start, end = _sentence_span(folded, start, end)
            hit = _Hit(entry.topic, entry.label, tuple(entry.langs), start, end)
            (excluded if entry.exclude else hits).append(hit)
        # Patterns see a line break as a space: mail is hard-wrapped mid-phrase ("todos los\ndias").
        for pi, m in self.pattern_set.matches(tokens):
            ti, lang, _ = self.patterns[pi]
            hits.append(_Hit(ti, m.group()[:40].strip(), (lang,), m.start(), m.end()))
        return hits, excluded


def compile_rules(rules: Rules) -> CompiledRules:
    """Build the matcher for ``rules``; use ``rules.compiled``, which caches it."""
    return CompiledRules(rules)


def match_text(text: str, language: str | None, rules: Rules) -> TopicResult:
    """Match already chosen text (see :func:`match_topics`)."""
    return _match_tokens(Tokenized(fold(text)), language, rules)


def _match_tokens(tokens: Tokenized, language: str | None, rules: Rules) -> TopicResult:
    """:func:`match_text` of the text ``tokens`` were cut from."""
    compiled = rules.compiled
    hits, excluded = compiled.scan(tokens)
    by_topic: dict[int, list[_Hit]] = {}
    for hit in hits:
        if excluded and any(
            x.topic == hit.topic and x.start < hit.end and hit.start < x.end for x in excluded
        ):
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


def match_topics(
    msg: ParsedMessage, language: str | None, rules: Rules, text: InquiryText | None = None
) -> TopicResult:
    """The topics of ``msg``: subject plus new text (the whole text when nothing is new).

    ``text`` is ``InquiryText.of(msg)`` when the caller has it already (made when None).
    """
    return _match_tokens((text or InquiryText.of(msg)).tokens, language, rules)
