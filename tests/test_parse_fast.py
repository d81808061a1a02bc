"""The fast parse path gives exactly what the email package's own parser gives.

:func:`bot.parse.parse_message` splits well-formed mail itself
(:mod:`bot.mimesplit`) and reads plainly written address and MIME headers
without the email package's header parser (:mod:`bot.fastaddress`,
:mod:`bot.fastheaders`); anything else goes through
``email.message_from_bytes``, which :func:`bot.parse.parse_message_reference`
always uses. Here both paths read every stored message, the shared corpora,
generated inquiries and damaged copies of all of them, and must agree on
every field (attachment bytes included) or on the same ParseError.
"""

from __future__ import annotations

import binascii
import email.policy
import functools
import random
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.fastaddress import PlainAddressHeader, address_header
from bot.fastheaders import _plain_mime_header
from bot.message import ParsedMessage
from bot.mimesplit import split_message
from bot.parse import ParseError, parse_message, parse_message_reference
from bot.parse_error import MAX_DEPTH, POLICY

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))

from common import Inquiries  # noqa: E402 - the benchmarks' realistic inquiries


def outcome(parse: Callable[[bytes], ParsedMessage], raw: bytes) -> tuple[object, ...]:
    """What a parse gives: the message (repr, equality, attachment bytes) or the ParseError."""
    try:
        msg = parse(raw)
    except ParseError as exc:
        return ("ParseError", exc.stage, exc.reason)
    return repr(msg), tuple(a.data for a in msg.attachments), msg


def differences(
    messages: Iterator[tuple[str, bytes]],
    reference: Callable[[bytes], ParsedMessage] = parse_message_reference,
) -> list[str]:
    """The names of the messages that parse_message and ``reference`` read differently."""
    return [name for name, raw in messages if outcome(parse_message, raw) != outcome(reference, raw)]


@functools.cache
def stored() -> list[tuple[str, bytes]]:
    files = sorted(p for p in (ROOT / "tests").rglob("*.eml") if p.is_file())
    files += sorted(p for p in CORPORA.rglob("*") if p.is_file())
    return [(str(p), p.read_bytes()) for p in files]


@functools.cache
def generated() -> list[tuple[str, bytes]]:
    plain = Inquiries(seed=3).take(200)
    attached = Inquiries(seed=11, attachment_share=0.5).take(40)
    return [(f"inquiry {i}", raw) for i, raw in enumerate(plain + attached)]


def test_both_paths_agree_on_every_stored_message() -> None:
    messages = stored()
    assert len(messages) > 1500, "the shared corpora must sit beside the checkout"
    assert differences(iter(messages)) == []


def test_both_paths_agree_on_generated_inquiries() -> None:
    assert differences(iter(generated())) == []


def damaged(messages: list[tuple[str, bytes]], count: int) -> Iterator[tuple[str, bytes]]:
    """Copies broken where the fast splitter decides: line ends, boundary lines, part headers."""
    rnd = random.Random(7)
    for k in range(count):
        name, raw = rnd.choice(messages)
        yield f"{name} edit {k}", damage(rnd, raw)


def damage(rnd: random.Random, raw: bytes) -> bytes:
    found = re.search(rb'boundary="?([^";\r\n]+)', raw, re.IGNORECASE)
    sep = b"--" + (found.group(1) if found else b"x")
    at = rnd.choice([m.start() for m in re.finditer(re.escape(sep), raw)] or [0])
    after, line_end = at + len(sep), raw.find(b"\n", at) + 1 or len(raw)
    kind = rnd.randrange(12)
    if kind == 0:
        return raw[:at] + b"\r" + raw[at:]  # a bare CR right before a boundary
    if kind == 1:  # CR, blanks or dashes after a boundary
        return (
            raw[:after] + rnd.choice([b"\r", b" \r", b"--\r", b"\rX", b" ", b"--", b"-", b"x"]) + raw[after:]
        )
    if kind == 2:
        return raw.replace(b"\r\n", b"\r", 1 + rnd.randrange(3))
    if kind == 3:
        return raw.replace(b"\r\n", b"\n")
    if kind == 4:
        return raw[:at] + b"x" + raw[at:]  # boundary text inside a line
    if kind == 5:
        return raw.replace(sep + b"--", b"", 1)  # no closing boundary
    if kind == 6:
        return raw[:line_end] + raw[at:line_end] + raw[line_end:]  # a boundary line twice
    if kind == 7:
        return raw[:line_end] + rnd.choice(PART_LINES) + raw[line_end:]
    if kind == 8:
        return rnd.choice(TOP_LINES) + raw
    if kind == 9:
        return raw[: max(0, len(raw) - rnd.randint(1, 80))]
    if kind == 10:
        return raw.replace(b"base64\r\n\r\n", b"base64\r\n\r\n!", 1)
    return raw[:at] + bytes([rnd.randrange(256)]) + raw[at + 1 :]


PART_LINES = [b"junk line\r\n", b" continued\r\n", b":x\r\n", b"From nobody\r\n", b"\r\n", b"X-A: a\rb\r\n",
              b"Content-Type: message/rfc822\r\n", b"Content-Type: multipart/digest; boundary=q\r\n",
              b"Content-Transfer-Encoding: base64\r\n", b"Content-Disposition: attachment\r\n",
              b'Content-Type: text/plain; charset="=?utf-8?q?x?="\r\n']  # fmt: skip
TOP_LINES = [b"From someone Mon Jan  1 00:00:00 2024\n", b" leading blank\n", b":no name\n", b"X-Y: a\rb\n"]


def test_both_paths_agree_on_damaged_mail() -> None:
    sample = [m for m in stored() if b"boundary" in m[1].lower() and len(m[1]) < 200_000]
    assert differences(damaged(sample + generated(), 800)) == []


def test_ordinary_mail_takes_the_fast_path() -> None:
    # The point of the fast path: every generated inquiry and nearly every real one uses it.
    assert all(split_message(raw, 200, MAX_DEPTH) for _, raw in generated())
    real = sorted((ROOT / "tests" / "corpus").glob("*.eml")) + sorted(
        (ROOT / "tests" / "heldout").glob("*.eml")
    )
    fast = sum(split_message(p.read_bytes(), 200, MAX_DEPTH) is not None for p in real)
    assert fast >= 0.95 * len(real)


@pytest.mark.parametrize(
    "raw",
    [
        b"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n\r\nhi\r--B--\r\n",
        b"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n\r\nhi\r\n--B\r\n",
        b"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n--B\r\n\r\nhi\r\n--B--\r\n",
        b"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n"
        b"Content-Type: message/rfc822\r\n\r\nFrom: c@d.e\r\n\r\nfwd\r\n--B--\r\n",
        b" folded: first\r\nFrom: a@b.c\r\n\r\nhi\r\n",
        b"From: a@b.c\r\nno colon here\r\n\r\nhi\r\n",
        b"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: multipart/"
        b"alternative; boundary=BB\r\n\r\n--BB\r\n\r\nhi\r\n--BB--\r\n--B--\r\n",
    ],
    ids=[
        "bare CR before boundary",
        "no closing boundary",
        "boundary twice",
        "forward",
        "continuation first",
        "no blank line",
        "nested boundary extends outer",
    ],  # fmt: skip
)
def test_mail_the_splitter_cannot_read_exactly_goes_to_the_email_package(raw: bytes) -> None:
    assert split_message(raw, 200, MAX_DEPTH) is None
    assert outcome(parse_message, raw) == outcome(parse_message_reference, raw)


def test_lf_only_multipart_is_split() -> None:
    raw = (
        b"From: Ana <ana@example.org>\nContent-Type: multipart/alternative; boundary=B\n\n"
        b"preamble\n--B\nContent-Type: text/plain\n\nhola\n\n"
        b"--B\nContent-Type: text/html\n\n<p>hola</p>\n--B--\n"
    )
    assert split_message(raw, 200, MAX_DEPTH) is not None
    msg = parse_message(raw)
    assert (msg.text, msg.html) == ("hola", "<p>hola</p>")
    assert outcome(parse_message, raw) == outcome(parse_message_reference, raw)


# -- headers ------------------------------------------------------------------------

_PIECES = ["Ana", "Pérez", "O'Brien", "a", "x-y", "Jr.", "(c)", '"q"', "a\\b", "=?", "?=", "=", "#1", "{x}",
           "ß", "名前", "\u00a0", "\u200b", "\x85", "\x7f", "\t", "@", "<", ">", ";", ":", "[", "'", "`", "_",
           "+", "%"]  # fmt: skip


def _display(rnd: random.Random) -> str:
    words = [
        rnd.choice(_PIECES) if rnd.random() < 0.3 else rnd.choice(["Ana", "López", "John"]) for _ in range(3)
    ]
    text = rnd.choice([" ", "  ", "\t"]).join(words[: rnd.randint(0, 3)])
    encoded = "=?utf-8?b?" + binascii.b2a_base64(text.encode(), newline=False).decode() + "?="
    return rnd.choice(
        [text, encoded, f"Smith {encoded}", f"{encoded} Ana", f'"{text}"', f"{encoded} {encoded}"]
    )


def _address_value(rnd: random.Random) -> str:
    local = rnd.choice(
        ["ana", "ana.perez", "a+b", "A_B-c"] * 3 + ["x..y", ".x", "a b", '"q"', "", "ü", "a=b"]
    )
    domain = rnd.choice(
        ["example.org", "x", "a-b.c"] * 3 + ["[1.2.3.4]", "", "ex ample.org", "é.com", ".x.com"]
    )
    addr = f"{local}@{domain}"
    form = rnd.choice([addr, f"<{addr}>", f"{_display(rnd)} <{addr}>", f"{_display(rnd)}<{addr}>",
                       f"{_display(rnd)} <{addr}>, {addr}", f"{addr} ({_display(rnd)})"])  # fmt: skip
    return rnd.choice(["", " ", "\t"]) + form + rnd.choice(["", " ", "\t"])


def test_plain_address_headers_read_as_the_email_package_reads_them() -> None:
    rnd = random.Random(3)
    plain = 0
    for _ in range(8_000):
        value = _address_value(rnd)
        address_header.cache_clear()
        try:
            header = address_header("From", value)
        except Exception:  # noqa: BLE001 - the email package's own failures are the reference's too
            continue
        if isinstance(header, PlainAddressHeader):
            plain += 1
            real = POLICY.header_factory("From", value)
            assert str(header) == str(real), value
            assert [(a.display_name, a.addr_spec) for a in header.addresses] == [
                (a.display_name, a.addr_spec) for a in real.addresses
            ], value
            assert not real.defects, value
    assert plain > 500  # the generator reaches the fast reading often enough to mean something


_TYPES = ["text/plain", "Text/HTML", "multipart/mixed", "application/vnd.ms-excel", "text", "a!b/c#d",
          "text/plain ", " text/plain", "attachment", "inline", "Attachment"]  # fmt: skip
_NAMES = [
    "charset",
    "Charset",
    "boundary",
    "name",
    "filename",
    "a",
    "A",
    "x.y",
    "name*",
    "name*0",
    "na%me",
    "b c",
]
_VALUES = ["utf-8", "UTF-8", "flowed", "report.pdf", '"report.pdf"', '"re port.pdf"', '"a  b"', '" ab"',
           '"a\tb"', '"----=_Part_1_2.3"', "----=_Part_1", '"=?utf-8?q?x?="', '"a\\"b"', '""', "", '"a;b"',
           "a;b", '"<x>"', '"é"', "%41", "a*b", "a'b", "(c)", "a (c)"]  # fmt: skip
_SEPARATORS = ["; ", ";", ";  ", ";\t", " ; ", "; \r\n\t", ";\r\n "]


def test_plain_mime_headers_read_as_the_email_package_reads_them() -> None:
    rnd = random.Random(5)
    plain = 0
    for _ in range(5_000):
        value = rnd.choice(_TYPES)
        for _ in range(rnd.randint(0, 3)):
            value += (
                rnd.choice(_SEPARATORS) + rnd.choice(_NAMES) + rnd.choice(["=", " = "]) + rnd.choice(_VALUES)
            )
        for name in ("Content-Type", "Content-Disposition"):
            header = _plain_mime_header(name.lower(), re.sub(r"\r|\n", "", value))
            if header is None:
                continue
            plain += 1
            real = email.policy.default.header_fetch_parse(name, value)
            assert str(header) == str(real), value
            if name == "Content-Disposition":
                assert header.content_disposition == real.content_disposition, value
    assert plain > 1000
