"""The fast matcher against the plain one on made-up text: rules words shuffled, text written to
match each pattern, sentences cut every way, and patterns of shapes rules.yaml does not have yet.

Fixed seeds: every run checks the same cases.
"""

from __future__ import annotations

import pickle
import random
import re
from re import _compiler as sre_compile
from re import _constants as C
from re import _parser as sre_parse

import pytest

from bot.match import _sentence_span, match_text
from bot.patternscan import plan
from bot.patternset import PatternSet
from bot.textnorm import fold
from bot.textnorm import tokens as textnorm_tokens
from bot.tokenized import Tokenized
from tests.test_match_equivalence import (
    LANGUAGES,
    PATTERNS,
    PHRASES,
    RULES,
    reference,
    scan_reference,
    sentence_span,
)

FLAT = str.maketrans({c: " " for c in "\n\r\t\f\v"})
POOL = "abcdefghijklmnopqrstuvwxyz0123456789 .,;:!?¿'-_\né"
COMMON = "a the no not is it de la en que y in on or o to of i my he she 2019 2.5 25 mg dia day every"


def _words() -> list[str]:
    """Every form of every phrase word, prefix words with endings, and common small words."""
    out = set(COMMON.split())
    for p in PHRASES:
        for forms, prefix in p.seq:
            out |= set(forms) if forms is not None else {prefix, prefix + "ing", prefix + "ado", prefix + "s"}
    return sorted(out)


WORDS = _words()


def _text(rnd: random.Random, n: int) -> str:
    parts = []
    for _ in range(n):
        parts.append(rnd.choice(WORDS))
        parts.append(rnd.choice([" "] * 8 + [". ", ", ", "? ", "!\n", "\n", " ... ", "; ", "\n\n", "'"]))
    text = "".join(parts)
    return text.upper() if rnd.random() < 0.05 else text


@pytest.mark.parametrize("seed", range(4))
def test_rules_words_in_any_order_match_as_the_plain_matcher_does(seed: int) -> None:
    rnd = random.Random(seed)
    for _ in range(60):
        text = _text(rnd, rnd.randint(1, 60))
        scanned = scan_reference(text)
        for language in (*LANGUAGES, None):
            assert match_text(text, language, RULES) == reference(scanned, language), text


def test_words_and_their_offsets_are_textnorms() -> None:
    rnd = random.Random(5)
    pool = "ab z09 _-'.?\n\t" + "é¿“”—\u0301\ud800\U0001f600ßİ"
    for _ in range(3000):
        folded = fold("".join(rnd.choice(pool) for _ in range(rnd.randint(0, 40))))
        tokens = Tokenized(folded)
        found = [(w, tokens.start(i), tokens.end(i)) for i, w in enumerate(tokens.words)]
        assert found == textnorm_tokens(folded), folded
        assert tokens.distinct == {w for w, _, _ in found}
        assert tokens.heads == {w[:3] for w, _, _ in found}


def test_sentences_are_cut_as_the_plain_matcher_cuts_them() -> None:
    rnd = random.Random(7)
    pieces = ["word", " ", ".", "2.5", "!", "?", ";", "\n", "\n\n", "a" * 70, "x.y", "...", ". ", "¿"]
    for _ in range(3000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 30)))
        start = rnd.randint(0, len(text))
        end = rnd.randint(start, len(text))
        assert _sentence_span(text, start, end) == sentence_span(text, start, end), (text, start, end)


_CLASSES: dict[str, list[str]] = {}


def _sample(items, rnd: random.Random, state) -> str:
    """A string the items can match (lookarounds and \\b aside), from the pattern's parse."""
    out = []
    for op, av in items:
        if op is C.LITERAL:
            out.append(chr(av))
        elif op in (C.IN, C.ANY, C.NOT_LITERAL):
            key = repr((op, av))
            if key not in _CLASSES:
                klass = sre_compile.compile(sre_parse.SubPattern(state, [(op, av)]))
                _CLASSES[key] = [c for c in POOL if klass.fullmatch(c)]
            out.append(rnd.choice(_CLASSES[key]))
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            lo, hi, sub = av
            out += [_sample(sub, rnd, state) for _ in range(rnd.randint(lo, min(hi, lo + 3)))]
        elif op is C.SUBPATTERN:
            out.append(_sample(av[3], rnd, state))
        elif op is C.BRANCH:
            out.append(_sample(rnd.choice(av[1]), rnd, state))
        elif op is C.ATOMIC_GROUP:
            out.append(_sample(av, rnd, state))
        elif op is C.ASSERT and av[0] == 1:  # what a lookahead wants to see next
            out.append(_sample(av[1], rnd, state))
    return "".join(out)


def _compare(regexes: list[re.Pattern[str]], texts: list[str]) -> int:
    """Assert the pattern set finds what finditer finds; return how many texts had a match."""
    patterns = PatternSet(regexes)
    matched = 0
    for text in texts:
        folded = fold(text)
        flat = folded.translate(FLAT)
        plain = [(i, m.span(), m.group()) for i, r in enumerate(regexes) for m in r.finditer(flat)]
        fast = [(i, m.span(), m.group()) for i, m in patterns.matches(Tokenized(folded))]
        assert fast == plain, (text, [r.pattern for r in regexes])
        matched += bool(plain)
    return matched


def _made_to_match(regex: re.Pattern[str], rnd: random.Random, n: int) -> list[str]:
    parsed = sre_parse.parse(regex.pattern)
    texts = []
    for _ in range(n):
        made = [_sample(list(parsed), rnd, parsed.state) for _ in range(rnd.randint(1, 2))]
        seps = [rnd.choice([" ", "\n", ". ", "? ", ", ", "", "x"]) for _ in range(len(made) + 1)]
        around = [_text(rnd, rnd.randint(0, 6)) if rnd.random() < 0.7 else "" for _ in range(len(made) + 1)]
        text = around[0] + seps[0]
        for m, s, a in zip(made, seps[1:], around[1:], strict=True):
            text += m + s + a
        texts.append(text)
    return texts


def test_every_rules_pattern_on_text_made_to_match_it() -> None:
    rnd = random.Random(11)
    matched = total = 0
    for _, _, regex in PATTERNS:
        texts = _made_to_match(regex, rnd, 25)
        matched += _compare([regex], texts)
        total += len(texts)
    assert matched > total * 0.6  # the made-up texts do match: the comparison is not of empty lists
    # and all at once, as the matcher runs them
    assert _compare([r for _, _, r in PATTERNS], _made_to_match(PATTERNS[0][2], rnd, 40)) > 0


SHAPES = [
    r"(?<=[.!?])\s*why\b",  # a clause after one of these
    r"(?<![^.?!])\s*(?:how|when)\b[^.?!]*\?",  # a clause that ends with ?
    r"(?<![^.?])\s*(?:\w+\s+){0,2}(?:dose|dosis)\s*[?.]",
    r"(?<![^.?])\s*why\b[^?]*\?",  # a clause that may hold a full stop before its ?
    r"(?i)\bhello\b",  # case-insensitive: run plainly
    r"\b(?i:dose)s?\b",
    r"\b(\w+) \1\b",  # a back-reference
    r"x*",  # can match nothing
    r"\bfoo(?=bar)",
    r"\b(?:a|an|the)\s+(?:dose|doses)\b",
    r"\bcan'?t\b",
    r"\b\d+\s?mg\b",
    r"(?<!\w)no\b",
    r"\bpharmac\w*",
    r"\b(?:x|y)?z",
    r"^hello",
    r"\bend$",
    r"\b[a-c]at\b",
    r"\b(?>abc|ab)c",
    r"\bab++c",
    r"\bno\b(?:\W+\w+){0,3}?\W+respi+r+a+r*(?:\b|ndo)",
    r"\b(?:ya\s+)?tome\s+(?:mi|la|una)\s+decision\s*(?:[.!;]|$)",
    r"\bwhat'?s\s+the\s+point\b",
    r"\b_x\b",
    r"\b(?:é|e)t(?:é|e)\b",
    r"(?:every|each)\s+day\s*\?",
    r"\b(?:in|as a|as)\s+(?:pill|tablet)s?\b",
]


@pytest.mark.parametrize("shape", SHAPES)
def test_patterns_of_other_shapes_stay_exact(shape: str) -> None:
    regex = re.compile(shape)
    rnd = random.Random(shape)
    texts = _made_to_match(regex, rnd, 60) + [_text(rnd, rnd.randint(0, 40)) for _ in range(40)]
    assert _compare([regex], texts) > 0


def test_what_cannot_be_planned_runs_plainly() -> None:
    for shape in (r"(?i)\bhello\b", r"\b(?i:dose)s?\b", r"\b(\w+) \1\b", r"x*", r"\b(?>abc|ab)c"):
        scan = plan(re.compile(shape))
        assert (scan.gate, scan.anchor, scan.after, scan.starts) == (None, None, None, None), shape


def test_the_rules_patterns_run_only_where_they_can_match() -> None:
    # Not a timing: the reason matching is cheap. Nearly every pattern waits for a word it
    # needs, and is tried only where a word it can start with is.
    patterns = RULES.compiled.pattern_set
    assert len(patterns.always) <= 3
    assert sum(scan.starts is not None for scan in patterns.scans) >= 100
    clause = plan(re.compile(r"(?<![^?.!,;:¿])\s*(?:[\w']+\s+){0,3}(?:every day|daily)\s*\?"))
    assert clause.after is not None and clause.ends == frozenset("?")
    # A clause whose middle may hold one of the characters it starts after is tried after each.
    longer = plan(re.compile(r"(?<![^.?])\s*why\b[^?]*\?"))
    assert longer.after is not None and longer.ends is None
    assert [m.span() for m in longer.finditer("x. why a. b? why?")] == [(2, 12), (12, 17)]


def test_the_compiled_rules_survive_pickling() -> None:
    # Worker processes may be handed rules; the parts compiled from a parse are planned again.
    restored = pickle.loads(pickle.dumps(RULES.compiled))
    rnd = random.Random(3)
    for text in [_text(rnd, 40) for _ in range(30)] + _made_to_match(PATTERNS[0][2], rnd, 10):
        tokens = Tokenized(fold(text))
        assert restored.scan(tokens) == RULES.compiled.scan(tokens)
