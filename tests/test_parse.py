"""bot.parse.parse_message: real-looking mail in, every ParsedMessage field out.

Each fixture in tests/fixtures/eml is one case, named for it. Mail is
hostile input: the tests also feed garbage, oversize and pathological
nesting, and check that only ParseError ever comes out.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from datetime import datetime
from pathlib import Path

import pytest

from bot.message import ParsedMessage
from bot.parse import ParseError, parse_message

EML = Path(__file__).resolve().parent / "fixtures" / "eml"
ALL = sorted(p.name for p in EML.glob("*.eml"))


def load(name: str) -> ParsedMessage:
    return parse_message((EML / name).read_bytes())


def strings(msg: ParsedMessage) -> list[str]:
    """Every string the message carries, headers included."""
    out: list[str] = []
    for f in dataclasses.fields(msg):
        value = getattr(msg, f.name)
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, tuple):
            for item in value:
                out.extend(item if isinstance(item, tuple) else [item] if isinstance(item, str) else [])
    return out


@pytest.mark.parametrize("name", ALL)
def test_every_fixture_fills_every_field_cleanly(name: str) -> None:
    raw = (EML / name).read_bytes()
    msg = parse_message(raw)
    assert re.fullmatch(r"<[^<>\s]+>", msg.message_id)
    assert msg.content_hash == hashlib.sha256(raw).hexdigest()
    assert msg.from_address == msg.from_address.lower() and "@" in msg.from_address
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in msg.headers)
    assert msg.header("From") is not None
    assert "/" in msg.content_type
    # What the store and the web pages get must be storable: no NULs, no lone surrogates.
    for text in strings(msg):
        assert "\x00" not in text
        text.encode("utf-8")


def test_plain_english_inquiry() -> None:
    msg = load("inquiry_english.eml")
    assert msg.message_id == "<CAKx8Jq3mP1tQ2b5w@mail.example.com>" and not msg.synthetic_id
    assert (msg.from_name, msg.from_address) == ("Mary Jones", "mary.jones@example.com")
    assert msg.to == ("help@alsb12.example.org",)
    assert msg.subject == "Question about methylcobalamin dose for my husband"
    assert msg.date == datetime.fromisoformat("2026-01-05T10:01:58+00:00")
    assert msg.content_language == "en-US"
    assert msg.content_type == "text/plain" and msg.html is None
    assert "does he need a prescription?" in msg.new_text
    assert msg.new_text == msg.text.strip() and msg.quoted_text == ""


def test_plain_spanish_inquiry_with_encoded_name() -> None:
    msg = load("inquiry_spanish.eml")
    assert msg.from_name == "José Pérez"
    assert msg.subject == "Consulta sobre la metilcobalamina en dosis ultra altas"
    assert "¿Dónde se puede conseguir" in msg.new_text


@pytest.mark.parametrize(
    ("name", "subject", "words"),
    [
        ("charset_iso88591.eml", "Pregunta sobre inyecciones", "¿Cuántas inyecciones"),
        ("charset_windows1252.eml", "Packet cost", "father’s neurologist said “ask the foundation” – "),
        ("charset_windows1252_labelled_latin1.eml", "“Packet” cost", "“ask the foundation” – what"),
        ("charset_utf8_quoted_printable.eml", "Metilcobalamina no Brasil", "Obrigada — Conceição"),
        ("charset_utf8_base64.eml", "Methylcobalamin in Österreich", "Grüß Gott!"),
        ("charset_mislabelled_utf8_as_ascii.eml", "Pregunta", "¿La metilcobalamina se inyecta"),
        ("charset_mislabelled_utf8_as_latin1.eml", "Pregunta sobre la vía", "por vía oral?"),
        ("charset_x_unknown.eml", "Información sobre la dosis", "¿Cuál es la dosis"),
        ("rfc2047_subject.eml", "¿De dónde se sacan las ampollas? (él tiene ELA)", "¿dónde se consiguen"),
    ],
)
def test_charsets_decode_to_the_words_written(name: str, subject: str, words: str) -> None:
    msg = load(name)
    assert msg.subject == subject
    assert words in msg.text
    assert "\ufffd" not in msg.text + msg.subject + msg.from_name


def test_wrong_charset_labels_are_noted_as_defects() -> None:
    assert "charset us-ascii read as utf-8" in load("charset_mislabelled_utf8_as_ascii.eml").defects
    assert "charset x-unknown read as windows-1252" in load("charset_x_unknown.eml").defects
    assert load("charset_x_unknown.eml").from_name == "Andrés López"


def test_html_only_outlook_becomes_text_without_the_quote() -> None:
    msg = load("html_only_outlook.eml")
    assert msg.content_type == "text/html"
    assert msg.html is not None and "MsoNormal" in msg.html  # the original, unsanitised
    assert "under the skin instead of into the muscle?" in msg.text
    assert "<" not in msg.new_text and "MsoNormal" not in msg.text
    assert "Thank you for writing to us" not in msg.new_text
    assert "Thank you for writing to us" in msg.quoted_text


def test_html_only_gmail_becomes_text_without_the_quote() -> None:
    msg = load("html_only_gmail.eml")
    assert msg.new_text.startswith("Muchas gracias. ¿Las ampollas se guardan en la nevera?")
    assert "escribió" not in msg.new_text and "Adjuntamos" in msg.quoted_text


def test_missing_message_id_gets_a_stable_synthetic_one() -> None:
    first, again = load("missing_message_id.eml"), load("missing_message_id.eml")
    assert first.synthetic_id
    assert re.fullmatch(r"<[0-9a-f]{32}@synthetic\.invalid>", first.message_id)
    assert first.message_id == again.message_id
    assert first.message_id[1:33] == first.content_hash[:32]


def test_reply_headers() -> None:
    msg = load("gmail_quoted_reply_english.eml")
    assert msg.in_reply_to == "<20260105100000.1234@alsb12.example.org>"
    assert msg.references == (
        "<CAKx8Jq3mP1tQ2b5w@mail.example.com>",
        "<20260105100000.1234@alsb12.example.org>",
    )
    assert msg.content_type == "multipart/alternative" and msg.html is not None


def test_missing_end_boundary_keeps_text_and_attachment() -> None:
    msg = load("broken_mime_missing_end_boundary.eml")
    assert msg.new_text == "Where can I read the JETALS trial results about methylcobalamin?"
    [pdf] = msg.attachments
    assert (pdf.filename, pdf.content_type) == ("referral.pdf", "application/pdf")
    assert pdf.data.startswith(b"%PDF")


def test_a_boundary_that_never_occurs_is_guessed() -> None:
    msg = load("broken_mime_wrong_boundary.eml")
    assert msg.new_text == "Is there a summary of the trial in plain language?"
    assert "boundary guessed" in msg.defects
    assert "StartBoundaryNotFoundDefect" in msg.defects


def test_text_only_inside_a_forwarded_message() -> None:
    msg = load("forwarded_message_only.eml")
    assert "feeding tube" in msg.new_text
    [eml] = msg.attachments
    assert eml.content_type == "message/rfc822" and eml.filename.endswith(".eml")
    assert b"Subject: From my sister" in eml.data


def test_text_part_marked_as_attachment_is_still_read() -> None:
    msg = load("text_part_marked_attachment.eml")
    assert msg.new_text == "What is the shelf life of the methylcobalamin vials?"
    assert [a.filename for a in msg.attachments] == ["question.txt"]


def test_attachment_only_mail_has_no_text_and_a_safe_filename() -> None:
    msg = load("attachment_only.eml")
    assert msg.text == "" and msg.new_text == ""
    [pdf] = msg.attachments
    assert pdf.filename == "prescription form.pdf"  # never a path
    assert pdf.size == len(pdf.data) > 0


def test_bounce_text_inside_the_delivery_status_part() -> None:
    msg = load("bounce_delivery_status_only.eml")
    assert "Final-Recipient: rfc822; someone@example.net" in msg.text
    assert [a.content_type for a in msg.attachments] == ["message/delivery-status"]


def test_dsn_keeps_its_report_part_and_comment_style_sender_name() -> None:
    msg = load("dsn_postfix_bounce.eml")
    assert (msg.from_name, msg.from_address) == (
        "Mail Delivery System",
        "mailer-daemon@mx.alsb12.example.org",
    )
    assert "could not\nbe delivered" in msg.text
    assert "message/delivery-status" in [a.content_type for a in msg.attachments]


def test_folded_exchange_from_header() -> None:
    msg = load("ndr_exchange.eml")
    assert msg.from_name == "Microsoft Outlook"
    assert msg.from_address.startswith("microsoftexchange329e71ec")
    assert msg.header("X-MS-Exchange-Message-Is-Ndr") == ""


# -- hostile and broken input ------------------------------------------------


def test_parse_error_carries_stage_and_reason() -> None:
    err = ParseError(stage="parse", reason="too big")
    assert (err.stage, err.reason, str(err)) == ("parse", "too big", "too big")


def test_over_the_size_limit() -> None:
    raw = (EML / "inquiry_english.eml").read_bytes()
    with pytest.raises(ParseError, match="over the 100-byte limit") as info:
        parse_message(raw, max_bytes=100)
    assert info.value.stage == "parse"


def test_too_many_parts() -> None:
    parts = "".join(f"--b\nContent-Type: text/plain\n\npart {i}\n" for i in range(300))
    raw = f"From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n{parts}--b--\n".encode()
    with pytest.raises(ParseError, match="more than 200 MIME parts"):
        parse_message(raw)
    assert parse_message(raw, max_parts=400).text.startswith("part 0")


@pytest.mark.parametrize("depth", [40, 3000])
def test_nesting_too_deep(depth: int) -> None:
    head = "".join(f"--b{i}\nContent-Type: multipart/mixed; boundary=b{i + 1}\n\n" for i in range(depth))
    raw = f"From: a@example.com\nContent-Type: multipart/mixed; boundary=b0\n\n{head}hello\n".encode()
    with pytest.raises(ParseError, match="nest"):
        parse_message(raw, max_parts=10_000)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\n\n\n",
        b"just some words, no headers at all\n",
        bytes(range(256)) * 4,
        b"<html><body>hi</body></html>",
    ],
)
def test_not_an_email(raw: bytes) -> None:
    with pytest.raises(ParseError, match="not an email"):
        parse_message(raw)


def test_outlook_msg_file_is_refused_by_name() -> None:
    with pytest.raises(ParseError, match=r"Outlook \.msg"):
        parse_message(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)


def test_bad_headers_never_raise() -> None:
    raw = (
        b'From: "unterminated <@@> ,,, <\r\n'
        b"To: undisclosed-recipients:;\r\n"
        b"Cc: =?utf-8?q?broken?= <x@@y>, <a@example.com>\r\n"
        b"Subject: caf\xc3\xa9 \x00 \xe9t\xe9 =?bogus?Q?x?= =?utf-8?B?!!!?=\r\n"
        b"Date: yesterday-ish\r\n"
        b"Message-ID: not-an-id with spaces\r\n"
        b'Content-Type: text/plain; charset=""; charset=utf-8\r\n'
        b"Content-Language: es\r\n"
        b"X-Junk: \xff\xfe\x80\r\n"
        b"\r\nbody\r\n"
    )
    msg = parse_message(raw)
    assert msg.date is None and msg.synthetic_id
    assert msg.subject.startswith("café") and "\x00" not in msg.subject
    assert msg.cc == ("a@example.com",)
    assert msg.content_language == "es"
    assert msg.text == "body"
    assert msg.header("X-Junk") is not None


def test_a_line_that_is_no_header_ends_the_headers() -> None:
    msg = parse_message(b"From: a@example.com\nX-\xff\xfe: \xff\nSubject: late\n\nbody\n")
    assert msg.from_address == "a@example.com" and msg.subject == ""
    assert "body" in msg.text and "MissingHeaderBodySeparatorDefect" in msg.defects


def test_utf8_headers_rfc6532() -> None:
    raw = "From: Zoë Ñúñez <zoë@example.es>\nSubject: ¿Dosis?\n\nHola\n".encode()
    msg = parse_message(raw)
    assert (msg.from_name, msg.subject) == ("Zoë Ñúñez", "¿Dosis?")


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_any_line_ending(newline: bytes) -> None:
    raw = b"From: a@example.com\nSubject: hi\n\nline one\nline two\n".replace(b"\n", newline)
    msg = parse_message(raw)
    assert msg.subject == "hi" and msg.new_text == "line one\nline two"


def test_obsolete_space_before_colon() -> None:
    msg = parse_message(b"From  : John Doe <jdoe@example.com>\nSubject   : Hello\n\nHi.\n")
    assert (msg.from_address, msg.subject, msg.text) == ("jdoe@example.com", "Hello", "Hi.")


def test_apple_mail_text_split_around_a_picture_is_joined() -> None:
    raw = (
        b"From: a@example.com\nContent-Type: multipart/mixed; boundary=m\n\n"
        b"--m\nContent-Type: text/plain\n\nBefore the photo.\n"
        b"--m\nContent-Type: image/jpeg\nContent-Disposition: inline; filename=IMG_1.jpg\n\n\xff\xd8\n"
        b"--m\nContent-Type: text/plain\n\nAfter the photo: is this the right vial?\n--m--\n"
    )
    msg = parse_message(raw)
    assert msg.text == "Before the photo.\n\nAfter the photo: is this the right vial?"
    assert [a.filename for a in msg.attachments] == ["IMG_1.jpg"]
