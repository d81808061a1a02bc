"""bot/parse.py as it was at 5524a7a: parse_message_reference, the email package's path only.

Frozen, with the modules it used (mailheaders, mimebody, quoting, charsets,
htmltext), so the parse stage made faster since is compared with what it
gave before (tests/test_parse_frozen.py). The fast path was removed.

Original docstring:

Parse: raw inbound bytes to a :class:`~bot.message.ParsedMessage`.

The one public entry is :func:`parse_message`. Inbound mail is hostile and
often broken, so everything that can be read is read and everything else is
noted in ``defects``: bad headers never raise, unknown or wrong charsets are
decoded by guessing (UTF-8, then Windows-1252), and when the standard body
search finds nothing the text is looked for in forwarded messages, parts
marked as attachments, delivery-status reports and multiparts whose boundary
is broken. Only what truly cannot be handled raises :class:`ParseError`, and
the caller quarantines the message with its reason. Nothing here logs.

Well-formed mail is split by :mod:`bot.mimesplit` and its plain headers are
read by :mod:`bot.fastaddress` and :mod:`bot.fastheaders`: the same result as
the email package's parsers, several times faster. Everything else, and
:func:`parse_message_reference` always, goes through the email package.
"""

from __future__ import annotations

import hashlib
import re

from bot.message import ParsedMessage
from bot.parse_error import POLICY, ParseError, load_message
from tests.parse_reference.htmltext import html_to_text
from tests.parse_reference.mailheaders import MSGID, addresses, first, message_id_of, parse_date, read_headers
from tests.parse_reference.mimebody import Body, walk_body
from tests.parse_reference.quoting import split_quoted

__all__ = ["ParseError", "parse_message_reference"]

# Headers that any mail has; a file with none of them is not an email.
_MAIL_HEADERS = frozenset(
    {"from", "to", "subject", "date", "message-id", "received", "return-path", "sender", "mime-version",
     "content-type", "cc", "reply-to", "delivered-to"}
)  # fmt: skip
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a Compound File: Outlook's .msg
_OBS_COLON = re.compile(rb"^([!-9;-~]{1,76})[ \t]+:", re.MULTILINE)
_TEXT_JUNK = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff]")


def clean_text(text: str) -> str:
    """Newlines made LF and control characters (but tab and newline) removed."""
    return _TEXT_JUNK.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def parse_message_reference(
    raw: bytes, *, max_bytes: int = 25_000_000, max_parts: int = 200
) -> ParsedMessage:
    """:func:`parse_message` through the email package's own parser only: slower, the same result.

    Kept as the reference the fast path is tested against (``tests/test_parse_fast.py``).
    """
    return _parse(raw, max_bytes, max_parts)


def _parse(raw: bytes, max_bytes: int, max_parts: int) -> ParsedMessage:
    """parse_message through the email package's parsers only."""
    raw = bytes(raw)
    if len(raw) > max_bytes:
        raise ParseError(f"message is {len(raw)} bytes, over the {max_bytes}-byte limit")
    content_hash = hashlib.sha256(raw).hexdigest()
    if raw.startswith(_OLE_MAGIC):
        raise ParseError("an Outlook .msg file, not an RFC 822 email: save it as .eml")
    defects: list[str] = []
    address_reader = POLICY.header_factory
    msg = load_message(raw)
    headers, parsed = read_headers(msg.raw_items(), defects, address_reader)
    if not any(name.lower() in _MAIL_HEADERS for name, _ in headers):
        # RFC 822's obsolete syntax allows space before the colon ("Subject : hi").
        head, sep, body = raw.partition(b"\n\n") if b"\r\n\r\n" not in raw else raw.partition(b"\r\n\r\n")
        fixed = _OBS_COLON.sub(rb"\1:", head)
        if fixed != head:
            msg = load_message(fixed + sep + body)
            defects = ["obsolete header syntax"]
            headers, parsed = read_headers(msg.raw_items(), defects, address_reader)
    if not any(name.lower() in _MAIL_HEADERS for name, _ in headers):
        raise ParseError("no mail headers: this is not an email")
    found = Body()
    try:
        walk_body(msg, max_parts, found)
    except RecursionError:
        raise ParseError("MIME parts nest too deeply to parse") from None
    defects.extend(found.defects)
    text = clean_text("\n\n".join(t.strip("\r\n") for t in found.plain))
    html = found.html.replace("\x00", "") if found.html is not None else None
    if not text.strip() and html:
        text = clean_text(html_to_text(html))
    new_text, quoted_text = split_quoted(text)
    senders = addresses(parsed.get("from", []) or parsed.get("sender", []))
    reply_to = addresses(parsed.get("reply-to", []))
    message_id, synthetic = message_id_of(first(parsed, "message-id"), content_hash)
    references = tuple(f"<{m}>" for m in MSGID.findall(first(parsed, "references")))
    in_reply_to = MSGID.search(first(parsed, "in-reply-to"))
    language = first(parsed, "content-language") or found.language
    try:
        content_type = msg.get_content_type()
    except Exception:  # noqa: BLE001 - a garbled Content-Type reads as the RFC default
        content_type = "text/plain"
    return ParsedMessage(
        message_id=message_id,
        synthetic_id=synthetic,
        subject=first(parsed, "subject"),
        from_name=senders[0][0] if senders else "",
        from_address=senders[0][1] if senders else "",
        to=tuple(addr for _, addr in addresses(parsed.get("to", [])) if "@" in addr),
        cc=tuple(addr for _, addr in addresses(parsed.get("cc", [])) if "@" in addr),
        reply_to=reply_to[0][1] if reply_to else None,
        date=parse_date(first(parsed, "date")),
        in_reply_to=f"<{in_reply_to.group(1)}>" if in_reply_to else None,
        references=references,
        content_language=language or None,
        content_type=content_type,
        text=text,
        html=html,
        new_text=new_text,
        quoted_text=quoted_text,
        attachments=tuple(found.attachments),
        headers=tuple(headers),
        defects=tuple(dict.fromkeys(defects)),
        content_hash=content_hash,
    )
