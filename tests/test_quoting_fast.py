"""split_quoted gives the same split when its line-start patterns are tried on every line.

:mod:`bot.quoting` tries its footer, disclaimer and separator patterns only
on lines that can start their words (:mod:`bot.linestarts`). The reference
here is the same module with that shortcut off: every pattern on every line,
as before. Both must split identically the text of every stored message
and of the shared corpora, generated inquiries, and made-up lines that start
each pattern in every case, after blanks and marks, and with the letters
``re`` folds unlike ``str.lower`` (dotless i, long s).
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import quoting
from bot.linestarts import BLANKS, STARTS
from bot.parse import ParseError, parse_message
from bot.quoting import split_quoted

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))

from common import Inquiries  # noqa: E402 - the benchmarks' realistic inquiries


class _Everything:
    """A set of line starts that holds every start: the pattern is tried on every line."""

    def __contains__(self, item: object) -> bool:
        return True


def reference_split(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    with monkeypatch.context() as patch:
        for name in ("MOBILE_HEADS", "DISCLAIMER_HEADS", "SEPARATOR_HEADS"):
            patch.setattr(quoting, name, _Everything())
        return split_quoted(text)


def differences(texts: Iterator[str], monkeypatch: pytest.MonkeyPatch) -> list[int]:
    return [i for i, text in enumerate(texts) if split_quoted(text) != reference_split(text, monkeypatch)]


def message_texts() -> Iterator[str]:
    files = sorted(p for p in (ROOT / "tests").rglob("*.eml") if p.is_file())
    files += sorted(p for p in CORPORA.rglob("*") if p.is_file())
    raws = [p.read_bytes() for p in files] + Inquiries(seed=3).take(200)
    assert len(raws) > 1700, "the shared corpora must sit beside the checkout"
    for raw in raws:
        try:
            msg = parse_message(raw)
        except ParseError:
            continue
        yield msg.text
        yield msg.text.replace("\n", "\n> ")


def test_every_message_splits_as_with_every_pattern_on_every_line(monkeypatch: pytest.MonkeyPatch) -> None:
    assert differences(message_texts(), monkeypatch) == []


# Lines each pattern matches, written as mail clients write them.
_LINES = [
    "Sent from my iPhone",
    "Sent from my Samsung Galaxy smartphone.",
    "Get Outlook for iOS",
    "Enviado desde mi móvil",
    "Obtener Outlook para Android",
    "Enviado do meu iPhone",
    "Envoyé de mon iPhone",
    "Von meinem iPhone gesendet",
    "Inviato da iPhone",
    "Gesendet von meinem Handy",
    "Télécharger Outlook pour Android",
    "Descargar Outlook para iOS",
    "Scarica Outlook per Android",
    "CONFIDENTIALITY NOTICE: This e-mail is private.",
    "Confidential: do not forward",
    "This email and any files transmitted with it are confidential",
    "Disclaimer: none",
    "The information contained in this message is privileged",
    "Legal notice",
    "Privileged & Confidential",
    "Please consider the environment before printing this email",
    "AVISO LEGAL: nada",
    "Cláusula de confidencialidad",
    "Este mensaje contiene información confidencial",
    "La información contenida en este correo es confidencial",
    "Antes de imprimir este correo, piénsalo",
    "Por favor, piense en el medio ambiente",
    "Confidencialidad: sí",
    "-----Original Message-----",
    "---------- Forwarded message ---------",
    "Begin forwarded message:",
    "-------- Mensaje original --------",
    "Inicio del mensaje reenviado:",
    "Début du message réexpédié :",
    "-------- Message d'origine --------",
    "----- Ursprüngliche Nachricht -----",
    "Anfang der weitergeleiteten Nachricht:",
    "Início da mensagem reencaminhada:",
    "-------- Messaggio originale --------",
    "Inizio messaggio inoltrato:",
    "Mensagem encaminhada",
    "Weitergeleitete Nachricht",
    "Message transféré",
    "Mensaje reenviado",
    "Messaggio inoltrato",
]


def _disguised(rnd: random.Random, line: str) -> str:
    """``line`` with its case changed, odd-folding letters put in and blanks or marks before it."""
    chars = [c.upper() if rnd.random() < 0.3 else c.lower() if rnd.random() < 0.3 else c for c in line]
    for k, c in enumerate(chars):
        if c in "iI" and rnd.random() < 0.3:
            chars[k] = rnd.choice("\u0131\u0130")
        elif c in "sS" and rnd.random() < 0.3:
            chars[k] = "\u017f"
        elif c == " " and rnd.random() < 0.3:
            chars[k] = rnd.choice(BLANKS.replace("\n", "").replace("\r", ""))
    lead = "".join(
        rnd.choice([" ", "\t", "\u00a0", "\u3000", "*", "_", "-", ">", "="]) for _ in range(rnd.randrange(3))
    )
    return lead + "".join(chars)


def made_up_texts() -> Iterator[str]:
    rnd = random.Random(5)
    words = [w for starts in STARTS.values() for w in starts]
    for _ in range(3000):
        line = _disguised(rnd, rnd.choice(_LINES))
        if rnd.random() < 0.2:  # a start word followed by prose: must not match, either way
            line = _disguised(rnd, rnd.choice(words) + " " + rnd.choice(["me the", "from my desk", "notice"]))
        above = rnd.choice(["Is it safe?", "Thanks", "", "Where is it?\n\nAna"])
        below = rnd.choice(["", "\nMary", "\n> quoted", "\nIs this the dose?"])
        yield f"{above}\n\n{line}{below}\n"


def test_made_up_footers_and_separators_split_as_with_every_pattern_on_every_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = list(made_up_texts())
    assert differences(iter(texts), monkeypatch) == []
    # The made-up lines reach the patterns: most are cut as footers or separators.
    assert sum(bool(split_quoted(t)[1]) for t in texts) > len(texts) // 2
