"""bot.quoting.split_quoted: only what the person wrote now is new text.

The rule that matters most is the conservative one: a message with no
quote must come back whole, whatever words it happens to contain.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.htmltext import html_to_text
from bot.quoting import split_quoted

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"


def new(text: str) -> str:
    return split_quoted(text)[0]


# -- never lose a question -------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Where can I buy methylcobalamin?",
        "Hola,\n\n¿Dónde se consigue la metilcobalamina?\n\nGracias",
        'On Monday my doctor wrote:\n"try 50 mg twice a week"\nIs that the trial dose?',
        "El lunes el médico escribió:\n50 mg dos veces por semana.\n¿Es correcto?",
        "Dose -- is it 50 mg? -- and how often?",
        "From: my neurologist's office I got a leaflet. What does it mean?",
        "Confidential: my father does not know yet. Can you send the packet to me?",
        "-- \nI start with a dash line but then ask: is it safe with riluzole?",
        "Sent from my iPhone\nis how every mail of mine ends, but where is the packet?",
        ">50 mg per week: is that what the trial used?",
    ],
)
def test_a_message_without_quotes_comes_back_whole(text: str) -> None:
    new_text, quoted = split_quoted(text)
    assert new_text == text.strip() and quoted == ""


def test_empty_and_blank() -> None:
    assert split_quoted("") == ("", "")
    assert split_quoted("\n \n") == ("", "")


# -- attribution lines, in every language the bot detects -------------------------


@pytest.mark.parametrize(
    "attribution",
    [
        "On Mon, Jan 5, 2026 at 10:00 AM ALS B12 Help <help@alsb12.example.org> wrote:",
        "On Mon, Jan 5, 2026 at 10:00 AM ALS B12 Help <\nhelp@alsb12.example.org> wrote:",
        "On Mon, Jan 5, 2026 at 10:00 AM ALS B12 Help\n<help@alsb12.example.org>\nwrote:",
        "On Jan 5, 2026, at 10:00, ALS B12 Help <help@alsb12.example.org> wrote:",
        "On 05/01/2026 10:00, ALS B12 Help wrote:",
        "ALS B12 Help <help@alsb12.example.org> wrote:",
        "El lun, 5 ene 2026 a las 10:00, ALS B12 Help (<help@alsb12.example.org>) escribió:",
        "El lun, 5 ene 2026 a las 10:00, ALS B12 Help (<help@alsb12.example.org>)\nescribió:",
        "El 5 ene 2026, a las 10:00, ALS B12 Help <help@alsb12.example.org> escribió:",
        "El 5/1/26 a las 10:00, ALS B12 Help escribio:",
        "Le lun. 5 janv. 2026 à 10:00, ALS B12 Help <help@alsb12.example.org> a écrit :",
        "Am Mo., 5. Jan. 2026 um 10:00 Uhr schrieb ALS B12 Help <help@alsb12.example.org>:",
        "Em seg., 5 de jan. de 2026 às 10:00, ALS B12 Help <help@alsb12.example.org> escreveu:",
        "Il giorno lun 5 gen 2026 alle ore 10:00 ALS B12 Help <help@alsb12.example.org> ha scritto:",
        '05.01.2026, 10:00, "ALS B12 Help" <help@alsb12.example.org>:',
    ],
)
def test_attribution_lines_start_the_quote(attribution: str) -> None:
    text = (
        f"Is the packet available in print?\n\nAna\n\n{attribution}\n\n> Thank you for writing.\n> Regards\n"
    )
    new_text, quoted = split_quoted(text)
    assert new_text == "Is the packet available in print?\n\nAna"
    assert quoted.startswith(attribution.split("\n")[0]) and quoted.endswith("> Regards")


@pytest.mark.parametrize(
    "separator",
    [
        "-----Original Message-----",
        "----- Original Message -----",
        "-------- Mensaje original --------",
        "-----Mensaje original-----",
        "-------- Message d'origine --------",
        "-----Ursprüngliche Nachricht-----",
        "---------- Forwarded message ---------",
        "Begin forwarded message:",
        "Inicio del mensaje reenviado:",
        "-------- Messaggio originale --------",
    ],
)
def test_separators_start_the_quote(separator: str) -> None:
    text = f"Please see below: is this right?\n\n{separator}\nFrom: someone\nThe old text\n"
    assert split_quoted(text) == (
        "Please see below: is this right?",
        f"{separator}\nFrom: someone\nThe old text",
    )


@pytest.mark.parametrize(
    "block",
    [
        "From: ALS B12 Help <help@alsb12.example.org>\nSent: Monday, January 5, 2026 10:00 AM\n"
        "To: Karen\nSubject: Re: Packet",
        "________________________________\nFrom: ALS B12 Help <help@alsb12.example.org>\n"
        "Sent: Monday, January 5, 2026 10:00 AM\nTo: Karen\nSubject: Re: Packet",
        "*From:* ALS B12 Help [mailto:help@alsb12.example.org]\n*Sent:* Monday, January 5, 2026\n"
        "*To:* Karen\n*Subject:* Re: Packet",
        "De: ALS B12 Help <help@alsb12.example.org>\nEnviado el: lunes, 5 de enero de 2026 10:00\n"
        "Para: Karen\nAsunto: RE: Paquete",
        "De: ALS B12 Help\nEnviado: lunes, 5 de enero de 2026 10:00\nPara: Karen\nAsunto: RE: Paquete",
        "Von: ALS B12 Help\nGesendet: Montag, 5. Januar 2026 10:00\nAn: Karen\nBetreff: AW: Paket",
        "________________________________\nDate: Mon, 5 Jan 2026 10:00:00 +0000\nSubject: Packet\n"
        "From: help@alsb12.example.org\nTo: karen@example.com",
        "From: ALS B12 Help Sent: Monday, January 5, 2026 10:00 AM To: Karen Subject: Re: Packet",
    ],
)
def test_outlook_header_blocks_start_the_quote(block: str) -> None:
    text = f"Can it be given under the skin?\n\n{block}\n\nThank you for writing to us.\n"
    new_text, quoted = split_quoted(text)
    assert new_text == "Can it be given under the skin?"
    assert quoted.endswith("Thank you for writing to us.")


# -- signatures, mobile footers, disclaimers ----------------------------------------


@pytest.mark.parametrize(
    "footer",
    [
        "-- \nMary Jones\n555-0100",
        "--\nMary",
        "Sent from my iPhone",
        "Sent from my iPad",
        "Sent from my Samsung Galaxy smartphone.",
        "Sent from my Android phone",
        "Sent from Outlook",
        "Sent from Mail for Windows",
        "Get Outlook for iOS<https://aka.ms/o0ukef>",
        "Get Outlook for Android",
        "Enviado desde mi iPhone",
        "Enviado desde mi Samsung Galaxy",
        "Enviado desde mi móvil",
        "Enviado desde Outlook",
        "Enviado desde Correo para Windows",
        "Obtener Outlook para Android",
        "Obtener Outlook para iOS",
        "Enviado do meu iPhone",
        "Envoyé de mon iPhone",
        "Von meinem iPhone gesendet",
        "Inviato da iPhone",
        "CONFIDENTIALITY NOTICE: This e-mail message, including any attachments, is for the sole use "
        "of the intended recipient(s).",
        "This email and any files transmitted with it are confidential and intended solely for the "
        "use of the individual.",
        "The information contained in this message is privileged and confidential.",
        "DISCLAIMER: the views expressed are my own.",
        "AVISO DE CONFIDENCIALIDAD: Este mensaje y sus anexos son confidenciales.",
        "AVISO LEGAL: La información contenida en este correo es confidencial.",
        "Este correo electrónico y, en su caso, cualquier fichero anexo al mismo, contiene información "
        "confidencial.",
        "La información contenida en este mensaje es confidencial y está dirigida exclusivamente a su "
        "destinatario.",
        "Antes de imprimir este correo, piense en el medio ambiente.",
    ],
)
def test_signatures_footers_and_disclaimers_below_words_are_cut(footer: str) -> None:
    new_text, quoted = split_quoted(f"How long does one vial last once opened?\n\n{footer}\n")
    assert new_text == "How long does one vial last once opened?"
    assert quoted == footer


def test_a_dash_line_with_a_long_text_below_is_a_divider_not_a_signature() -> None:
    text = "First question.\n--\n" + "\n".join(f"Another question number {i}?" for i in range(20))
    assert new(text) == text


def test_footer_then_quote() -> None:
    text = (
        "¿Cuántas semanas dura el tratamiento?\n\nEnviado desde mi iPhone\n\n"
        "> El 6 ene 2026, a las 11:00, ALS B12 Help <help@alsb12.example.org> escribió:\n>\n> Gracias.\n"
    )
    new_text, quoted = split_quoted(text)
    assert new_text == "¿Cuántas semanas dura el tratamiento?"
    assert quoted.startswith("Enviado desde mi iPhone") and quoted.endswith("> Gracias.")


def test_an_attribution_ending_in_unicode_blanks_still_starts_the_quote() -> None:
    # Lines are only checked against the attribution patterns when one of them ends with a
    # colon; blanks after it (a no-break space from a web client) must not hide it.
    text = "Is 50 mg right?\n\nOn Mon, 5 Jan 2026 at 10:00, ALS B12 Help\nwrote:\u00a0\t\n> Use 25 mg.\n"
    new_text, quoted = split_quoted(text)
    assert new_text == "Is 50 mg right?"
    assert quoted.startswith("On Mon, 5 Jan 2026") and quoted.endswith("> Use 25 mg.")


def test_a_signature_below_many_blank_lines_is_cut_and_the_blank_run_closed() -> None:
    text = "Where do I send the form?\n\n\n\n\nThanks\n-- \nAna Pérez\nMadrid"
    new_text, quoted = split_quoted(text)
    assert new_text == "Where do I send the form?\n\nThanks"
    assert quoted == "-- \nAna Pérez\nMadrid"


# -- where the new words are not at the top ---------------------------------------------


def test_bottom_posted_reply() -> None:
    text = (
        "On 05/01/2026 10:00, ALS B12 Help wrote:\n> Thank you for writing.\n\nAnd is it safe in pregnancy?\n"
    )
    assert new(text) == "And is it safe in pregnancy?"


def test_inline_answers_between_quoted_lines_are_new() -> None:
    text = "> Which dose did the neurologist suggest?\n50 mg.\n> And how often?\nTwice a week.\n"
    new_text, quoted = split_quoted(text)
    assert new_text == "50 mg.\nTwice a week."
    assert quoted == "> Which dose did the neurologist suggest?\n> And how often?"


def test_only_quotes_means_no_new_text() -> None:
    assert split_quoted("> all quoted\n> still quoted\n") == ("", "> all quoted\n> still quoted")


def test_nested_history_keeps_only_the_latest_words() -> None:
    text = (
        "Third message.\n\nOn Tue, Jan 6, 2026 at 9:00 AM Ana <ana@example.com> wrote:\n> Second.\n>\n"
        "> On Mon, Jan 5, 2026 at 9:00 AM Help <help@alsb12.example.org> wrote:\n>> First.\n"
    )
    assert new(text) == "Third message."


def test_html_quotes_are_split_after_conversion() -> None:
    html = (
        '<div dir="ltr">Does it need a fridge?<div class="gmail_signature">Luis</div></div>'
        '<div class="gmail_quote"><div class="gmail_attr">On Mon, Jan 5, 2026 at 10:00 AM Help '
        "&lt;help@alsb12.example.org&gt; wrote:<br></div><blockquote>Thank you.</blockquote></div>"
    )
    new_text, quoted = split_quoted(html_to_text(html))
    assert new_text == "Does it need a fridge?"
    assert quoted.endswith("> Thank you.")


def test_hostile_input_is_fast() -> None:
    text = ("On " + "1 " * 2000 + "\n") * 200 + "> x\n" * 20_000 + ("-" * 5000 + "\n") * 50
    started = time.perf_counter()
    split_quoted(text)
    assert time.perf_counter() - started < 5


# -- the public reply-parser corpora ----------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("github-email-reply-parser/test/emails/email_1_2.txt", "Hi,"),
        (
            "github-email-reply-parser/test/emails/email_1_4.txt",
            "Awesome! I haven't had another problem with it.",
        ),
        ("github-email-reply-parser/test/emails/email_1_7.txt", ":+1:"),
        ("github-email-reply-parser/test/emails/email_2_2.txt", "Outlook with a reply directly above line"),
        ("github-email-reply-parser/test/emails/email_iPhone.txt", "Here is another email"),
        ("github-email-reply-parser/test/emails/email_BlackBerry.txt", "Here is another email"),
        ("zapier-email-reply-parser/test/emails/email_headers_no_delimiter.txt", "And another reply!"),
        (
            "zapier-email-reply-parser/test/emails/email_gmail.txt",
            "This is a test for inbox replying to a github message.",
        ),
        ("mailgun-talon/tests/fixtures/html_replies/gmail.html", "Hi. I am fine.\n\nThanks,\nAlex"),
        ("mailgun-talon/tests/fixtures/html_replies/hotmail.html", "Hi. I am fine.\n\nThanks,\nAlex"),
        ("mailgun-talon/tests/fixtures/html_replies/ms_outlook_2003.html", "Hi. I am fine.\nThanks,\nAlex"),
        ("mailgun-talon/tests/fixtures/html_replies/ms_outlook_2010.html", "Hi. I am fine.\nThanks,\nAlex"),
        ("mailgun-talon/tests/fixtures/html_replies/thunderbird.html", "Hi. I am fine.\n\nThanks,\nAlex"),
        ("mailgun-talon/tests/fixtures/html_replies/yandex_ru.html", "Hi. I am fine.\n\nThanks,\nAlex"),
    ],
)
def test_corpus_replies(path: str, expected: str) -> None:
    text = (CORPORA / path).read_text(encoding="utf-8", errors="replace")
    if path.endswith(".html"):
        text = html_to_text(text)
    assert new(text) == expected


@pytest.mark.parametrize(
    "path",
    [
        "github-email-reply-parser/test/emails/email_1_5.txt",
        "github-email-reply-parser/test/emails/email_sent_from_my_not_signature.txt",
        "github-email-reply-parser/test/emails/email_sig_delimiter_in_middle_of_line.txt",
    ],
)
def test_corpus_messages_without_quotes_stay_whole(path: str) -> None:
    text = (CORPORA / path).read_text(encoding="utf-8")
    assert new(text) == text.strip()
