"""Topic matching: which rules.yaml topics an inquiry is about, and the words that said so.

Contract of :func:`match_topics`: the subject and the new text (never the
quoted earlier messages) are folded (:mod:`bot.textnorm`) and matched
against every topic's keywords *in every language* (people mix languages;
the detected language's words are listed first), its regex patterns, and
its exclusions: a keyword or pattern hit that overlaps one of the topic's
excluded phrases ("not urgent", "no quiero morir") does not count. Hits
come back highest priority first.

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


@dataclass(frozen=True)
class _Hit:
    topic: int
    label: str
    langs: tuple[str, ...]
    start: int
    end: int


def _elem(word: str, is_prefix: bool) -> _Elem:
    return (None, word) if is_prefix else (variants(word), None)


class CompiledRules:
    """The keyword index and compiled patterns of one Rules; see :func:`compile_rules`."""

    def __init__(self, rules: Rules) -> None:
        self.topic_ids = [t.id for t in rules.topics]
        self.priorities = [t.priority for t in rules.topics]
        self.exact: dict[str, list[_Entry]] = {}
        self.prefix: dict[str, list[_Entry]] = {}
        self.patterns: list[tuple[int, str, re.Pattern[str]]] = []
        seen: dict[tuple, _Entry] = {}
        for ti, topic in enumerate(rules.topics):
            for exclude, table in ((False, topic.keywords), (True, topic.exclude)):
                for lang, phrases in table.items():
                    for phrase in phrases:
                        seq = tuple(_elem(w, p) for w, p in phrase_words(phrase))
                        key = (ti, exclude, seq)
                        if key in seen:  # the same words listed for another language
                            seen[key].langs.append(lang)
                            continue
                        entry = seen[key] = _Entry(ti, phrase, seq, exclude, [lang])
                        forms, prefix = seq[0]
                        if prefix is not None:
                            self.prefix.setdefault(prefix[:3], []).append(entry)
                        else:
                            for form in forms or ():
                                self.exact.setdefault(form, []).append(entry)
            for lang, regexes in topic.patterns.items():
                self.patterns.extend((ti, lang, re.compile(r)) for r in regexes)

    def scan(self, text: str) -> tuple[list[_Hit], list[_Hit]]:
        """Keyword and pattern hits in ``text``, and the excluded spans, by topic index."""
        folded = fold(text)
        toks = tokens(folded)
        hits: list[_Hit] = []
        excluded: list[_Hit] = []
        n = len(toks)
        for i, (word, start, _end) in enumerate(toks):
            for entry in (*self.exact.get(word, ()), *self.prefix.get(word[:3], ())):
                seq = entry.seq
                if i + len(seq) > n or not all(
                    (word_k in forms) if forms is not None else word_k.startswith(prefix or "")
                    for (forms, prefix), (word_k, _s, _e) in zip(seq, toks[i : i + len(seq)], strict=False)
                ):
                    continue
                hit = _Hit(entry.topic, entry.label, tuple(entry.langs), start, toks[i + len(seq) - 1][2])
                (excluded if entry.exclude else hits).append(hit)
        for ti, lang, regex in self.patterns:
            for m in regex.finditer(folded):
                hits.append(_Hit(ti, m.group()[:40].strip(), (lang,), m.start(), m.end()))
        return hits, excluded


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
