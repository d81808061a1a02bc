"""Language detection: the language a person wrote in, and the language we reply in.

Evidence is used in this order; the first that decides wins.

1. ``langdetect`` on the new text (``msg.new_text``, else ``msg.text``),
   restricted to ``languages.supported``, when the text has at least
   ``LONG_TEXT`` letters, the best language has ``CONFIDENT`` probability or
   more, and the words below do not clearly say otherwise.
2. Short or unclear text: the subject joined to the body, scored per
   language as *word evidence* (distinct words from that language's
   rules.yaml keywords, its ``vocabulary`` and the small function-word
   lists below) plus langdetect's probabilities weighted by the text's
   length. A Spanish keyword is Spanish evidence, which keeps accent-less
   short Spanish (often misread as pt/it/ca) Spanish. It decides when the
   best language leads by a clear margin.
3. The ``Content-Language`` header, when it names a supported language.
4. ``history``: the language of the sender's earlier messages.
5. ``languages.default``; ``language`` is then None (nothing was told).

The reply language is the detected one when it has templates
(``available``), else the first of ``languages.fallback`` that has them,
else ``languages.default`` (``fallback_used`` says so).

langdetect is made deterministic (seed 0) and only the supported languages'
profiles are loaded, once per process; a prior map over them is set on each
detector, so an unsupported language is never guessed.
"""

from __future__ import annotations

import os
from functools import lru_cache

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from bot.config import Languages
from bot.message import LanguageResult, ParsedMessage, Reason
from bot.rules import Rules
from bot.textnorm import letter_count, words

DetectorFactory.seed = 0  # the same text always gets the same answer

LONG_TEXT = 40  # letters; below this langdetect alone is not trusted
CONFIDENT = 0.90
MAX_TEXT = 1000  # characters langdetect reads
TRIALS = 3  # langdetect's default is 7
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
def _factory(supported: tuple[str, ...]) -> DetectorFactory:
    """A detector factory holding only the supported languages' profiles, built once per process.

    langdetect updates one probability per loaded language for every n-gram
    it reads, so 6 profiles instead of all 55 make each detection about
    nine times cheaper; a language that is not loaded can never be guessed.
    """
    factory = DetectorFactory()
    profiles = []
    for lang in sorted(set(supported)):
        path = os.path.join(PROFILES_DIRECTORY, lang)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as fh:
                profiles.append(fh.read())
    if len(profiles) >= 2:  # langdetect needs two languages to compare
        factory.load_json_profile(profiles)
    return factory


def langdetect_probabilities(text: str, supported: tuple[str, ...]) -> dict[str, float]:
    """langdetect's probabilities for ``text`` over the supported languages only ({} if it cannot tell)."""
    factory = _factory(tuple(sorted(supported)))
    known = [lang for lang in supported if lang in factory.langlist]
    if not known or not text.strip():
        return {}
    detector = factory.create()
    # Languages absent from the prior map start at 0 and langdetect's updates
    # are multiplicative, so they stay at 0: only supported ones can win.
    detector.set_prior_map({lang: 1.0 for lang in known})
    # A few hundred words settle the language; reading a long story whole only costs time.
    detector.max_text_length = MAX_TEXT
    # Fewer random trials: short text was spending most of its time here, and the
    # word evidence below decides the short, unclear cases anyway.
    detector.n_trial = TRIALS
    detector.append(text)
    try:
        return {r.lang: r.prob for r in detector.get_probabilities()}
    except LangDetectException:
        return {}


def word_evidence(text: str, rules: Rules, supported: tuple[str, ...]) -> dict[str, int]:
    """Per supported language, how many distinct words of ``text`` belong to it."""
    present = set(words(text))
    keywords = rules.keywords_by_language()
    out = {}
    for lang in supported:
        vocab = FUNCTION_WORDS.get(lang, frozenset()) | keywords.get(lang, frozenset())
        out[lang] = len(present & vocab)
    return out


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
    msg: ParsedMessage, rules: Rules, languages: Languages, history: str | None
) -> tuple[str | None, str, float, str]:
    """(language, evidence, confidence, plain-words reason) by the documented order."""
    supported = tuple(languages.supported)
    body = msg.new_text if msg.new_text.strip() else msg.text
    letters = letter_count(body)
    if letters >= LONG_TEXT:
        probs = langdetect_probabilities(body, supported)
        if probs:
            best, p = max(probs.items(), key=lambda kv: kv[1])
            counts = word_evidence(body, rules, supported)
            rival = max((c for lang, c in counts.items() if lang != best), default=0)
            if p >= CONFIDENT and counts.get(best, 0) + 2 >= rival:
                return best, "langdetect", p, f"langdetect: {best} ({p:.2f}) on {letters} letters of new text"

    combined = f"{msg.subject}\n{body}"
    all_letters = letter_count(combined)
    probs = langdetect_probabilities(combined, supported) if all_letters else {}
    counts = word_evidence(combined, rules, supported)
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
) -> LanguageResult:
    """Detect the language of ``msg`` and choose the reply language; see the module docstring."""
    language, evidence, confidence, why = _decide(msg, rules, languages, history)
    reply, fallback = reply_language(language, languages, available)
    reasons = [Reason("language", evidence, why)]
    if fallback:
        reasons.append(Reason("language", "fallback", f"no {language} templates: replying in {reply}"))
    return LanguageResult(language, reply, evidence, round(confidence, 3), fallback, tuple(reasons))
