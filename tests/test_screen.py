"""bot.screen.screen: machine-sent mail is ignored, and a person's question never is.

A false ignore means a patient never gets an answer, so the inquiry cases
here matter as much as the autoresponder and bounce cases.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.message import ParsedMessage
from bot.parse import parse_message
from bot.screen import rule_order, screen

EML = Path(__file__).resolve().parent / "fixtures" / "eml"
OURS = frozenset({"help@alsb12.example.org", "info@alsb12.example.org"})

IGNORED = {
    "out_of_office_english.eml": {"auto-submitted", "autoreply-headers", "out-of-office-subject"},
    "out_of_office_spanish.eml": {
        "auto-submitted",
        "precedence",
        "null-return-path",
        "out-of-office-subject",
    },
    "out_of_office_subject_only_english.eml": {"out-of-office-subject"},
    "out_of_office_subject_only_spanish.eml": {"out-of-office-subject"},
    "dsn_postfix_bounce.eml": {"delivery-report", "null-return-path", "machine-sender", "bounce-subject"},
    "ndr_exchange.eml": {"delivery-report", "bounce-subject"},
    "bounce_delivery_status_only.eml": {"delivery-report", "machine-sender"},
    "mdn_read_receipt.eml": {"delivery-report"},
    "list_mail.eml": {"list-headers", "precedence"},
    "precedence_bulk.eml": {"precedence"},
    "noreply_sender.eml": {"machine-sender"},
    "own_address.eml": {"own-address"},
}

INQUIRIES = [
    "inquiry_english.eml",
    "inquiry_spanish.eml",
    "inquiry_not_out_of_office.eml",
    "inquiry_spam_flagged.eml",
    "forwarded_bounce_with_question.eml",
    "gmail_quoted_reply_english.eml",
    "gmail_quoted_reply_spanish.eml",
    "outlook_quoted_reply_english.eml",
    "outlook_quoted_reply_spanish.eml",
    "apple_mail_quoted_reply_english.eml",
    "apple_mail_quoted_reply_spanish.eml",
    "thunderbird_quoted_reply_english.eml",
    "thunderbird_quoted_reply_spanish.eml",
    "html_only_outlook.eml",
    "html_only_gmail.eml",
    "charset_iso88591.eml",
    "charset_windows1252.eml",
    "charset_windows1252_labelled_latin1.eml",
    "charset_utf8_quoted_printable.eml",
    "charset_utf8_base64.eml",
    "charset_mislabelled_utf8_as_ascii.eml",
    "charset_mislabelled_utf8_as_latin1.eml",
    "charset_x_unknown.eml",
    "rfc2047_subject.eml",
    "broken_mime_missing_end_boundary.eml",
    "broken_mime_wrong_boundary.eml",
    "missing_message_id.eml",
    "forwarded_message_only.eml",
    "text_part_marked_attachment.eml",
    "attachment_only.eml",
]


def load(name: str) -> ParsedMessage:
    return parse_message((EML / name).read_bytes())


def test_every_fixture_is_classified_here() -> None:
    assert set(IGNORED) | set(INQUIRIES) == {p.name for p in EML.glob("*.eml")}


@pytest.mark.parametrize("name", sorted(IGNORED))
def test_machine_mail_is_ignored(name: str) -> None:
    result = screen(load(name), OURS)
    assert result.ignore
    assert IGNORED[name] <= {r.rule for r in result.reasons}
    for reason in result.reasons:
        assert reason.stage == "screen" and reason.detail
        assert "@" not in reason.detail  # reasons are shown to staff: never an address


@pytest.mark.parametrize("name", INQUIRIES)
def test_a_person_is_never_ignored(name: str) -> None:
    result = screen(load(name), OURS)
    assert not result.ignore, [str(r) for r in result.reasons]


def test_spam_flag_is_noted_not_ignored() -> None:
    result = screen(load("inquiry_spam_flagged.eml"), OURS)
    assert not result.ignore
    assert [r.rule for r in result.reasons] == ["spam-flag"]


def test_reasons_follow_the_rule_order() -> None:
    order = [rule.name for rule in rule_order(OURS)]
    result = screen(load("dsn_postfix_bounce.eml"), OURS)
    fired = [r.rule for r in result.reasons]
    assert fired == sorted(fired, key=order.index)


def test_rules_are_small_named_values() -> None:
    rules = rule_order(OURS)
    assert isinstance(rules, tuple)
    assert len({r.name for r in rules}) == len(rules)
    for rule in rules:
        assert rule.name and rule.description and callable(rule.check)
        assert rule.check(bare()) is None  # a plain message fires nothing


# -- one rule at a time, on hand-made messages ----------------------------------------


def bare(**changes: object) -> ParsedMessage:
    base = ParsedMessage(
        message_id="<x@example.com>",
        synthetic_id=False,
        subject="Question about B12",
        from_name="Ana",
        from_address="ana@example.com",
        text="Where can I buy it?",
        new_text="Where can I buy it?",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def fired(msg: ParsedMessage) -> set[str]:
    return {r.rule for r in screen(msg, OURS).reasons}


@pytest.mark.parametrize(
    ("header", "value", "rule"),
    [
        ("Auto-Submitted", "auto-replied", "auto-submitted"),
        ("Auto-Submitted", "auto-generated (failure)", "auto-submitted"),
        ("auto-submitted", "Auto-Notified", "auto-submitted"),
        ("Precedence", "bulk", "precedence"),
        ("Precedence", "JUNK", "precedence"),
        ("Precedence", "list", "precedence"),
        ("Precedence", "auto_reply", "precedence"),
        ("List-Id", "<caregivers.lists.example.org>", "list-headers"),
        ("List-Unsubscribe", "<mailto:leave@example.org>", "list-headers"),
        ("List-Post", "NO", "list-headers"),
        ("X-Autoreply", "yes", "autoreply-headers"),
        ("X-Autorespond", "", "autoreply-headers"),
        ("X-Auto-Response-Suppress", "OOF, AutoReply", "autoreply-headers"),
        ("X-Autogenerated", "Reply", "autoreply-headers"),
        ("X-AutoReply-From", "ana@example.com", "autoreply-headers"),
        ("X-Mail-Autoreply", "yes", "autoreply-headers"),
        ("X-Failed-Recipients", "someone@example.net", "failed-recipients"),
        ("Return-Path", "<>", "null-return-path"),
        ("Return-Path", "< >", "null-return-path"),
        ("X-MS-Exchange-Message-Is-Ndr", "", "delivery-report"),
    ],
)
def test_header_rules(header: str, value: str, rule: str) -> None:
    msg = bare(headers=((header, value),))
    result = screen(msg, OURS)
    assert result.ignore and rule in fired(msg)


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Auto-Submitted", "no"),
        ("Auto-Submitted", "No"),
        ("Precedence", "first-class"),
        ("Return-Path", "<ana@example.com>"),
        ("X-Spam-Flag", "YES"),
        ("X-Mailer", "Microsoft Outlook 16.0"),
    ],
)
def test_harmless_headers(header: str, value: str) -> None:
    assert not screen(bare(headers=((header, value),)), OURS).ignore


@pytest.mark.parametrize(
    "address",
    [
        "mailer-daemon@example.com",
        "MAILER-DAEMON",
        "postmaster@example.com",
        "post_master@example.com",
        "noreply@example.com",
        "no-reply@example.com",
        "no_reply@example.com",
        "noreply-alerts@example.com",
        "do-not-reply@example.com",
        "donotreply@example.com",
        "do_not_reply@example.com",
    ],
)
def test_machine_senders(address: str) -> None:
    assert "machine-sender" in fired(bare(from_address=address.lower()))


@pytest.mark.parametrize("address", ["noreen@example.com", "postman.pat@example.com", "replyall@example.com"])
def test_people_whose_names_look_close(address: str) -> None:
    assert not screen(bare(from_address=address), OURS).ignore


def test_own_address_in_any_case() -> None:
    assert "own-address" in fired(bare(from_address="info@alsb12.example.org"))
    assert not screen(bare(from_address="info@alsb12.example.org"), frozenset()).ignore
    assert "own-address" in {r.rule for r in screen(bare(from_address="help@x.org"), {"HELP@X.ORG"}).reasons}


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: Re: B12",
        "Out of the office",
        "Automatic reply: Question about B12",
        "Auto: John is away",
        "AutoReply: B12",
        "Respuesta automática: Consulta",
        "Respuesta automatica: Consulta",
        "Fuera de la oficina",
        "Fuera de la oficina: Re: metilcobalamina",
        "Abwesenheitsnotiz: Frage",
        "Automatische Antwort: Frage",
        "Réponse automatique : question",
        "Risposta automatica: domanda",
        "Resposta automática: pergunta",
        "John Smith is out of the office.",
        "[Out of Office] Re: B12",
    ],
)
def test_out_of_office_subjects(subject: str) -> None:
    assert "out-of-office-subject" in fired(bare(subject=subject))


@pytest.mark.parametrize(
    "subject",
    [
        "Question before I leave the office",
        "My out-of-pocket cost for the injections",
        "Re: your automatic reply did not answer my question",
        "¿Dónde está la oficina de la fundación?",
        "Automobile travel with the vials",
        "Vacation and injections",
    ],
)
def test_subjects_that_only_mention_offices_or_replies(subject: str) -> None:
    assert not screen(bare(subject=subject), OURS).ignore


@pytest.mark.parametrize(
    ("subject", "from_name", "address"),
    [
        ("Undelivered Mail Returned to Sender", "Mail Delivery System", "mailer@relay.example.net"),
        ("Delivery Status Notification (Failure)", "Mail Delivery Subsystem", "mail@example.net"),
        ("Mail delivery failed: returning message to sender", "", "ndr@example.net"),
        ("failure notice", "", ""),
        ("Returned mail: see transcript for details", "", "smtp-gw@example.net"),
        ("Undeliverable: Re: B12", "Microsoft Outlook", "microsoftexchange329e71ec@example.com"),
        ("No se puede entregar: Re: B12", "Administrador del sistema", "admin@example.es"),
    ],
)
def test_bounce_subjects_from_mail_systems(subject: str, from_name: str, address: str) -> None:
    assert "bounce-subject" in fired(bare(subject=subject, from_name=from_name, from_address=address))


def test_a_bounce_subject_from_a_person_needs_a_report_in_the_words() -> None:
    person = bare(subject="RE: Delivery failed", from_name="Juan", from_address="juan@example.com")
    assert not screen(person, OURS).ignore
    report = dataclasses.replace(person, new_text="Your message could not be delivered to juana@example.com")
    assert "bounce-subject" in fired(report)
    forward = dataclasses.replace(report, subject="Fwd: Delivery failed")
    assert not screen(forward, OURS).ignore  # a forward with words of its own is a question


def test_a_bare_forwarded_bounce_is_ignored_and_a_forward_with_a_question_is_not() -> None:
    quoted = (
        "Begin forwarded message:\n> From: Mail Delivery Subsystem <MAILER-DAEMON>\n"
        "> Final-Recipient: RFC822; kijitora@example.com\n> Action: failed\n> Status: 5.1.1\n"
    )
    bare_forward = bare(
        subject="Fwd: Returned mail: see transcript for details", new_text="", quoted_text=quoted
    )
    assert "forwarded-bounce" in fired(bare_forward)
    asking = dataclasses.replace(bare_forward, new_text="My email to the clinic came back. What should I do?")
    assert not screen(asking, OURS).ignore


def test_delivery_report_inside_another_multipart() -> None:
    from bot.message import Attachment

    msg = bare(
        content_type="multipart/mixed",
        attachments=(Attachment("part-1.txt", "message/delivery-status", b"Action: failed"),),
    )
    assert "delivery-report" in fired(msg)


def test_old_style_complaint_report() -> None:
    from bot.message import Attachment

    msg = bare(
        subject="complaint about message from 192.0.2.222",
        from_address="staff@hotmail.example.com",
        attachments=(Attachment("part-1.eml", "message/rfc822", b"From: x"),),
    )
    assert "complaint-report" in fired(msg)
