"""From a real IMAP inbox to a reply in the patient's inbox, through the command line.

Dovecot and an SMTP relay into it run on loopback; every step is the
README's command run as a subprocess: ``fetch --once``, ``queue list``,
``queue approve``, ``send --once``. The replies are read back from the
patients' own IMAP inboxes.
"""

from __future__ import annotations

import email
import email.policy
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

REPO = Path(__file__).resolve().parents[2]
MAIL = Path(__file__).parent / "mail"


def disclaimer(lang: str) -> str:
    return " ".join((REPO / "replies" / lang / "disclaimer.txt").read_text(encoding="utf-8").split())


pytestmark = pytest.mark.e2e


def run_cli(config: Path, *args: str) -> str:
    """Run ``python run.py --config CONFIG ARGS`` and return its stdout; fails the test on a non-zero exit."""
    proc = subprocess.run(
        [sys.executable, "run.py", "--config", str(config), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, (
        f"{args} exited {proc.returncode}\nstdout:{proc.stdout}\nstderr:{proc.stderr}"
    )
    return proc.stdout


def queue(config: Path) -> list[dict]:
    return [json.loads(line) for line in run_cli(config, "queue", "list", "--json").splitlines() if line]


def _parts(raw: bytes) -> tuple[email.message.EmailMessage, str, list[tuple[str, bytes]]]:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    text = msg.get_body(("plain",)).get_content()
    attachments = [(a.get_filename(), a.get_content()) for a in msg.iter_attachments()]
    return msg, text, attachments


def test_english_and_spanish_inquiries_are_answered_end_to_end(dovecot, tmp_config) -> None:
    config = tmp_config.write()
    english = (MAIL / "english_dosage_question.eml").read_bytes()
    spanish = (MAIL / "spanish_prescription_question.eml").read_bytes()
    dovecot.deliver("support@example.org", english, mail_from="patient@example.com")
    dovecot.deliver("support@example.org", spanish, mail_from="paciente@example.es")

    out = run_cli(config, "fetch", "--once")
    assert "2 new message(s)" in out and "2 drafted" in out

    items = {item["message_id"]: item for item in queue(config)}
    en = items["<CAK7x9f3-husband-dose@mail.example.com>"]
    es = items["<20261124154002.GA1234@correo.example.es>"]
    assert (en["language"], en["action"], en["state"]) == ("en", "draft", "drafted")
    assert "dosage" in en["topics"]
    assert (es["language"], es["action"]) == ("es", "draft")
    assert "obtaining" in es["topics"]

    # Nothing is sent before a person approves.
    assert "0 sent" in run_cli(config, "send", "--once")
    assert dovecot.messages("patient@example.com") == []

    shown = run_cli(config, "queue", "show", str(en["id"]))
    assert "dosage" in shown and "matched" in shown

    for item in (en, es):
        run_cli(config, "queue", "approve", str(item["id"]))
    assert "2 sent" in run_cli(config, "send", "--once")

    [(_, _, raw_en)] = dovecot.wait_for_messages("patient@example.com")
    msg, text, attachments = _parts(raw_en)
    assert msg["In-Reply-To"] == "<CAK7x9f3-husband-dose@mail.example.com>"
    assert "<CAK7x9f3-husband-dose@mail.example.com>" in msg["References"]
    assert msg["Subject"].startswith("Re: Question about the B12 injections")
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["Message-ID"].endswith("@example.org>")
    assert disclaimer("en") in " ".join(text.split())
    assert "25 mg" in text
    pdfs = [(name, data) for name, data in attachments if name.endswith(".pdf")]
    assert pdfs, "the dosage reply carries the injection information packet"
    pdf_text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdfs[0][1])).pages)
    assert "25 mg" in pdf_text

    [(_, _, raw_es)] = dovecot.wait_for_messages("paciente@example.es")
    msg_es, text_es, attachments_es = _parts(raw_es)
    assert msg_es["In-Reply-To"] == "<20261124154002.GA1234@correo.example.es>"
    assert msg_es["Content-Language"] == "es"
    assert "receta" in text_es.lower() and "médico" in text_es.lower()
    assert (
        "no ofrece consejo médico" in " ".join(text_es.split()).lower() or "consejo médico" in text_es.lower()
    )
    assert any(name.endswith(".pdf") for name, _ in attachments_es)

    # The originals are flagged answered, and a copy of each reply is in Sent.
    flags = {uid: f for uid, f, _ in dovecot.messages("support@example.org")}
    assert all("\\Answered" in f for f in flags.values()) and len(flags) == 2
    assert len(dovecot.messages("support@example.org", "Sent")) == 2

    # A second fetch drafts nothing new, and the queue has nothing left waiting.
    assert "no new mail" in run_cli(config, "fetch", "--once")
    assert queue(config) == []
    everything = [json.loads(x) for x in run_cli(config, "queue", "list", "--all", "--json").splitlines()]
    assert sorted(i["state"] for i in everything) == ["answered", "answered"]


def test_out_of_office_reply_is_never_answered(dovecot, tmp_config) -> None:
    config = tmp_config.write()
    ooo = (REPO / "bot" / "demo" / "inbox" / "06_english_out_of_office.eml").read_bytes()
    dovecot.deliver("support@example.org", ooo)
    assert "1 ignored" in run_cli(config, "fetch", "--once")
    assert queue(config) == []
    assert "0 sent" in run_cli(config, "send", "--once")
