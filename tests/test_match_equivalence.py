"""The fast matcher finds exactly what the plain one does: every phrase tried at every word, every
pattern run over the whole text.

``reference`` below is that plain matcher, written for this test: the semantics of
bot/match.py before it was made fast (folding, phrases, sentence-wide exclusions, the order
hits are listed in, the reasons). The fast one must give identical TopicResults on every
corpus message, the held-out set and 300 generated inquiries, in every language rules.yaml
has; tests/test_match_fuzz.py compares them on made-up text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from bot.match import match_text, match_topics
from bot.message import Reason, TopicHit, TopicResult
from bot.parse import parse_message
from bot.rules import Rules, load_rules
from bot.textnorm import _APOSTROPHES, _SPECIAL, fold, phrase_words, tokens, variants
from tests.bench_inquiries import bench_inquiries

ROOT = Path(__file__).resolve().parent.parent
RULES = load_rules(ROOT / "rules.yaml")
LANGUAGES = sorted({lang for t in RULES.topics for lang in (*t.keywords, *t.patterns, *t.exclude)})


def fold_reference(text: str) -> str:
    """textnorm.fold as it was: casefold, apostrophes and special letters, NFKD, no combining marks."""
    if text.isascii():
        return text.lower()
    text = text.casefold().translate(_APOSTROPHES).translate(_SPECIAL)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@dataclass
class Phrase:
    topic: int
    label: str
    seq: tuple
    exclude: bool
    langs: list
    sentence: bool


def phrases(rules: Rules) -> list[Phrase]:
    """Every topic's keywords and exclusions, one Phrase per distinct word sequence, in file order."""
    seen: dict[tuple, Phrase] = {}
    for ti, topic in enumerate(rules.topics):
        for exclude, table in ((False, topic.keywords), (True, topic.exclude)):
            for lang, texts in table.items():
                for text in texts:
                    seq = tuple((None, w) if p else (variants(w), None) for w, p in phrase_words(text))
                    t = text.strip()
                    sentence = exclude and t.startswith(("...", "\u2026")) and t.endswith(("...", "\u2026"))
                    key = (ti, exclude, sentence, seq)
                    if key in seen:
                        seen[key].langs.append(lang)
                    else:
                        seen[key] = Phrase(ti, text, seq, exclude, [lang], sentence)
    return list(seen.values())


PHRASES = phrases(RULES)
PATTERNS = [
    (ti, lang, re.compile(r))
    for ti, t in enumerate(RULES.topics)
    for lang, rs in t.patterns.items()
    for r in rs
]


def _fits(elem: tuple, word: str) -> bool:
    forms, prefix = elem
    return word in forms if forms is not None else word.startswith(prefix)


def _keys(p: Phrase) -> set[str]:
    """The words a phrase with a prefix word is listed under: its first word's forms, or 3 letters."""
    return set(p.seq[0][0]) if p.seq[0][0] is not None else {p.seq[0][1][:3]}


def _at(p: Phrase, ws: list[str], i: int) -> bool:
    return i + len(p.seq) <= len(ws) and all(_fits(e, ws[i + k]) for k, e in enumerate(p.seq))


def found(ws: list[str]) -> list[tuple[Phrase, int]]:
    """Every phrase matching at every word, ordered by word and, at one word, as the index lists
    them: one exact word; two or more exact words; with a prefix word, those listed under the
    word itself, then those listed under its first three letters (each in file order)."""
    where: dict[str, list[int]] = {}
    for i, w in enumerate(ws):
        where.setdefault(w, []).append(i)
    out = []
    for n, p in enumerate(PHRASES):
        forms, prefix = p.seq[0]
        words = forms if forms is not None else [w for w in where if w.startswith(prefix)]
        for i in sorted(i for w in words for i in where.get(w, ())):
            if not _at(p, ws, i):
                continue
            w = ws[i]
            if all(e[0] is not None for e in p.seq[:2]):
                out.append((i, 0 if len(p.seq) == 1 else 1, n, p))
                continue
            if w in _keys(p):
                out.append((i, 2, n, p))
            if len(w) > 3 and w[:3] in _keys(p):
                out.append((i, 3, n, p))
    out.sort(key=lambda x: x[:3])
    return [(p, i) for i, _, _, p in out]


def sentence_span(text: str, start: int, end: int) -> tuple[int, int]:
    ends = []
    for m in re.finditer(r"[!?;\n]|\.(?!\w)", text):
        i = m.start()
        if text[i] == "\n":
            line_start = text.rfind("\n", 0, i) + 1
            if i - line_start >= 60 and text[i + 1 : i + 2] not in ("", "\n"):
                continue
        ends.append(i)
    before = [e + 1 for e in ends if e < start]
    after = [e for e in ends if e >= end]
    return (before[-1] if before else 0), (after[0] if after else len(text))


def scan_reference(text: str) -> tuple[list[tuple], list[tuple]]:
    """(hits, excluded) as (topic, label, langs, start, end), in the order they are found."""
    folded = fold_reference(text)
    toks = tokens(folded)
    ws = [t[0] for t in toks]
    hits, excluded = [], []
    for p, i in found(ws):
        start, end = toks[i][1], toks[i + len(p.seq) - 1][2]
        if p.sentence:
            start, end = sentence_span(folded, start, end)
        (excluded if p.exclude else hits).append((p.topic, p.label, tuple(p.langs), start, end))
    flat = folded.translate(str.maketrans({c: " " for c in "\n\r\t\f\v"}))
    for ti, lang, regex in PATTERNS:
        hits += [(ti, m.group()[:40].strip(), (lang,), m.start(), m.end()) for m in regex.finditer(flat)]
    return hits, excluded


def reference(scanned: tuple[list[tuple], list[tuple]], language: str | None) -> TopicResult:
    """What match_text returns, from the plain scan."""
    hits, excluded = scanned
    by_topic: dict[int, list[tuple]] = {}
    for h in hits:
        if not any(x[0] == h[0] and x[3] < h[4] and h[3] < x[4] for x in excluded):
            by_topic.setdefault(h[0], []).append(h)
    topics = RULES.topics
    result, reasons = [], []
    for ti in sorted(by_topic, key=lambda t: (-topics[t].priority, topics[t].id)):
        labels, groups = [], {}
        for h in sorted(by_topic[ti], key=lambda h: (language not in h[2], h[3])):
            if h[1] not in labels:
                labels.append(h[1])
                groups.setdefault(language if language in h[2] else h[2][0], []).append(f"'{h[1]}'")
        result.append(TopicHit(topics[ti].id, topics[ti].priority, tuple(labels)))
        detail = "; ".join(f"{', '.join(ws)} ({lang})" for lang, ws in groups.items())
        reasons.append(Reason("topics", topics[ti].id, f"matched {detail}"))
    if not result:
        reasons.append(Reason("topics", "none", "no topic's keywords or patterns matched"))
    return TopicResult(tuple(result), tuple(reasons))


@cache
def messages() -> list[tuple[str, object]]:
    out = [
        (p.name, parse_message(p.read_bytes()))
        for d in ("corpus", "heldout")
        for p in sorted((ROOT / "tests" / d).glob("*.eml"))
    ]
    out += [(f"inquiry {n}", parse_message(raw)) for n, raw in enumerate(bench_inquiries(3, 300))]
    return out


@pytest.mark.parametrize("chunk", range(8))
def test_the_fast_matcher_gives_what_the_plain_one_gives(chunk: int) -> None:
    checked = 0
    for name, msg in messages()[chunk::8]:
        body = msg.new_text if msg.new_text.strip() else msg.text
        text = f"{msg.subject}\n{body}"
        scanned = scan_reference(text)
        for language in (*LANGUAGES, None):
            expected = reference(scanned, language)
            assert match_text(text, language, RULES) == expected, (name, language)
            assert match_topics(msg, language, RULES) == expected, (name, language)
            checked += 1
    assert checked == len(messages()[chunk::8]) * (len(LANGUAGES) + 1)


def test_the_messages_compared_reach_urgency_patterns_and_exclusions() -> None:
    # The comparison means something only if the messages exercise what could differ.
    urgent = next(i for i, t in enumerate(RULES.topics) if t.id == "urgent")
    texts = [fold_reference(f"{m.subject}\n{m.new_text or m.text}") for _, m in messages()]
    per_text = [found([t[0] for t in tokens(text)]) for text in texts]
    assert sum(any(p.topic == urgent and not p.exclude for p, _ in f) for f in per_text) >= 10
    assert sum(any(p.exclude for p, _ in f) for f in per_text) >= 10
    assert sum(any(p.sentence for p, _ in f) for f in per_text) >= 10
    assert sum(any(p.seq[0][0] is None for p, _ in f) for f in per_text) >= 10  # a prefix word
    flat = [text.replace("\n", " ") for text in texts]
    matching = [(ti, regex) for ti, _, regex in PATTERNS if any(regex.search(f) for f in flat)]
    assert len(matching) >= 60 and sum(ti == urgent for ti, _ in matching) >= 25


def test_fold_is_unchanged_for_every_character() -> None:
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    for start in range(0, len(chars), 4096):
        chunk = "".join(chars[start : start + 4096])
        assert fold(chunk) == fold_reference(chunk)
    text = "".join(chars[0x20:0x3000])
    assert fold(text) == fold_reference(text)
    for c in chars[0x80:0x3000]:
        assert fold(c) == fold_reference(c), hex(ord(c))
    for sample in ("Inyección, CAÑA, Straße, ’", "ÅNGSTRÖM\u0301 ﬁ Ⅻ ǅ", "e\u0301\u034f\u0300", "ıİøæœłđ"):
        assert fold(sample) == fold_reference(sample)
