"""Topic matching: folding, plurals, prefixes, exclusions, every language, urgency, speed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.match import match_text, match_topics
from bot.message import ParsedMessage
from bot.rules import load_rules, parse_rules
from bot.textnorm import fold, phrase_words, tokens, variants

RULES = load_rules(Path(__file__).resolve().parent.parent / "rules.yaml")


def msg(body: str, subject: str = "", quoted: str = "") -> ParsedMessage:
    return ParsedMessage(
        message_id="<t@example.org>",
        synthetic_id=False,
        subject=subject,
        from_name="",
        from_address="someone@example.com",
        text=body + quoted,
        new_text=body,
        quoted_text=quoted,
    )


def topics(body: str, language: str | None = None, subject: str = "") -> tuple[str, ...]:
    return match_topics(msg(body, subject), language, RULES).topic_ids


def test_textnorm():
    assert fold("Inyección, CAÑA, Straße, ’") == "inyeccion, cana, strasse, '"
    assert [w for w, _, _ in tokens(fold("Can't breathe!"))] == ["can", "t", "breathe"]
    assert {"injections"} <= variants("injection")
    assert {"recetas"} <= variants("receta")
    assert {"inyecciones"} <= variants("inyeccion")
    assert {"studies"} <= variants("study")
    assert {"veces"} <= variants("vez")
    assert "dos" not in variants("dose")  # plurals come from the keyword, never by cutting the message
    assert phrase_words("self-inject*") == [("self", False), ("inject", True)]
    with pytest.raises(ValueError):
        phrase_words("ab*")


SMALL = parse_rules(
    """\
version: 1
topics:
  - id: shots
    title: Shots
    priority: 10
    template: shots
    keywords:
      en: [injection, "inject*", "every day"]
      es: [inyección, receta]
    exclude:
      en: ["no injection"]
"""
)


@pytest.mark.parametrize(
    "text",
    ["two injections", "Inyecciones diarias", "INYECCION", "injecting at home", "las recetas", "Every  day"],
)
def test_case_accent_plural_prefix_and_spacing_tolerance(text):
    assert match_text(text, None, SMALL).topic_ids == ("shots",)


@pytest.mark.parametrize("text", ["projection", "receptive", "everyday", "no injection please"])
def test_whole_words_only_and_exclusions(text):
    assert match_text(text, None, SMALL).topic_ids == ()


def test_hits_are_by_priority_with_matched_words_and_reasons():
    result = match_topics(
        msg("¿Qué dosis, cada día? ¿Y dónde consigo la receta? Urgente no, gracias."), "es", RULES
    )
    assert result.topic_ids == ("obtaining", "dosage")
    dosage = result.hits[1]
    assert dosage.priority == RULES.topic("dosage").priority
    assert "dosis" in dosage.matched and "cada día" in dosage.matched
    reason = next(r for r in result.reasons if r.rule == "dosage")
    assert reason.stage == "topics"
    assert reason.detail.startswith("matched 'dosis', 'cada día'") and reason.detail.endswith("(es)")


def test_every_language_counts_and_the_detected_one_is_listed_first():
    # An English writer using the Spanish word they were told at the clinic.
    assert "obtaining" in topics("Our doctor says we need a receta first", "en")
    hit = match_topics(msg("dosis? what dose per day"), "en", RULES).hits[0]
    assert hit.matched[0] in {"dose", "per day"} and "dosis" in hit.matched


def test_quoted_text_is_not_matched_but_the_subject_is():
    quoted = "\n> If you have chest pain or cannot breathe, call your local emergency number."
    assert match_topics(msg("Thanks!", quoted=quoted), "en", RULES).topic_ids == ()
    assert topics("see subject", subject="prescription form") == ("obtaining",)


def test_nothing_matched_says_so():
    result = match_topics(msg("We are organising a charity bake sale in May."), "en", RULES)
    assert result.hits == () and result.reasons[0].rule == "none"


EMERGENCIES = [
    ("en", "My husband can't breathe after his shot"),
    ("en", "she has chest pain since the injection"),
    ("en", "I want to die, nothing helps"),
    ("en", "I've been thinking about ending it"),
    ("es", "no puedo respirar"),
    ("es", "quiero morir"),
    ("es", "tiene dolor en el pecho desde ayer"),
    ("es", "tuvo una reaccion grave despues de la inyeccion"),
    ("pt", "minha mãe não consegue respirar"),
    ("fr", "je veux mourir"),
    ("fr", "une douleur à la poitrine"),
    ("it", "non riesce a respirare"),
    ("de", "starke Atemnot nach der Spritze"),
    ("de", "ich will nicht mehr leben"),
]


@pytest.mark.parametrize(("lang", "text"), EMERGENCIES)
def test_emergencies_and_despair_are_urgent_in_every_language(lang, text):
    assert topics(text, lang)[0] == "urgent"


@pytest.mark.parametrize(
    "text",
    [
        "This is not urgent, but how long should the trial period be?",
        "No es urgente, pero ¿cuánto tiempo hay que esperar?",
        "Urgent: please send the forms",
        "Urgente: envíenme los formularios",
        "URGENTE por favor la receta",
        "No quiero morir sin haberlo intentado",
        "She can't swallow pills any more, is there a liquid?",
        "Not an emergency, just curious about the dose",
    ],
)
def test_urgency_words_alone_are_not_an_emergency(text):
    assert "urgent" not in topics(text)


def test_matcher_is_compiled_once_not_per_message(monkeypatch):
    # How fast matching is belongs to bench/bench_triage.py; what a test can hold
    # is the reason it is fast: nothing is compiled while messages are matched.
    rules = parse_rules((Path(__file__).resolve().parents[1] / "rules.yaml").read_text(encoding="utf-8"))
    match_topics(msg("What dose should I take?", ""), "en", rules)  # builds rules.compiled
    compiled = rules.compiled

    def no_compiling(*args, **kwargs):
        raise AssertionError("a regex was compiled while matching")

    monkeypatch.setattr("bot.match.re.compile", no_compiling)
    for text in ("¿Cuál es la dosis?", "Where can I get a prescription?", "no puedo respirar"):
        match_topics(msg(text, ""), "es", rules)
    assert rules.compiled is compiled
