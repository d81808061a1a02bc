"""A reply's MIME bytes, written directly: text and HTML alternatives, then the packets.

The structure and the bytes are what :mod:`email` gave for the same message
(``EmailMessage`` with ``set_content``, ``add_alternative`` and attached
packet parts, flattened with ``policy.SMTP``)::

    multipart/mixed                 (multipart/alternative alone when no packet)
      multipart/alternative
        text/plain; charset="utf-8"   quoted-printable
        text/html; charset="utf-8"    quoted-printable
      application/pdf                 base64, one per packet

Lines end in CRLF and none is longer than 78 characters but where a header
value has one long word (never past 998). Building that with the email
package took ~3 ms a reply, most of it parsing back and refolding headers
it had just been given and searching the bodies for its own boundaries.
"""

from __future__ import annotations

import binascii
import random
import sys
from email.message import EmailMessage
from email.policy import SMTP

from bot.mimewrite import literal

_TEXT_HEAD = (
    b'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
)
# add_alternative made the HTML part as a message of its own, hence its MIME-Version; kept as it was.
_HTML_HEAD = (
    b'Content-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n'
    b"MIME-Version: 1.0\r\n\r\n"
)

# A packet's part (headers and base64 body) is written once per file and shared by
# every reply that attaches it: encoding a PDF again for every reply cost ~1 ms.
_PARTS: dict[tuple[str, bytes], bytes] = {}
_MAX_PARTS = 64  # packets are few; rebuilt ones get new bytes, so the old ones are let go


def attachment_bytes(filename: str, data: bytes) -> bytes:
    """The MIME part attaching PDF ``data`` as ``filename``: headers, blank line, base64 lines.

    Made with the email package (once per file), so that the filename is
    quoted or RFC 2231-encoded exactly as before, whatever it holds.
    """
    key = (filename, data)
    part = _PARTS.get(key)
    if part is None:
        message = EmailMessage()
        message.set_content(data, maintype="application", subtype="pdf", filename=filename)
        part = message.as_bytes(policy=SMTP)
        if len(_PARTS) >= _MAX_PARTS:
            _PARTS.clear()
        _PARTS[key] = part
    return part


# Quoted-printable works line by line, and most of a reply's lines are template text
# that every reply shares: each line's encoding is kept, which made encoding the two
# parts ~10x cheaper than binascii.b2a_qp over the whole text (~35 us a reply).
_QP_LINES: dict[bytes, bytes] = {}
_MAX_QP_LINES = 4096  # a few hundred template lines, and names and subjects that churn


def quoted_printable(text: str) -> bytes:
    """``text`` in UTF-8, quoted-printable, with CRLF line ends and a final line end.

    Lines are split where :mod:`email` split them (CR, LF or CRLF); encoded
    lines are at most 76 characters, soft breaks included; "=", non-ASCII,
    trailing spaces and a lone "." are encoded (:func:`binascii.b2a_qp`).
    """
    out: list[bytes] = []
    for line in text.encode("utf-8").splitlines():
        encoded = _QP_LINES.get(line)
        if encoded is None:  # the CRLF makes b2a_qp write CRLF soft breaks too
            encoded = binascii.b2a_qp(line + b"\r\n")
            if len(_QP_LINES) >= _MAX_QP_LINES:
                _QP_LINES.clear()
            _QP_LINES[line] = encoded
        out.append(encoded)
    return b"".join(out) if out else b"\r\n"


def _boundary(*bodies: bytes) -> str:
    """A boundary like the email package's, found in none of ``bodies``."""
    while True:  # "==" cannot occur in quoted-printable or base64: one try is all but certain
        boundary = f"==============={random.randrange(sys.maxsize):019d}=="
        marker = f"--{boundary}".encode("ascii")
        if not any(marker in body for body in bodies):
            return boundary


def _content_type(subtype: str, boundary: str) -> bytes:
    line = f'Content-Type: multipart/{subtype}; boundary="{boundary}"'
    if len(line) > 78:  # folded before the parameter, as email's folder did
        line = f'Content-Type: multipart/{subtype};\r\n boundary="{boundary}"'
    return f"{line}\r\n".encode("ascii")


def reply_bytes(head: str, text: str, html: str, parts: list[bytes], language: str) -> bytes:
    """The whole message: ``head`` (header lines ending in CRLF), then MIME headers and the bodies.

    ``parts`` are :func:`attachment_bytes` results, attached in order after
    the alternatives; ``language`` becomes Content-Language.
    """
    return b"".join(reply_chunks(head, text, html, parts, language))


def reply_chunks(head: str, text: str, html: str, parts: list[bytes], language: str) -> list[bytes]:
    """:func:`reply_bytes` in pieces whose concatenation is the message; each of ``parts`` is
    one piece, the very object given (so that the ledger can store it apart)."""
    text_qp, html_qp = quoted_printable(text), quoted_printable(html)
    inner = _boundary(text_qp, html_qp)
    sep = f"\r\n--{inner}\r\n".encode("ascii")
    alternative = [sep[2:], _TEXT_HEAD, text_qp, sep, _HTML_HEAD, html_qp, sep[:-2], b"--\r\n"]
    top = _content_type("alternative", inner)
    if parts:
        # A packet's base64 body has no "-": only its headers (the filename) can hold the marker.
        outer = _boundary(text_qp, html_qp, *(p[: p.find(b"\r\n\r\n")] for p in parts))
        sep = f"\r\n--{outer}\r\n".encode("ascii")
        body = [sep[2:], _content_type("alternative", inner), b"\r\n", *alternative]
        for part in parts:
            body += [sep, part]
        body += [sep[:-2], b"--\r\n"]
        top = _content_type("mixed", outer)
    else:
        body = alternative
    mime = b"MIME-Version: 1.0\r\n" + top + literal("Content-Language", language).encode("ascii") + b"\r\n"
    return [head.encode("ascii"), mime, *body]
