"""Language detection: the language a person wrote in, and the language we reply in.

Evidence is used in this order; the first that decides wins.

1. langdetect's n-gram model (see below) on the new text (``msg.new_text``,
   else ``msg.text``), restricted to ``languages.supported``, when the text
   has at least ``LONG_TEXT`` letters, the best language has ``CONFIDENT``
   probability or more, and the words below do not clearly say otherwise.
2. Short or unclear text: the subject joined to the body, scored per
   language as *word evidence* (distinct words from that language's
   rules.yaml keywords, its ``vocabulary`` and the small function-word
   lists below) plus the model's probabilities weighted by the text's
   length. A Spanish keyword is Spanish evidence, which keeps accent-less
   short Spanish (often misread as pt/it/ca) Spanish. It decides when the
   best language leads by a clear margin.
3. The ``Content-Language`` header, when it names a supported language.
4. ``history``: the language of the sender's earlier messages.
5. ``languages.default``; ``language`` is then None (nothing was told).

The reply language is the detected one when it has templates
(``available``), else the first of ``languages.fallback`` that has them,
else ``languages.default`` (``fallback_used`` says so).

The model is langdetect's: its profiles (character 1-3-gram frequencies)
of the supported languages only, loaded once per process, so an
unsupported language is never guessed. It reads the first ``MAX_TEXT``
characters, cleaned and normalised as langdetect does, but scores them as
naive Bayes over all their n-grams (:mod:`bot.ngrams`) instead of
langdetect's random sampling: deterministic without a seed, and several
times cheaper. The reasons and the ``langdetect`` evidence name it after
its profiles.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from bot.config import Languages
from bot.inquirytext import InquiryText
from bot.message import LanguageResult, ParsedMessage, Reason
from bot.ngrams import NgramModel
from bot.rules import Rules
from bot.textnorm import words

LONG_TEXT = 40  # letters; below this langdetect alone is not trusted
CONFIDENT = 0.90
MAX_TEXT = 1000  # characters the n-gram model reads: a few hundred words settle the language
MARGIN = 0.75  # how far the best combined score must lead the second

# Frequent short words of each language (folded). A word common to two
# languages is listed in both, so it tells neither apart.
FUNCTION_WORDS: dict[str, frozenset[str]] = {
    lang: frozenset(text.split())
    for lang, text in {
        "en": "the and of to is it that this for with you your my our we she his her they them what how "
        "why when where which who can could would should will does did have has had been are was were "
        "not but or if from about please thanks thank hi hello dear just any there after before am at on "
        "an by as so me",
        "es": "el la los las un una y o de del que en es por para con sin como pero mas muy ya hay tiene "
        "tengo puede pueden quiero quisiera necesito mi mis su sus le les lo nos se me hola gracias buenas "
        "buenos dias tardes saludos usted ustedes donde cuando cuanto cuantos esta este esto estoy esposo "
        "marido hijo hija padre madre hermano hermana informacion favor tambien si no ni",
        "pt": "o a os as um uma e de do da dos das que em no na nos nas por para com sem como mas muito ja "
        "tem tenho pode podem quero preciso meu minha seu sua ele ela voce voces obrigado obrigada ola bom "
        "dia onde quando quanto esta este isso estou marido esposa filho filha pai mae irmao irma "
        "informacao favor tambem sim nao",
        "fr": "le la les un une des et ou de du que qui en est pour avec sans comme mais tres deja il elle "
        "nous vous je mon ma mes son sa ses ce cette bonjour merci madame monsieur quand combien mari "
        "femme fils fille pere mere frere soeur aussi oui non pas peut faut",
        "it": "il lo la i gli le un una e o di del della dei che in per con senza come ma molto gia ha ho "
        "puo voglio mio mia suo sua lui lei buongiorno grazie ciao salve dove quando quanto questo questa "
        "sono marito moglie figlio figlia padre madre fratello sorella anche si no non",
        "de": "der die das den dem des ein eine und oder von zu ist mit ohne wie aber sehr schon er sie wir "
        "ich mein meine sein ihr nicht kann hallo danke guten tag bitte wo wann dieser diese bin mann frau "
        "sohn tochter vater mutter bruder schwester auch ja nein was an",
    }.items()
}


@lru_cache(maxsize=4)
def _model(supported: tuple[str, ...]) -> NgramModel:
    """The n-gram model of the supported languages langdetect has a profile for, built once per process."""
    return NgramModel(supported)


def langdetect_probabilities(text: str, supported: tuple[str, ...]) -> dict[str, float]:
    """The n-gram model's probabilities for ``text`` over the supported languages ({} if it cannot tell).

    Only languages above langdetect's reporting threshold (0.1) are listed.
    A single supported language with a profile cannot be compared with
    anything, so it is not guessed ({}), as with langdetect.
    """
    model = _model(tuple(sorted(set(supported))))
    if len(model.languages) < 2:
        return {}
    return model.probabilities(text, MAX_TEXT)


_ASCII_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ASCII = bytes(range(128))  # a UTF-8 character of more than one byte has only bytes >= 0x80
# Runs of characters that are not ASCII punctuation, space or control: folding never joins or
# splits words across those, so each run can be folded on its own.
_RUN = re.compile(r"[^\x00-/:-@\[-`{-\x7f]+")


def _letter_count(text: str) -> int:
    """:func:`bot.textnorm.letter_count` (``str.isalpha`` characters) without a Python loop per character."""
    encoded = text.encode("utf-8", "surrogatepass")  # ASCII letters stay single bytes, all else is >= 0x80
    ascii_letters = len(encoded) - len(encoded.translate(None, _ASCII_LETTERS))
    if text.isascii():
        return ascii_letters
    others = encoded.translate(None, _ASCII).decode("utf-8", "surrogatepass")  # the non-ASCII characters
    return ascii_letters + (len(others) if others.isalpha() else sum(map(str.isalpha, others)))


def _present_words(text: str) -> set[str]:
    """``set(words(text))``, folding only the runs that are not plain ASCII (the rest only lower-case)."""
    if text.isascii():
        return set(words(text))
    runs = set(_RUN.findall(text))
    present = {run.lower() for run in runs if run.isascii()}
    present.update(*map(_run_words, [run for run in runs if not run.isascii()]))
    return present


@lru_cache(maxsize=16384)
def _run_words(run: str) -> tuple[str, ...]:
    """The folded words of one run with accents (``información`` recurs: folded once per process)."""
    return tuple(words(run))


@lru_cache(maxsize=16)
def _evidence_index(
    vocabularies: tuple[tuple[str, frozenset[str]], ...],
) -> tuple[frozenset[str], dict[str, tuple[str, ...]]]:
    """All evidence words, and each one's languages, from (language, rules.yaml words) pairs.

    A language's evidence words are its function words and its rules.yaml
    words; the index is built once per rules and set of languages.
    """
    index: dict[str, tuple[str, ...]] = {}
    for lang, keywords in vocabularies:
        for word in FUNCTION_WORDS.get(lang, frozenset()) | keywords:
            if lang not in index.get(word, ()):  # a language listed twice counts once
                index[word] = (*index.get(word, ()), lang)
    return frozenset(index), index


def word_evidence(text: str, rules: Rules, supported: tuple[str, ...]) -> dict[str, int]:
    """Per supported language, how many distinct words of ``text`` belong to it."""
    return _evidence_counts(_present_words(text), rules, supported)


def _evidence_counts(present: Iterable[str], rules: Rules, supported: tuple[str, ...]) -> dict[str, int]:
    """:func:`word_evidence` of a text whose folded words are ``present`` (a set, or all of them)."""
    keywords = rules.keywords_by_language()
    vocabulary, index = _evidence_index(tuple((lang, keywords.get(lang, frozenset())) for lang in supported))
    counts = dict.fromkeys(supported, 0)
    for word in vocabulary.intersection(present):  # walks the smaller set (or the words)
        for lang in index[word]:
            counts[lang] += 1
    return counts


def _primary(tag: str | None) -> str | None:
    if not tag:
        return None
    return tag.split(",")[0].strip().split("-")[0].lower() or None


def reply_language(language: str | None, languages: Languages, available: frozenset[str]) -> tuple[str, bool]:
    """The language to reply in and whether a fallback was needed (see the module docstring)."""
    if language and language in available:
        return language, False
    for lang in languages.fallback:
        if lang in available:
            return lang, language is not None
    return languages.default, language is not None


def _decide(
    msg: ParsedMessage, text: InquiryText, rules: Rules, languages: Languages, history: str | None
) -> tuple[str | None, str, float, str]:
    """(language, evidence, confidence, plain-words reason) by the documented order."""
    supported = tuple(languages.supported)
    body = text.body
    letters = _letter_count(body)
    if letters >= LONG_TEXT:
        probs = langdetect_probabilities(body, supported)
        if probs:
            best, p = max(probs.items(), key=lambda kv: kv[1])
            counts = _evidence_counts(text.body_words(), rules, supported)  # a list: no set to build
            rival = max((c for lang, c in counts.items() if lang != best), default=0)
            if p >= CONFIDENT and counts.get(best, 0) + 2 >= rival:
                return best, "langdetect", p, f"langdetect: {best} ({p:.2f}) on {letters} letters of new text"

    combined = text.combined
    all_letters = _letter_count(combined)
    probs = langdetect_probabilities(combined, supported) if all_letters else {}
    counts = _evidence_counts(text.all_words(), rules, supported)
    # langdetect is close to a guess on a few words (it calls "unsubscribe"
    # Spanish), so its say grows with the text: nothing up to 15 letters, full at 150.
    weight = 3.0 * min(1.0, max(0.0, (all_letters - 15) / 135))
    scores = {lang: counts.get(lang, 0) + weight * probs.get(lang, 0.0) for lang in supported}
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    if ranked:
        best, top = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        if top >= 1.0 and top - second >= MARGIN:
            evidence = "keywords" if counts.get(best, 0) else "langdetect"
            confidence = top / sum(scores.values()) if sum(scores.values()) else 0.0
            why = (
                f"{evidence}: {best} on subject and text ({counts.get(best, 0)} {best} words, "
                f"langdetect {probs.get(best, 0.0):.2f} on {all_letters} letters)"
            )
            return best, evidence, confidence, why

    header = _primary(msg.content_language)
    if header in supported:
        return header, "content-language", 0.5, f"content-language: the header says {header}"
    if history in supported:
        return history, "history", 0.5, f"history: the sender wrote in {history} before"
    return None, "default", 0.0, f"default: nothing told the language; using {languages.default}"


def detect_language(
    msg: ParsedMessage,
    rules: Rules,
    languages: Languages,
    available: frozenset[str],
    history: str | None = None,
    text: InquiryText | None = None,
) -> LanguageResult:
    """Detect the language of ``msg`` and choose the reply language; see the module docstring.

    ``text`` is ``InquiryText.of(msg)`` when the caller has it already (made when None).
    """
    text = text or InquiryText.of(msg)
    language, evidence, confidence, why = _decide(msg, text, rules, languages, history)
    reply, fallback = reply_language(language, languages, available)
    reasons = [Reason("language", evidence, why)]
    if fallback:
        reasons.append(Reason("language", "fallback", f"no {language} templates: replying in {reply}"))
    return LanguageResult(language, reply, evidence, round(confidence, 3), fallback, tuple(reasons))
