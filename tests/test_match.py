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
        msg("¿Qué dosis, y cada cuánto? ¿Y dónde consigo la receta? Urgente no, gracias."), "es", RULES
    )
    assert result.topic_ids == ("obtaining", "dosage")
    dosage = result.hits[1]
    assert dosage.priority == RULES.topic("dosage").priority
    assert "dosis" in dosage.matched and "cada cuánto" in dosage.matched
    reason = next(r for r in result.reasons if r.rule == "dosage")
    assert reason.stage == "topics"
    assert reason.detail.startswith("matched 'dosis', 'cada cuánto'") and reason.detail.endswith("(es)")


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("¿Qué dosis, cada día?", True),  # a short question about the rhythm
        ("Is it every day or every other day?", True),
        ("Can he go back to 25 mg?", True),
        ("We have been on the 25 mg shots for a month. Where can we buy more?", False),  # in passing
        ("Who actually gives the shots every day? Can I learn?", False),
        ("Se pone insulina dos veces al día. ¿Es compatible?", False),
    ],
)
def test_a_dose_or_rhythm_counts_when_asked_not_when_mentioned(text, asked):
    assert ("dosage" in topics(text)) is asked


@pytest.mark.parametrize(
    ("topic", "text", "asked"),
    [
        ("administration", "Can he take it as a pill instead?", True),
        ("administration", "Is subq OK or does it need to be IM?", True),
        ("administration", "¿Dónde se pone, en el brazo o en la nalga?", True),
        ("administration", "He keeps his sleeping tablets by the bed.", False),
        ("administration", "im worried about him", False),  # a typed "I'm", not intramuscular
        ("administration", "She is on oral riluzole. How do we enroll?", False),
        ("obtaining", "Does your pharmacy ship to Canada?", True),
        ("obtaining", "¿En qué farmacia la consigo?", True),
        ("obtaining", "¿Dónde la puedo comprar en Chile?", True),
        ("obtaining", "Our local pharmacy gave us cyanocobalamin. Is that the same?", False),
        ("obtaining", "Ya toma B12 que compramos en la farmacia.", False),
        ("obtaining", "Is there anything else we need to send to join?", False),
    ],
)
def test_a_form_or_a_pharmacy_counts_when_asked_not_when_mentioned(topic, text, asked):
    assert (topic in topics(text)) is asked


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


SENTENCE = parse_rules(
    """\
version: 1
topics:
  - id: alarm
    title: Alarm
    priority: 10
    template: alarm
    keywords:
      en: ["chest pain"]
    patterns:
      en: ["\\\\bcan'?t breathe\\\\b"]
    exclude:
      en: ["... last month ...", "chest pain clinic"]
"""
)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Last month she had chest pain. Can she restart?", False),
        ("She had chest pain last month; the GP said reflux.", False),
        ("Last month we started. Now she can't breathe!", True),  # another sentence
        ("She was diagnosed last month\nshe can't breathe", True),  # a short line ends a sentence
        # a long line is hard-wrapped: the sentence goes on after the line break
        (
            "Last month, as the neurologist had suggested to us, she stopped the shots and"
            "\nnow has chest pain",
            False,
        ),
        ("Her chest pain clinic appointment is on Monday", False),  # a plain exclusion, phrase-wide
        ("Chest pain since this morning, and the clinic is closed", True),
        ("She is on 2.5 mg since last month and has chest pain", False),  # "2.5" does not end the sentence
    ],
)
def test_an_exclusion_between_dots_covers_its_sentence(text, found):
    assert (match_text(text, "en", SENTENCE).topic_ids == ("alarm",)) is found


def test_a_pattern_sees_a_line_break_as_a_space():
    # Mail clients hard-wrap: a phrase can be cut by a line break anywhere.
    assert match_text("since this morning she can't\nbreathe", "en", SENTENCE).topic_ids == ("alarm",)
    assert match_text("she can't\tbreathe", "en", SENTENCE).topic_ids == ("alarm",)


# Ways of telling an emergency or despair that no single keyword lists: written
# for these tests, by category (not copied from a corpus).
URGENT_CATEGORIES = [
    "My dad can't catch his breath and his lips are turning purple",  # breathing, colour
    "She is gasping for air after the shot",
    "His breathing sounds gurgly and wet tonight",
    "he cant breath properly since the injection",  # typo
    "Mom cnt swallow her own spit",
    "Her tongue is swelling and her throat feels like it is closing",  # severe reaction
    "Crushing pressure in his chest and he is sweaty",  # chest
    "My husband is slumped in his chair and won't wake up",  # unresponsive
    "She isn't responding and her face is grey",
    "I don't see the point anymore.",  # despair
    "Everyone would be better off if I wasn't around, it would be easier",
    "I've been saving up my pain pills",
    "I wrote goodbye letters to my kids",
    "He has cuts on his arms and says it was an accident",  # self-harm
    "I won't be around much longer, I've made sure of that",
    "mi mamá no puede respirrar",
    "se le está cerrando la garganta después de la inyección",
    "mi esposo está desmayado en el piso y no reacciona",
    "no me responde, está tirado en el suelo",
    "Ya no tiene sentido nada, estoy cansada de todo",
    "Mi padre dice que quiere dejar de comer para irse",
    "está juntando pastillas en un cajón",
    "ya tomé mi decisión.",
    "Meu pai está com falta de ar e os lábios roxos",
    "não quero mais viver assim",
    "Ma mère ne répond plus et respire très mal",
    "J'ai envie d'en finir",
    "Mio padre non respira bene e ha le labbra blu",
    "Non voglio più vivere",
    "Er ringt nach Luft und die Lippen werden blau",
    "Sie sammelt Schlaftabletten",
]


@pytest.mark.parametrize("text", URGENT_CATEGORIES)
def test_categories_of_emergency_and_despair_are_urgent(text):
    assert "urgent" in topics(text)


@pytest.mark.parametrize(
    "text",
    [
        "The price of the pharmacy is killing me, can you help?",
        "Me muero por saber si funciona",
        "Me estoy ahogando en papeles con el seguro",
        "Emergency contact: Jane Doe 555-1234",
        "Last year he had chest pains but it was reflux. Can he restart at 25 mg?",
        "In 2015 my father collapsed from a heart attack. Which studies exist?",
        "El año pasado tuvo un desmayo por la presión. ¿Puede usar la B12?",
        "What's the point of the baseline status report?",
        "I don't see the point of the participant profile form, can you explain?",
        "I can't go on the website, the link is broken",
        "We're tired of fighting with the insurance company",
        "Say goodbye to cyanocobalamin: is methyl better?",
        "I've made my decision to enroll. How do I sign up?",
        "He is saving money on his meds by buying generic",
        "¿Se puede tomar junto con otros medicamentos?",
        "¿Se pueden guardar los medicamentos en la nevera?",
        "Tiene un morado en la pierna donde le pongo la inyección",
        "The skin around the injection site is purple, is that normal?",
        "The neurologist won't respond to my emails",
        "He didn't respond to riluzole at all",
        "Le médecin ne répond pas à mes mails",
        "Je suis effondrée depuis le diagnostic, que pouvons-nous faire ?",
        "Tiene miedo de hacerse daño con la aguja",
        "I'm choked up reading your kind reply",
        "Ha tenido bastante dolor en la pierna",
        "Ich will nicht mehr warten, wann kommt die Lieferung?",
    ],
)
def test_figures_of_speech_past_events_and_signatures_are_not_urgent(text):
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
