"""Language detection: each kind of evidence in its documented order, and the reply fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Languages
from bot.language import detect_language, langdetect_probabilities, reply_language
from bot.message import ParsedMessage
from bot.rules import load_rules

RULES = load_rules(Path(__file__).resolve().parent.parent / "rules.yaml")
LANGS = Languages()
AVAILABLE = frozenset({"en", "es"})


def msg(body: str, subject: str = "", content_language: str | None = None, quoted: str = "") -> ParsedMessage:
    return ParsedMessage(
        message_id="<t@example.org>",
        synthetic_id=False,
        subject=subject,
        from_name="",
        from_address="someone@example.com",
        content_language=content_language,
        text=body + ("\n" + quoted if quoted else ""),
        new_text=body,
        quoted_text=quoted,
    )


def detect(m: ParsedMessage, history: str | None = None, languages: Languages = LANGS):
    return detect_language(m, RULES, languages, AVAILABLE, history)


def test_long_english_is_decided_by_langdetect_with_a_plain_reason():
    r = detect(
        msg("My husband was diagnosed last spring and we would like to know how often he should inject it.")
    )
    assert (r.language, r.reply_language, r.evidence, r.fallback_used) == ("en", "en", "langdetect", False)
    assert r.confidence >= 0.9
    assert r.reasons[0].detail.startswith("langdetect: en (")
    assert "letters of new text" in r.reasons[0].detail


def test_long_spanish():
    r = detect(msg("Mi padre tiene ELA desde hace dos años y quisiéramos saber dónde se consigue la receta."))
    assert (r.language, r.reply_language) == ("es", "es")


@pytest.mark.parametrize(
    "body",
    [
        "hola quisiera saber que es la metilcobalamina",
        "informacion en español por favor",
        "donde se compra? necesito receta",
        "ya no quiero vivir asi",
        "Que es la metilcobalamina?",
        "cada cuanto hay que ponerla",
    ],
)
def test_short_and_accentless_spanish_stays_spanish(body):
    r = detect(msg(body))
    assert r.language == "es", r.reasons


def test_a_spanish_keyword_is_spanish_evidence():
    r = detect(msg("receta?"))
    assert (r.language, r.evidence) == ("es", "keywords")


def test_subject_joins_the_body_when_the_body_is_short():
    assert detect(msg("gracias", subject="información sobre la vitamina B12")).language == "es"
    assert detect(msg("unsubscribe", subject="unsubscribe")).language == "en"


def test_only_new_text_is_read_not_the_quoted_reply():
    quoted = "> Thank you for writing to us. The usual dose in the studies was 25 mg a day.\n" * 5
    r = detect(msg("Perdón, ¿cada cuánto hay que ponerla? ¿Todos los días?", quoted=quoted))
    assert r.language == "es"


def test_content_language_history_then_default():
    assert detect(msg("ok", content_language="es-AR")).evidence == "content-language"
    assert detect(msg("ok", content_language="es-AR")).language == "es"
    r = detect(msg("ok"), history="es")
    assert (r.language, r.evidence) == ("es", "history")
    r = detect(msg("ok"))
    assert (r.language, r.reply_language, r.evidence) == (None, "en", "default")
    # An unsupported header language is not evidence.
    assert detect(msg("ok", content_language="ja")).evidence == "default"


def test_a_language_without_templates_falls_back():
    r = detect(msg("Olá, meu pai tem ELA há dois anos. O que é a metilcobalamina e ela realmente ajuda?"))
    assert (r.language, r.reply_language, r.fallback_used) == ("pt", "en", True)
    assert any(reason.rule == "fallback" for reason in r.reasons)


def test_reply_language_order():
    langs = Languages(default="es", fallback=["fr", "en"])
    assert reply_language("es", langs, frozenset({"es"})) == ("es", False)
    assert reply_language("de", langs, frozenset({"es", "en"})) == ("en", True)
    assert reply_language("de", langs, frozenset({"es"})) == ("es", True)
    assert reply_language(None, langs, frozenset({"en"})) == ("en", False)


def test_only_supported_languages_are_ever_guessed():
    only = ("en", "es")
    probs = langdetect_probabilities("Bom dia. Qual é a dose diária? Quantos miligramas por dia?", only)
    assert set(probs) <= set(only)
    r = detect(
        msg("Bom dia. Qual é a dose diária? Quantos miligramas por dia?"),
        languages=Languages(supported=["en", "es"]),
    )
    assert r.language in {"en", "es", None}


def test_detection_is_deterministic():
    m = msg("ciao, dove si compra")
    assert len({detect(m) for _ in range(5)}) == 1
