"""langdetect's character n-gram model, scored deterministically and cheaply.

langdetect (the project's dependency) ships one profile per language: how
often each character 1-, 2- and 3-gram occurs in that language's Wikipedia.
Its detector estimates the language by *sampling* n-grams of the text at
random, in several trials, multiplying per-language probabilities. That is
a Monte Carlo estimate of a naive Bayes score, and reading the text one
character at a time in Python is most of its cost.

:class:`NgramModel` keeps the same model and text handling but computes the
naive Bayes score directly: the log-probabilities of *every* n-gram of the
text are summed per language (with langdetect's smoothing, ``ALPHA /
BASE_FREQ``, and a uniform prior over the loaded languages), and the
per-language probabilities are their softmax. The same text always gets
the same answer, with no seed.

Text handling is langdetect's (``Detector.append``, ``cleaning_text``,
``NGram``): URLs and e-mail addresses removed, Vietnamese marks composed,
Latin letters dropped from mostly non-Latin text, each character normalised
by ``NGram.normalize`` (through a translation table filled from it, so the
two cannot disagree), n-grams taken within space-separated words padded by
a space, none inside an all-capitals run. An n-gram's contribution depends
only on its word, so each word's score is computed once and cached.

Scores are kept as integers: each n-gram's ``-log(probability)`` per
language in fixed point (``SCALE``), the languages packed side by side in
one int (``LANE`` bits each, lane 0 counting the n-grams read). Adding two
packed ints adds every language's score at once, exactly and in any order,
so a text's score is one ``sum()`` over its words. Rounding costs at most
``2**-25`` nats per n-gram, far below any difference that decides.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable
from operator import add

from langdetect.detector import Detector
from langdetect.detector_factory import PROFILES_DIRECTORY
from langdetect.utils.ngram import NGram

ALPHA = Detector.ALPHA_DEFAULT  # langdetect's smoothing: ALPHA / BASE_FREQ is added to every probability
BASE_FREQ = Detector.BASE_FREQ
PROB_THRESHOLD = Detector.PROB_THRESHOLD  # probabilities at or below this are not reported, as langdetect
WORD_CACHE = 50_000  # words whose scores are kept (a few MB); the cache is emptied when it is full
SCALE = 1 << 24  # fixed point of the packed scores
LANE = 64  # bits per language in a packed score: room for 2**36 n-grams, a bound no text reaches
_MASK = (1 << LANE) - 1
MAX_CHARS_LIMIT = 1 << 32  # a text read whole can overflow no lane below this

# Characters langdetect counts as "not Latin" when it decides to drop Latin letters: all from
# U+0300 (its exception for Latin Extended Additional compares a block number with a name).
_NON_LATIN = re.compile("[\u0300-\U0010ffff]")
_LATIN = re.compile("[A-z]")  # langdetect's own test, 'A' <= ch <= 'z'


class _Normaliser(dict):
    """A ``str.translate`` table equal to ``NGram.normalize``, filled on first sight of a character."""

    def __missing__(self, code: int) -> int:
        mapped = ord(NGram.normalize(chr(code)))
        self[code] = mapped
        return mapped


_NORMALISE = _Normaliser()
# Latin-1 (ASCII included) normalises within Latin-1, so it can be done byte-wise at C speed:
# the whole text when it is Latin-1, else its ASCII characters in UTF-8.
_LATIN1_BYTES = bytes(_NORMALISE[b] for b in range(256))
_ASCII_BYTES = _LATIN1_BYTES[:128] + bytes(range(128, 256))
# Latin-1 to Latin Extended-B (the supported languages' letters) mostly normalise to themselves;
# the few that do not, and everything from U+0250 on, go through the table.
_LATIN_CHANGED = "".join(re.escape(chr(c)) for c in range(128, 0x250) if _NORMALISE[c] != c)
_CHANGED = re.compile(f"[{_LATIN_CHANGED}\u0250-\U0010ffff]+")


def _normalise_run(match: re.Match[str]) -> str:
    return match.group().translate(_NORMALISE)


def prepare(text: str, max_chars: int) -> str:
    """``text`` as langdetect reads it: at most ``max_chars`` characters, cleaned and normalised."""
    text = text[:max_chars]
    if "http" in text:
        text = Detector.URL_RE.sub(" ", text)
    if "@" in text:
        text = Detector.MAIL_RE.sub(" ", text)
    if text.isascii():
        return text.translate(_NORMALISE)
    if _NON_LATIN.search(text):
        text = NGram.normalize_vi(text)  # letter + combining mark -> one letter; needs a mark
        # Mostly non-Latin text: its Latin letters (names, product codes) would only mislead.
        non_latin = len(_NON_LATIN.findall(text))
        if len(_LATIN.findall(text)) * 2 < non_latin:
            text = _LATIN.sub("", text)
    try:
        return text.encode("latin-1").translate(_LATIN1_BYTES).decode("latin-1")
    except UnicodeEncodeError:  # curly quotes, dashes, other scripts
        text = text.encode("utf-8", "surrogatepass").translate(_ASCII_BYTES).decode("utf-8", "surrogatepass")
        return _CHANGED.sub(_normalise_run, text)


class NgramModel:
    """The profiles of ``languages`` (those langdetect has), scored as naive Bayes over all n-grams."""

    def __init__(self, languages: tuple[str, ...]) -> None:
        profiles = []
        for lang in sorted(set(languages)):
            path = os.path.join(PROFILES_DIRECTORY, lang)
            if os.path.exists(path):
                with open(path, encoding="utf-8") as fh:
                    profiles.append(json.load(fh))
        self.languages: tuple[str, ...] = tuple(p["name"] for p in profiles)
        # langdetect's word_lang_prob_map: per n-gram, each language's probability.
        probs: dict[str, list[float]] = {}
        for index, profile in enumerate(profiles):
            n_words = profile["n_words"]
            for gram, count in profile["freq"].items():
                if 1 <= len(gram) <= 3 and gram != " ":
                    probs.setdefault(gram, [0.0] * len(profiles))[index] = count / n_words[len(gram) - 1]
        # An n-gram of no loaded profile is not in the table and, as in langdetect, counts for nothing.
        self._table = {gram: _pack(ps) for gram, ps in probs.items()}
        self._words = _WordCache(self._score)

    def _score(self, word: str, trailing: bool = True) -> int:
        """The packed score of one word's n-grams (``trailing``: a space follows it).

        The word is read padded, ``" word "``: its letters, and every 2- and
        3-gram of the padded word (``" w"``, ``"d "``, ``"rd "``...).
        """
        padded = " " + word + (" " if trailing else "")
        rest = word[1:]
        if rest.islower() or not any(map(str.isupper, rest)):  # no two capitals in a row
            pairs = list(map(add, padded, padded[1:]))
            grams = [*word, *pairs, *map(add, pairs, padded[2:])]
        else:
            grams = []
            for j in range(1, len(padded)):
                # Inside a run of capitals (an acronym, a shouted word) langdetect reads nothing.
                if not (padded[j].isupper() and padded[j - 1].isupper()):
                    grams += (padded[j], padded[j - 1 : j + 1], padded[j - 2 : j + 1] if j >= 2 else "")
        table = self._table
        return sum([table[g] for g in grams if g in table])

    def log_likelihoods(self, text: str, max_chars: int) -> tuple[float, ...] | None:
        """Per language (in ``self.languages`` order), the log-likelihood of the first ``max_chars``
        characters of ``text``, up to a constant; None when they have no n-gram of the model."""
        if not self.languages:
            return None
        words = prepare(text, min(max_chars, MAX_CHARS_LIMIT)).split(" ")
        last = words.pop()  # no space follows it: its closing n-grams are not read
        total = sum(map(self._words.__getitem__, filter(None, words)))
        if last:
            total += self._score(last, trailing=False)
        if not total & _MASK:  # lane 0: no n-gram read
            return None
        return tuple(-((total >> (LANE * k)) & _MASK) / SCALE for k in range(1, len(self.languages) + 1))

    def probabilities(self, text: str, max_chars: int) -> dict[str, float]:
        """Per language, its probability for ``text`` (above ``PROB_THRESHOLD`` only; {} if no n-grams)."""
        scores = self.log_likelihoods(text, max_chars)
        if scores is None:
            return {}
        top = max(scores)
        weights = [math.exp(s - top) for s in scores]  # the uniform prior cancels out
        total = sum(weights)
        return {
            lang: w / total
            for lang, w in zip(self.languages, weights, strict=True)
            if w / total > PROB_THRESHOLD
        }


def _pack(probs: list[float]) -> int:
    """One n-gram's packed score: 1 in lane 0, then each language's ``-log(ALPHA / BASE_FREQ + p)``.

    The smoothing keeps a language without the n-gram from scoring minus
    infinity; the cost is never negative (p <= 1), so lanes never borrow.
    """
    floor = ALPHA / BASE_FREQ
    packed = 1
    for k, p in enumerate(probs, start=1):
        packed |= max(0, round(-math.log(floor + p) * SCALE)) << (LANE * k)
    return packed


class _WordCache(dict):
    """Word -> packed score, computed on a miss; emptied when it holds ``WORD_CACHE`` words."""

    def __init__(self, compute: Callable[[str], int]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, word: str) -> int:
        if len(self) >= WORD_CACHE:
            self.clear()
        score = self[word] = self._compute(word)
        return score
