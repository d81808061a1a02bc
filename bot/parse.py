"""Parse: raw inbound bytes to a :class:`~bot.message.ParsedMessage`.

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

from bot.fastaddress import address_header
from bot.htmltext import html_to_text
from bot.mailheaders import MSGID, addresses, first, message_id_of, parse_date, read_headers
from bot.message import ParsedMessage
from bot.mimebody import Body, walk_body
from bot.mimesplit import split_message
from bot.parse_error import MAX_DEPTH, POLICY, ParseError, load_message
from bot.quoting import split_quoted

__all__ = ["ParseError", "parse_message", "parse_message_reference"]

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


def parse_message(raw: bytes, *, max_bytes: int = 25_000_000, max_parts: int = 200) -> ParsedMessage:
    """Parse ``raw`` (the message exactly as fetched) into a ParsedMessage.

    Every field is filled; addresses are lower-cased; ``message_id`` always
    has angle brackets (a synthetic ``<hash@synthetic.invalid>`` when the mail
    has none). ``text`` is every plain body part joined (the HTML converted
    when there is none); ``attachments`` is every other leaf: files, inline
    pictures, forwarded messages (whole, as ``.eml``) and report parts such
    as ``message/delivery-status`` (which the screen looks for). Header
    values are decoded and on one line; ``content_language`` is the header's
    value as written (``es-ES``). ``defects`` name what was wrong, never the
    content. Raises :class:`ParseError` when the message is larger than
    ``max_bytes``, has more than ``max_parts`` MIME parts, nests deeper than
    the email package or this module can follow, or has no mail headers.
    """
    return _parse(raw, max_bytes, max_parts, fast=True)


def parse_message_reference(
    raw: bytes, *, max_bytes: int = 25_000_000, max_parts: int = 200
) -> ParsedMessage:
    """:func:`parse_message` through the email package's own parser only: slower, the same result.

    Kept as the reference the fast path is tested against (``tests/test_parse_fast.py``).
    """
    return _parse(raw, max_bytes, max_parts, fast=False)


def _parse(raw: bytes, max_bytes: int, max_parts: int, fast: bool) -> ParsedMessage:
    """parse_message; with ``fast`` false only the email package's parsers are used."""
    raw = bytes(raw)
    if len(raw) > max_bytes:
        raise ParseError(f"message is {len(raw)} bytes, over the {max_bytes}-byte limit")
    content_hash = hashlib.sha256(raw).hexdigest()
    if raw.startswith(_OLE_MAGIC):
        raise ParseError("an Outlook .msg file, not an RFC 822 email: save it as .eml")
    defects: list[str] = []
    # Plain address headers are read without the email package's header parser (the same result).
    address_reader = address_header if fast else POLICY.header_factory
    # Well-formed mail is split without the feed parser (the same tree); the rest goes through it.
    split = split_message(raw, max_parts, MAX_DEPTH) if fast else None
    if split is not None:
        items, msg = split
        headers, parsed = read_headers(items, defects, address_reader)
        if _MAIL_HEADERS.isdisjoint(parsed):  # parsed is by lower-case header name
            return _parse(raw, max_bytes, max_parts, fast=False)  # obsolete syntax, or not mail
    else:
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
