"""The template loader: the full sets in replies/, the search order, escaping, the sandbox, render_check."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from jinja2 import TemplateNotFound, UndefinedError

from bot.templates import TOPIC_IDS, TemplateLoader, full_set, normalise_language, sample_context

REPLIES = Path(__file__).resolve().parents[1] / "replies"


def loader(replies: Path = REPLIES, default: str = "en", fallback: list[str] | None = None) -> TemplateLoader:
    return TemplateLoader(replies, default, fallback if fallback is not None else ["en"])


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("topic", TOPIC_IDS)
@pytest.mark.parametrize("attached", [["prescription_form"], []])
def test_every_topic_renders_in_english_and_spanish(language: str, topic: str, attached: list[str]) -> None:
    template, used = loader().resolve(f"topics/{topic}.txt.j2", language)
    ctx = sample_context(language) | {"attached": attached, "strings": loader().strings(language)}
    text = template.render(ctx).strip()
    assert used == language
    assert len(text) > 40
    assert "{{" not in text and "{%" not in text


def test_spanish_templates_are_spanish_with_accents() -> None:
    spanish = " ".join(
        loader().resolve(f"topics/{t}.txt.j2", "es")[0].render(sample_context("es")) for t in TOPIC_IDS
    )
    for word in ("médico", "metilcobalamina", "inyección", "músculo", "Japón"):
        assert word in spanish
    assert " tú " not in spanish and " tu médico" not in spanish  # "usted" throughout


def test_english_and_spanish_are_available_and_a_partial_folder_is_not(tmp_path: Path) -> None:
    replies = tmp_path / "replies"
    shutil.copytree(REPLIES, replies)
    (replies / "pt" / "topics").mkdir(parents=True)
    shutil.copy(REPLIES / "en" / "reply.txt.j2", replies / "pt" / "reply.txt.j2")
    assert loader(replies).available_languages() == frozenset({"en", "es"})
    for name in full_set():
        assert (REPLIES / "en" / name).is_file() and (REPLIES / "es" / name).is_file()


def test_search_order_is_requested_default_fallbacks_then_english() -> None:
    lo = TemplateLoader(REPLIES, "es", ["fr", "it"])
    assert lo.search_order("pt-BR") == ["pt-br", "pt", "es", "fr", "it", "en"]
    assert lo.search_order(None) == ["es", "fr", "it", "en"]
    assert lo.search_order("../../etc") == ["es", "fr", "it", "en"]  # never a path


def test_resolve_returns_the_language_it_found(tmp_path: Path) -> None:
    for lang, body in (("en", "english"), ("fr", "français")):
        (tmp_path / lang).mkdir()
        (tmp_path / lang / "note.txt.j2").write_text(body, encoding="utf-8")
    lo = TemplateLoader(tmp_path, "de", ["fr"])
    template, used = lo.resolve("note.txt.j2", "pt")
    assert (used, template.render()) == ("fr", "français")
    assert lo.resolve("note.txt.j2", "en")[1] == "en"
    with pytest.raises(TemplateNotFound):
        lo.resolve("missing.txt.j2", "en")
    assert not lo.has("../en/note.txt.j2", "fr")


def test_autoescape_only_for_html_templates(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "a.html.j2").write_text("{{ name }}", encoding="utf-8")
    (tmp_path / "en" / "a.txt.j2").write_text("{{ name }}", encoding="utf-8")
    lo = TemplateLoader(tmp_path, "en", [])
    assert lo.resolve("a.html.j2", "en")[0].render(name="<b>&") == "&lt;b&gt;&amp;"
    assert lo.resolve("a.txt.j2", "en")[0].render(name="<b>&") == "<b>&"


def test_undefined_names_fail_loudly(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "a.txt.j2").write_text("{{ nmae }}", encoding="utf-8")
    with pytest.raises(UndefinedError):
        TemplateLoader(tmp_path, "en", []).resolve("a.txt.j2", "en")[0].render(name="x")


def test_render_check_reports_syntax_undefined_and_sandbox_problems() -> None:
    lo = loader()
    assert lo.render_check("{{ greeting }} {% for p in packets %}{{ p.title }}{% endfor %}") == []
    assert lo.render_check((REPLIES / "en" / "reply.html.j2").read_text(encoding="utf-8"), html=True) == []
    syntax = lo.render_check("Hello\n{% if greeting %}no end")
    assert syntax and "line" in syntax[0]
    undefined = lo.render_check("{{ sender_nmae }}")
    assert undefined and "sender_nmae" in undefined[0]
    assert lo.render_check("{{ greeting.__class__.__mro__[1].__subclasses__() }}")


def test_strings_fall_back_to_english_keys(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "fr").mkdir()
    (tmp_path / "en" / "strings.yaml").write_text("closing: Regards\nintro: Thanks\n", encoding="utf-8")
    (tmp_path / "fr" / "strings.yaml").write_text("closing: Cordialement\n", encoding="utf-8")
    assert TemplateLoader(tmp_path, "en", []).strings("fr") == {"closing": "Cordialement", "intro": "Thanks"}
    assert loader().strings("es")["subject_prefix"] == "Re:"


def test_normalise_language() -> None:
    assert normalise_language("es_ES") == "es-es"
    assert normalise_language("EN") == "en"
    assert normalise_language("../en") is None
    assert normalise_language("") is None


@pytest.mark.parametrize("language", ["en", "es"])
def test_shipped_templates_pass_render_check(language: str) -> None:
    for path in sorted((REPLIES / language).rglob("*.j2")):
        if "packets" in path.parts:  # the packet sources are not reply templates
            continue
        source = path.read_text(encoding="utf-8")
        assert loader().render_check(source, html=path.name.endswith(".html.j2")) == [], path
