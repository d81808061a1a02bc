"""Triage gives exactly what it gave before it was made fast, on every message we have.

The reference is the code of commit ``REFERENCE_COMMIT`` (tests/triage_reference.py), run in a
subprocess on the same parsed messages, with the same rules, addresses, languages and lookups;
every field of every Triage (action, language result, topics, hits, each reason's text, the
conversation, note_only) must be equal. The messages: every .eml under tests/, every message of
the shared corpora that parses, and 1,000 generated inquiries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest

from bot.config import Languages
from bot.message import ParsedMessage
from bot.parse import ParseError, parse_message
from bot.rules import load_rules
from bot.triage import TriageContext, triage_message
from tests.bench_inquiries import bench_inquiries
from tests.triage_reference import CONTEXTS, conversation, extract_reference, history, reference_triages

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT.parent / "shared" / "corpora"
NOT_MAIL = frozenset({".md", ".rb", ".py", ".yml", ".yaml", ".json"})
RULES = load_rules(ROOT / "rules.yaml")


def _parsed(paths: Iterator[Path]) -> list[tuple[str, ParsedMessage]]:
    out = []
    for path in paths:
        try:
            out.append((str(path), parse_message(path.read_bytes())))
        except ParseError:
            continue  # never triaged: ingestion records it as unparseable
    return out


@cache
def _inquiries() -> list[tuple[str, ParsedMessage]]:
    return [(f"inquiry {n}", parse_message(raw)) for n, raw in enumerate(bench_inquiries(5, 1000))]


# Text for the variants: thank-yous, a few words, marks, scripts, backticks, line breaks.
SNIPPETS = (
    "Thank you so much!\nMaria",
    "Muchas gracias por la información, saludos",
    "Obrigado!",
    "thanks",
    "Thanks, but what dose?",
    "dosis?",
    "¿Cada cuánto? ¡Urgente! no puede respirar",
    "e\u0301 a\u0300b `tick´ ’quoted’ Straße ÆSIR œuvre Łódź",
    "Привет, как дела? ALS клиника 東京 한국어",
    "she can't\nbreathe since this\tmorning.",
    "Last month Mum had chest pains. Now fine... not urgent",
    "a\ud800b unsubscribe",
    "",
    "   ",
)
LANGUAGE_HEADERS = (None, "es", "pt-BR", "de, en", "xx", "")


@cache
def _variants() -> list[tuple[str, ParsedMessage]]:
    """Messages made from the others: short, thankful, mixed or odd text, other headers."""
    base = SOURCES["tests-eml"]() + _inquiries()[:300]
    out = []
    for n, (name, msg) in enumerate(base):
        snippet = SNIPPETS[n % len(SNIPPETS)]
        subject = (msg.subject, "", "Re: " + msg.subject, "Fwd: `x´ é " + snippet[:20])[n % 4]
        new_text = (snippet, snippet + "\n" + msg.new_text[:80], msg.new_text[:40], "")[n // 4 % 4]
        header = LANGUAGE_HEADERS[n % len(LANGUAGE_HEADERS)]
        out.append(
            (
                f"variant {n} of {name}",
                replace(msg, subject=subject, new_text=new_text, content_language=header),
            )
        )
    return out


SOURCES = {
    "tests-eml": lambda: _parsed(p for p in sorted((ROOT / "tests").rglob("*.eml"))),
    "shared-corpora": lambda: _parsed(
        p for p in sorted(CORPORA.rglob("*")) if p.is_file() and p.suffix.lower() not in NOT_MAIL
    ),
    "inquiries": _inquiries,
    "variants": _variants,
}
MINIMUM = {"tests-eml": 400, "shared-corpora": 1000, "inquiries": 1000, "variants": 700}


@pytest.fixture(scope="module")
def reference_code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return extract_reference(tmp_path_factory.mktemp("triage-reference"))


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_triage_equals_the_reference_code_on_every_message(source: str, reference_code: Path) -> None:
    named = SOURCES[source]()
    assert len(named) >= MINIMUM[source], f"only {len(named)} messages from {source}"
    msgs = [msg for _, msg in named]
    expected = reference_triages(reference_code, msgs)
    for (own, available, languages, with_lookups), old in zip(CONTEXTS, expected, strict=True):
        ctx = TriageContext(
            rules=RULES,
            languages=Languages(**languages),
            own_addresses=own,
            available=available,
            history=history if with_lookups else None,
            conversation=conversation if with_lookups else None,
        )
        for (name, msg), want in zip(named, old, strict=True):
            got = triage_message(msg, ctx)
            assert got == want, (
                name,
                [f for f in got.__dataclass_fields__ if getattr(got, f) != getattr(want, f)],
            )
