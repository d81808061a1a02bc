"""Per-sender limits: the grace period between drafts, and no more drafts after an unsubscribe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from bot.ingest import Fetched, ingest
from tests.unit.conftest import unit_services

ROOT = Path(__file__).resolve().parents[2]


def _mail(body: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Ana <ana@example.es>"
    msg["To"] = "support@example.org"
    msg["Subject"] = "Pregunta"
    msg["Message-ID"] = make_msgid(domain="example.es")
    msg.set_content(body)
    return msg.as_bytes()


def test_second_message_inside_the_grace_period_goes_to_staff(tmp_path: Path) -> None:
    services = unit_services(tmp_path, screening={"grace_minutes": 30})
    start = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    question = "¿Cuál es la dosis de metilcobalamina y cada cuánto se inyecta?"
    states = []
    for uid, minutes in ((1, 0), (2, 10), (3, 45)):
        with services.store.session() as s:
            states.append(
                ingest(
                    services, s, Fetched("md", 1, uid, _mail(question)), start + timedelta(minutes=minutes)
                )
            )
    services.close()
    # Drafted; ten minutes later the same sender goes to a person; after the grace period, drafted again.
    assert states == ["drafted", "manual", "drafted"]


def test_after_an_unsubscribe_a_new_message_goes_to_a_person(tmp_path: Path) -> None:
    services = unit_services(tmp_path)
    start = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    messages = [
        "Por favor, no me envíen más correos. Quiero darme de baja de la lista.",
        "¿Cuál es la dosis de metilcobalamina y cada cuánto se inyecta?",
    ]
    states = []
    for uid, body in enumerate(messages, start=1):
        with services.store.session() as s:
            item = Fetched("md", 1, uid, _mail(body))
            states.append(ingest(services, s, item, start + timedelta(days=uid)))
    with services.store.session() as s:
        from sqlalchemy import select

        from bot.store import Inquiry

        second = s.scalar(select(Inquiry).where(Inquiry.uid == 2))
        reasons = list(second.reasons)
    services.close()
    assert states == ["drafted", "manual"]
    assert any("asked for no more mail" in r for r in reasons)
