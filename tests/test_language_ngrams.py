"""The deterministic n-gram model (bot/ngrams.py) against langdetect, and language.py's fast text helpers.

The model must read exactly the n-grams langdetect reads (same cleaning,
normalisation, capital-word rule) and score them with langdetect's
profiles; the helpers must give exactly what bot.textnorm gives.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from langdetect.detector import Detector
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.utils.ngram import NGram

from bot import ngrams
from bot.language import (
    FUNCTION_WORDS,
    _letter_count,
    _present_words,
    langdetect_probabilities,
    word_evidence,
)
from bot.ngrams import NgramModel, prepare
from bot.rules import load_rules
from bot.textnorm import letter_count, words

LANGS = ("de", "en", "es", "fr", "it", "pt")
RULES = load_rules(Path(__file__).resolve().parent.parent / "rules.yaml")
MODEL = NgramModel(LANGS)

# Accents, capitals and acronyms, URLs and addresses, typographic punctuation,
# Romanian commas, Vietnamese combining marks, other scripts, digits only.
TEXTS = [
    "My husband was diagnosed with ALS last spring; how often should he inject it?",
    "Mi padre tiene ELA desde hace dos años y quisiéramos saber dónde se consigue la receta.",
    "¿Cada cuánto hay que ponerla? ¡Gracias! «urgente» 25°C\u00a0hoy",
    "Olá, meu pai tem ELA há dois anos. O que é a metilcobalamina?",
    "Bonjour, ma mère est atteinte de SLA. Où peut-on l’acheter — et à quel prix…",
    "Guten Tag, mein Vater hat ALS. Wo bekommt man das Rezept? Straße, Größe, Mußestunde",
    "Buongiorno, mio padre ha la SLA da due anni: dove si compra? Perché è così caro?",
    "see https://example.org/a?b=c and write to someone.else@example.com, THANKS A LOT",
    "Bună ziua, tatăl meu (ș, ț) are SLA",
    "Tie\u0301ng Vie\u0323t co\u0301 da\u0303u, Việt Nam",
    "Привет, как дела? Moscow ALS клиника",
    "東京の病院で治療を受けています ALS ひらがな カタカナ 한국어 ﻻ یک",
    "x",
    "12345 !!! ... ---",
    "",
]


def _langdetect_factory() -> DetectorFactory:
    factory = DetectorFactory()
    profiles = []
    for lang in LANGS:
        with open(os.path.join(PROFILES_DIRECTORY, lang), encoding="utf-8") as fh:
            profiles.append(fh.read())
    factory.load_json_profile(profiles)
    return factory


FACTORY = _langdetect_factory()


@pytest.mark.parametrize("text", TEXTS)
def test_the_model_reads_the_ngrams_langdetect_reads(text):
    detector = FACTORY.create()
    detector.max_text_length = 10**6
    detector.append(text)
    detector.cleaning_text()
    grams = detector._extract_ngrams()
    got = MODEL.log_likelihoods(text, 10**6)
    if not grams:
        assert got is None
        return
    floor = ngrams.ALPHA / ngrams.BASE_FREQ
    expected = [
        math.fsum(math.log(floor + FACTORY.word_lang_prob_map[g][k]) for g in grams)
        for k in range(len(LANGS))
    ]
    assert FACTORY.langlist == list(MODEL.languages)
    # The packed fixed point rounds each n-gram's score by at most 2**-25.
    assert got == pytest.approx(expected, abs=len(grams) * 2**-24)


def test_normalisation_is_ngram_normalize_character_by_character():
    chars = [chr(c) for c in range(0x3000)] + ["\u4e00", "\u9fa5", "\uac01", "\ud7a3", "\U0001f600"]
    text = "a".join(chars)  # Latin letters between keep langdetect from dropping them as a minority
    cleaned = Detector.MAIL_RE.sub(" ", Detector.URL_RE.sub(" ", text))  # "a@a" is an address
    assert prepare(text, len(text)) == "".join(NGram.normalize(c) for c in NGram.normalize_vi(cleaned))


def test_only_the_first_max_chars_are_read():
    text = "the patient " * 50 + "el paciente y la receta " * 200
    assert max(langdetect_probabilities(text[:1000], LANGS).items(), key=lambda kv: kv[1])[0] == "en"
    assert MODEL.log_likelihoods(text, 1000) == MODEL.log_likelihoods(text[:1000], 10**6)


@pytest.mark.parametrize(
    "text, lang",
    [
        (TEXTS[0], "en"),
        (TEXTS[1], "es"),
        (TEXTS[3], "pt"),
        (TEXTS[4], "fr"),
        (TEXTS[5], "de"),
        (TEXTS[6], "it"),
    ],
)
def test_clear_text_gets_the_language_langdetect_gives(text, lang):
    detector = FACTORY.create()
    detector.append(text)
    assert detector.detect() == lang
    probs = langdetect_probabilities(text, LANGS)
    assert max(probs, key=probs.get) == lang
    assert probs[lang] > 0.9
    assert all(p > ngrams.PROB_THRESHOLD for p in probs.values())
    assert sum(probs.values()) <= 1.0 + 1e-9


def test_no_ngrams_or_fewer_than_two_profiles_cannot_tell():
    assert langdetect_probabilities("12345 !!! ... ---", LANGS) == {}
    assert langdetect_probabilities("", LANGS) == {}
    assert langdetect_probabilities(TEXTS[0], ("en",)) == {}
    # A language langdetect has no profile for is never loaded, so never guessed.
    assert NgramModel(("en", "es", "xx")).languages == ("en", "es")
    assert set(langdetect_probabilities(TEXTS[3], ("en", "es", "xx"))) <= {"en", "es"}


def test_a_full_word_cache_is_emptied_and_scores_do_not_change(monkeypatch):
    model = NgramModel(LANGS)
    cold = [model.log_likelihoods(t, 1000) for t in TEXTS]
    assert [model.log_likelihoods(t, 1000) for t in TEXTS] == cold  # warm: the same
    monkeypatch.setattr(ngrams, "WORD_CACHE", 5)
    fresh = NgramModel(LANGS)
    assert [fresh.log_likelihoods(t, 1000) for t in TEXTS] == cold
    assert len(fresh._words) <= 5


TRICKY = [
    "",
    "plain ascii, with 3 numbers and don't",
    "Información médica: ¿dónde está? Straße ÆSIR œuvre Łódź",
    "e\u0301 a\u0300b \u0301x ½ ² Ⅻ K fi ’quoted’ `tick´",
    "жЖ 漢字 かな 한국 ٌ «»°\u00a0—",
    "a\ud800b",  # a lone surrogate, as surrogateescape leaves undecodable bytes
]


@pytest.mark.parametrize("text", TRICKY)
def test_fast_helpers_equal_textnorm(text):
    assert _letter_count(text) == letter_count(text)
    assert _present_words(text) == set(words(text))


@pytest.mark.parametrize("text", TEXTS + TRICKY)
def test_word_evidence_counts_distinct_vocabulary_words(text):
    present = set(words(text))
    keywords = RULES.keywords_by_language()
    for supported in (LANGS, ("es", "en")):
        expected = {
            lang: len(present & (FUNCTION_WORDS[lang] | keywords.get(lang, frozenset())))
            for lang in supported
        }
        assert word_evidence(text, RULES, supported) == expected
