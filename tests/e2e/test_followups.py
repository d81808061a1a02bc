"""A message answering one of our replies joins its conversation.

Packets already sent in the conversation are not attached again, a bare
thank-you is recorded for staff and never answered, and a follow-up whose
mail client dropped In-Reply-To is still recognised by subject and sender.
"""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from sqlalchemy import select

from bot.config import parse_config
from bot.fetch import fetch_once
from bot.queue import approve
from bot.send import send_once
from bot.services import build_services
from bot.store import Inquiry

pytestmark = pytest.mark.e2e
PATIENT = "patient@example.com"


def _mail(subject: str, body: str, in_reply_to: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Margaret Ellis <{PATIENT}>"
    msg["To"] = "support@example.org"
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="mail.example.com")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(body)
    return msg.as_bytes()


@pytest.fixture
def services(tmp_config):
    s = build_services(parse_config(tmp_config(), environ={}))
    yield s
    s.close()


def _answer_everything(services) -> None:
    with services.store.session() as s:
        for inq in s.scalars(select(Inquiry).where(Inquiry.state == "drafted")):
            approve(s, inq.id, "tester")
    assert send_once(services).failed == 0


def _inquiry(services, message_id: str) -> Inquiry:
    with services.store.session() as s:
        inq = s.scalar(select(Inquiry).where(Inquiry.message_id == message_id))
        inq.replies  # noqa: B018 - load while the session is open
        return inq


def test_follow_up_question_does_not_get_the_same_packet_again(dovecot, services) -> None:
    first = _mail("B12 dose", "What dose of methylcobalamin should my husband take, and how often?")
    dovecot.deliver("support@example.org", first)
    fetch_once(services)
    _answer_everything(services)
    [(_, _, reply_raw)] = dovecot.wait_for_messages(PATIENT)
    reply = email.message_from_bytes(reply_raw, policy=email.policy.default)
    first_packets = [a.get_filename() for a in reply.iter_attachments()]
    assert first_packets, "the first reply carries the injection information"

    follow = _mail(
        "Re: B12 dose",
        "Thank you. One more question: he takes antibiotics at the moment, and how often should the "
        "injections be given while on them? Is there any problem with the dose?",
        in_reply_to=reply["Message-ID"],
    )
    dovecot.deliver("support@example.org", follow)
    fetch_once(services)
    inq = _inquiry(services, email.message_from_bytes(follow)["Message-ID"])
    root = _inquiry(services, email.message_from_bytes(first)["Message-ID"])
    assert inq.state == "drafted" and inq.conversation_id == root.id
    assert any(r.startswith("conversation/in-reply-to") for r in inq.reasons)
    draft = inq.replies[-1]
    assert "injection_information" not in draft.packets
    assert any("already" in note.lower() or "earlier" in note.lower() for note in draft.notes)


def test_bare_thank_you_is_noted_not_answered(dovecot, services) -> None:
    dovecot.deliver("support@example.org", _mail("Dose", "How many mg per day is the usual dose?"))
    fetch_once(services)
    _answer_everything(services)
    [(_, _, reply_raw)] = dovecot.wait_for_messages(PATIENT)
    reply_id = email.message_from_bytes(reply_raw, policy=email.policy.default)["Message-ID"]

    thanks = _mail("Re: Dose", "Thank you so much for your help!\n\nMargaret", in_reply_to=reply_id)
    dovecot.deliver("support@example.org", thanks)
    fetch_once(services)
    inq = _inquiry(services, email.message_from_bytes(thanks)["Message-ID"])
    assert inq.state == "noted" and inq.replies == []
    assert any("thank-you" in r for r in inq.reasons)


def test_follow_up_without_threading_headers_is_found_by_subject(dovecot, services) -> None:
    dovecot.deliver(
        "support@example.org", _mail("Receta", "¿Cómo consigo la receta para la metilcobalamina?")
    )
    fetch_once(services)
    _answer_everything(services)
    dovecot.wait_for_messages(PATIENT)
    again = _mail("RE: Receta", "Muchas gracias por todo, de verdad.")
    dovecot.deliver("support@example.org", again)
    fetch_once(services)
    inq = _inquiry(services, email.message_from_bytes(again)["Message-ID"])
    assert inq.conversation_id is not None and inq.state == "noted"
    assert any(r.startswith("conversation/subject") for r in inq.reasons)
