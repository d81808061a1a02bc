"""The header and body writers under the reply: folding, encoded words, injection, quoted-printable."""

from __future__ import annotations

import email
import email.policy
import random
import re
import types
from email.message import EmailMessage
from email.utils import getaddresses

import pytest

from bot.config import parse_config
from bot.mimeout import attachment_bytes, quoted_printable, reply_bytes
from bot.mimewrite import HeaderInjection, address, literal, unstructured
from bot.reply_headers import _ADDRESS, clean_header_text, reply_address

ALPHABET = list("abcXYZ019 .,;:!?'\"()<>[]@=_-/\\") + [
    "=?",
    "?=",
    "é",
    "ñ",
    "¿",
    "ü",
    "中",
    "🙏",
    "’",
    "\u200b",
]


def read_back(lines: str, name: str = "Subject") -> str:
    msg = email.message_from_bytes(lines.encode("ascii") + b"\r\n", policy=email.policy.default)
    return str(msg[name])


def assert_lines(lines: str) -> None:
    assert lines.isascii() and lines.endswith("\r\n")
    for line in lines[:-2].split("\r\n"):
        assert "\r" not in line and "\n" not in line and len(line) <= 998


def random_text(rnd: random.Random, size: int) -> str:
    return "".join(rnd.choice(ALPHABET) for _ in range(size))


def test_plain_subject_is_one_line() -> None:
    assert unstructured("Subject", "Re: Question about B12") == "Subject: Re: Question about B12\r\n"


def test_long_subject_folds_at_spaces_within_78() -> None:
    value = "Re: " + " ".join(f"word{i}" for i in range(60))
    lines = unstructured("Subject", value)
    assert lines.count("\r\n") > 3 and all(len(line) <= 78 for line in lines.split("\r\n"))
    assert read_back(lines) == value


def test_non_ascii_words_are_encoded_and_keep_their_spaces() -> None:
    value = "Re: ¿Dónde está María José? gracias"
    lines = unstructured("Subject", value)
    assert lines.startswith("Subject: Re: =?utf-8?q?") and "gracias" in lines
    assert read_back(lines) == value
    long_value = "Pregunta " + "añadida " * 40
    lines = unstructured("Subject", long_value)
    assert all(len(line) <= 78 for line in lines.split("\r\n"))
    assert all(len(w) <= 75 for w in re.findall(r"=\?utf-8\?q\?[^?]*\?=", lines))
    assert read_back(lines) == long_value.strip()


def test_text_that_looks_encoded_reads_back_as_written() -> None:
    value = "Re: =?utf-8?q?hola?= and =?x?"
    assert read_back(unstructured("Subject", value)) == value


def test_long_words_fit_998_and_read_back() -> None:
    for size in (70, 200, 985, 996, 997, 1200):
        word = "<" + "x" * size + "@example.org>"
        for value in (word, f"<a@b> {word} <c@d>"):
            lines = unstructured("References", value)
            assert_lines(lines)
            assert read_back(lines, "References") == value


def test_random_values_read_back_whitespace_collapsed() -> None:
    rnd = random.Random(7)
    for _ in range(400):
        value = random_text(rnd, rnd.randint(0, 220))
        lines = unstructured("Subject", value)
        assert_lines(lines)
        assert read_back(lines) == " ".join(value.split())
        if not re.search(r"[^\x20-\x7e]|=\?", value):  # what email wrote reads back the same
            ref = EmailMessage()
            ref["Subject"] = " ".join(value.split())
            assert read_back(lines) == read_back(ref.as_string(policy=email.policy.SMTP).split("\r\n\r\n")[0])


@pytest.mark.parametrize(
    "value",
    ["a\r\nBcc: x@y", "a\nBcc: x@y", "a\rb", "nul\x00", "tab\there", "del\x7f", "nel\x85", "ls\u2028"],
)
def test_line_breaks_and_controls_are_refused(value: str) -> None:
    with pytest.raises(HeaderInjection):
        unstructured("Subject", value)
    with pytest.raises(HeaderInjection):
        literal("To", value)
    with pytest.raises(HeaderInjection):
        address("From", value, "support@example.org")
    with pytest.raises(HeaderInjection):
        address("From", "Team", f"support@example.org{value}")


def test_header_names_are_checked() -> None:
    for name in ("Sub ject", "Subject:", "X\r\nBcc", ""):
        with pytest.raises(HeaderInjection):
            unstructured(name, "x")


def test_literal_takes_only_printable_ascii_words() -> None:
    assert literal("Date", "Wed, 25 Nov 2026 09:30:00 +0000") == "Date: Wed, 25 Nov 2026 09:30:00 +0000\r\n"
    for value in ("maría@example.com", "two  spaces", " lead", "x" * 995):
        with pytest.raises(HeaderInjection):
            literal("To", value)


def test_address_is_what_email_writes() -> None:
    for name in ("ALS Team", 'ALS "Team", Worldwide', "Equipo de Atención", ""):
        ref = EmailMessage()
        ref["From"] = email.utils.formataddr((name, "support@example.org"))
        expected = ref.as_bytes(policy=email.policy.SMTP).split(b"\r\n\r\n")[0] + b"\r\n"
        assert address("From", name, "support@example.org").encode() == expected


def test_surrogates_fail_as_before() -> None:
    with pytest.raises(UnicodeEncodeError):  # email raised the same: the inquiry goes to quarantine
        unstructured("Subject", "caf\udce9")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain\n",
        "no final newline",
        "trailing spaces   \nand tabs\t\n",
        ".\nlone dot above\n..\n",
        "= signs == =3D\n",
        "mixed\r\nline\rends\n\n\nblank lines\n",
        "x" * 500 + "\n" + "é" * 300,
        "Hola, María:\n\nLe adjuntamos el formulario de receta médica. " * 8,
        "\x0b vertical tab \x0c form feed \u2028 separator \x1c",
    ],
)
def test_quoted_printable_decodes_to_the_text(text: str) -> None:
    for _ in range(2):  # the second time from the line cache
        encoded = quoted_printable(text)
        assert encoded.isascii() and encoded.endswith(b"\r\n")
        lines = encoded[:-2].split(b"\r\n")
        assert max(map(len, lines)) <= 76 and not any(b"\r" in x or b"\n" in x for x in lines)
        expected = b"\r\n".join(text.encode().splitlines()) + b"\r\n"
        assert email.quoprimime.body_decode(encoded.decode()).encode("latin-1") == expected.replace(
            b"\r", b""
        )


def test_reply_bytes_structure_and_boundaries() -> None:
    part = attachment_bytes("form.pdf", b"%PDF-1.4\n" * 500)
    assert attachment_bytes("form.pdf", b"%PDF-1.4\n" * 500) is part  # made once
    raw = reply_bytes("Subject: x\r\n", "text\n", "<p>html</p>\n", [part, part], "es")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg.get_content_type() == "multipart/mixed" and msg["Content-Language"] == "es"
    alternative, *attachments = msg.iter_parts()
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    assert [a.get_content() for a in attachments] == [b"%PDF-1.4\n" * 500] * 2
    boundaries = {p.get_boundary() for p in (msg, alternative)}
    assert len(boundaries) == 2 and all(re.fullmatch(r"={15}\d{19}==", b) for b in boundaries)
    alone = email.message_from_bytes(
        reply_bytes("Subject: x\r\n", "t\n", "h\n", [], "en"), policy=email.policy.default
    )
    assert alone.get_content_type() == "multipart/alternative" and len(list(alone.iter_parts())) == 2


def test_boundary_avoids_what_a_part_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter([1, 1, 2])
    monkeypatch.setattr("bot.mimeout.random.randrange", lambda n: next(draws))
    taken = f"--==============={1:019d}=="
    part = attachment_bytes(f"{taken}.pdf", b"%PDF")  # a filename holding the first boundary drawn
    raw = reply_bytes("Subject: x\r\n", f"{taken}\n", "h\n", [part], "en")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    alternative, attachment = msg.iter_parts()
    # The text holds it too, but quoted-printable writes its "=" as "=3D": no clash there.
    assert alternative.get_boundary() == taken[2:]
    assert msg.get_boundary() == f"==============={2:019d}=="
    assert msg.get_body(("plain",)).get_content() == f"{taken}\r\n"
    assert attachment.get_filename() == f"{taken}.pdf" and attachment.get_content() == b"%PDF"


CONFIG = parse_config(
    {
        "organisation": {"name": "ALS Worldwide", "address": "support@example.org", "reply_name": "ALS Team"},
        "imap": {"host": "imap.example.org", "username": "support@example.org"},
        "smtp": {"host": "smtp.example.org"},
    },
    environ={},
)


def test_bare_address_shortcut_agrees_with_getaddresses() -> None:
    # reply_address takes a value that is a bare address as it is; getaddresses must agree.
    rnd = random.Random(11)
    local, domain = "Aa0!#$%&'*+/=?^_`{|}~.-", "a0.-"
    checked = 0
    for _ in range(5000):
        addr = "".join(rnd.choice(local) for _ in range(rnd.randint(1, 8))) + "@"
        addr += rnd.choice("aZ9") + "".join(rnd.choice(domain) for _ in range(rnd.randint(0, 6))) + "a"
        if not _ADDRESS.match(addr):
            continue
        assert getaddresses([addr]) == [("", addr)]
        triage = types.SimpleNamespace(
            message=types.SimpleNamespace(reply_to=addr, from_address="f@example.com")
        )
        assert reply_address(triage, CONFIG) == addr  # type: ignore[arg-type]
        checked += 1
    assert checked > 3000


def test_clean_header_text_fast_path_matches_the_general_one() -> None:
    for value in ("  Re:   Dose  ", "a\tb", "x" * 300, "ok", "", "Ça va\u2028Bcc: x", "nbsp\xa0here"):
        assert (
            clean_header_text(value, 200)
            == " ".join("".join(" " if c in "\t\u2028" else c for c in value).split())[:200]
        )
