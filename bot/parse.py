"""Parse: raw inbound bytes to a :class:`~bot.message.ParsedMessage`.

The one public entry is :func:`parse_message`. Inbound mail is hostile and
often broken, so everything that can be read is read and everything else is
noted in ``defects``: bad headers never raise, unknown or wrong charsets are
decoded by guessing (UTF-8, then Windows-1252), and when the standard body
search finds nothing the text is looked for in forwarded messages, parts
marked as attachments, delivery-status reports and multiparts whose boundary
is broken. Only what truly cannot be handled raises :class:`ParseError`, and
the caller quarantines the message with its reason. Nothing here logs.
"""

from __future__ import annotations

import binascii
import codecs
import email
import email.policy
import email.quoprimime
import email.utils
import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from typing import NamedTuple

from bot.htmltext import html_to_text
from bot.message import Attachment, ParsedMessage
from bot.quoting import split_quoted

__all__ = ["ParseError", "parse_message"]

_POLICY = email.policy.default
_MAX_DEPTH = 30  # nested multiparts and forwards; real mail stays far below
# Headers that any mail has; a file with none of them is not an email.
_MAIL_HEADERS = frozenset(
    {"from", "to", "subject", "date", "message-id", "received", "return-path", "sender", "mime-version",
     "content-type", "cc", "reply-to", "delivered-to"}
)  # fmt: skip
_BARE_ADDRESS = re.compile(r"[^\s<>\"'(),;:@]+@[^\s<>\"'(),;:@]+")
_MSGID = re.compile(r"<([^<>\s]{1,900})>")
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,80})\?([qQbB])\?([^?\s]*)\?=")
_EW = r"=\?[^?\s]{1,80}\?[qQbB]\?[^?\s]*\?="
_EW_RUN = re.compile(rf"{_EW}(?:[ \t\r\n]+{_EW})*")
# Only address headers need the email package's (slow) structured parse.
_ADDRESS_HEADERS = frozenset({"from", "sender", "to", "cc", "bcc", "reply-to", "resent-from", "resent-to"})
_FOLD = re.compile(r"\r?\n(?=[ \t])|\r?\n$")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_ESCAPED_RUN = re.compile(r"[\ud800-\udfff]+")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a Compound File: Outlook's .msg
_OBS_COLON = re.compile(rb"^([!-9;-~]{1,76})[ \t]+:", re.MULTILINE)
_HEADER_JUNK = re.compile(r"[\x00-\x1f\x7f]+")
_TEXT_JUNK = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff]")


class ParseError(Exception):
    """Mail that cannot be handled at all; ``reason`` says why in plain words."""

    def __init__(self, reason: str = "", stage: str = "parse") -> None:
        super().__init__(reason)
        self.stage = stage
        self.reason = reason


def _decode_words(value: str, *, structured: bool = False) -> str:
    """Decode runs of RFC 2047 encoded words, guessing bad charsets.

    Python decodes each word alone with its declared charset; a character
    split over two words, a Windows-1252 word labelled ISO-8859-1 or an
    ``X-UNKNOWN`` word would come out as replacement characters. For a
    ``structured`` (address) header each run becomes one UTF-8 encoded word
    instead, so that a decoded "<" or "," cannot change the addresses.
    """

    def run(match: re.Match[str]) -> str:
        words = _ENCODED_WORD.findall(match.group(0))
        out, chunk, charset = [], b"", None
        for cs, enc, data in words:
            cs = cs.split("*", 1)[0].lower()
            raw = _ew_bytes(enc, data)
            if charset is not None and cs != charset:
                out.append(_decode_bytes(chunk, charset)[0])
                chunk = b""
            chunk, charset = chunk + raw, cs
        out.append(_decode_bytes(chunk, charset)[0])
        text = "".join(out)
        if not structured:
            return text
        return "=?utf-8?b?" + binascii.b2a_base64(text.encode(), newline=False).decode() + "?="

    return _EW_RUN.sub(run, value) if "=?" in value else value


def _ew_bytes(enc: str, data: str) -> bytes:
    if enc in "bB":
        try:
            return binascii.a2b_base64(data + "=" * (-len(data) % 4))
        except binascii.Error:
            return data.encode("ascii", "replace")
    return email.quoprimime.header_decode(data).encode("latin-1", "replace")


def _fix_text(value: str) -> str:
    """Undo surrogate escapes (raw 8-bit bytes in headers) by decoding them as mail text.

    Each run of 8-bit bytes is read on its own (UTF-8, else Windows-1252),
    because one header may hold words pasted from differently encoded sources.
    """
    if not _SURROGATES.search(value):
        return value
    return _ESCAPED_RUN.sub(_decode_run, value)


def _decode_run(match: re.Match[str]) -> str:
    try:
        return _decode_bytes(match.group().encode("utf-8", "surrogateescape"), None)[0]
    except UnicodeEncodeError:  # lone surrogates that were never bytes
        return "\ufffd" * len(match.group())


def _cp1252_controls(value: str) -> str:
    # C1 controls never occur in real text: they are Windows-1252 read as ISO-8859-1.
    return re.sub(r"[\x80-\x9f]", lambda m: m.group().encode("latin-1").decode("cp1252", "replace"), value)


# By lower-case name: (parsed address header or None, value as decoded, clean one-line value).
_Parsed = dict[str, list[tuple[object | None, str, str]]]


def _headers(msg: Message, defects: list[str]) -> tuple[list[tuple[str, str]], _Parsed]:
    """Every header as (name, clean value), and every header by lower-case name."""
    pairs: list[tuple[str, str]] = []
    parsed: _Parsed = {}
    for name, raw in msg.raw_items():
        name = _HEADER_JUNK.sub("", _fix_text(str(name)))[:200]
        structured = name.lower() in _ADDRESS_HEADERS
        unfolded = _FOLD.sub("", str(raw))
        value = _decode_words(_fix_text(unfolded), structured=structured)
        header: object | None = None
        text = value
        if structured:
            try:
                header = _POLICY.header_factory(name, value)
                text = str(header)
                defects.extend(f"{name}: {type(d).__name__}" for d in header.defects)
            except Exception:  # noqa: BLE001 - a header the email package cannot parse is kept raw
                header = None
                defects.append(f"{name}: unparseable")
        text = " ".join(_HEADER_JUNK.sub(" ", _cp1252_controls(_fix_text(text))).split())
        pairs.append((name, text))
        parsed.setdefault(name.lower(), []).append((header, value, text))
    return pairs, parsed


def _addresses(values: list[tuple[object | None, str, str]]) -> list[tuple[str, str]]:
    """(display name, lower-cased address) for every address in the headers ``values``."""
    found: list[tuple[str, str]] = []
    for header, value, _ in values:
        try:
            addrs = [(a.display_name, a.addr_spec) for a in header.addresses]  # type: ignore[union-attr]
        except Exception:  # noqa: BLE001 - unparsable: fall back to the lenient parser
            addrs = []
        lenient = [(_decode_words(n), a) for n, a in email.utils.getaddresses([value])]
        if not any(addr for _, addr in addrs):
            addrs = lenient
        elif not any(name for name, _ in addrs):
            # The old comment form, "MAILER-DAEMON@host (Mail Delivery System)", names only there.
            names = {addr.lower(): name for name, addr in lenient}
            addrs = [(names.get(addr.lower(), ""), addr) for _, addr in addrs]
        if not any("@" in addr for _, addr in addrs):
            # Last resort for escaped or garbled forms ("<Postmaster\\@host@relay>").
            bare = _BARE_ADDRESS.search(value.replace("\\", ""))
            addrs = [("", bare.group(0))] if bare else addrs
        for name, addr in addrs:
            addr = addr.strip().strip("<>").lower()
            if addr and not any(c.isspace() for c in addr):
                found.append((" ".join(str(name).split()), addr))
    return found


def _first(parsed: _Parsed, name: str) -> str:
    values = parsed.get(name)
    return values[0][2] if values else ""


def _message_id(value: str, content_hash: str) -> tuple[str, bool]:
    match = _MSGID.search(value)
    if match:
        return f"<{match.group(1)}>", False
    bare = value.strip()
    if bare and "@" in bare and " " not in bare and len(bare) < 900:
        return f"<{bare.strip('<>')}>", False
    return f"<{content_hash[:32]}@synthetic.invalid>", True


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def _clean(text: str) -> str:
    return _TEXT_JUNK.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


# -- charsets ---------------------------------------------------------------

# Labels that say little: mail marked with them is often really UTF-8 or Windows-1252.
_LOOSE = frozenset(
    {"", "us-ascii", "ascii", "iso-8859-1", "iso8859-1", "latin-1", "latin1", "windows-1252", "cp1252",
     "x-unknown", "unknown-8bit", "unknown", "default", "x-user-defined", "8bit", "none", "charset"}
)  # fmt: skip
_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "ks_c_5601-1987": "cp949", "euc-kr": "cp949",
    "iso-8859-8-i": "iso-8859-8", "shift_jis": "cp932", "x-sjis": "cp932", "sjis": "cp932",
    "big5": "big5hkscs", "iso-2022-jp": "iso2022_jp_2", "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman", "windows-874": "cp874", "tis-620": "cp874", "unicode-1-1-utf-7": "utf-7",
}  # fmt: skip
_LATIN = frozenset({"iso-8859-1", "iso8859-1", "latin-1", "latin1", "windows-1252", "cp1252"})
# Encodings whose bytes a UTF-8 check says nothing about: trust their label first.
_WIDE = ("utf-16", "utf_16", "utf-32", "utf_32", "utf-7", "utf_7", "iso2022", "cp932", "euc", "gb", "big5",
         "cp949", "cp950", "hz", "johab", "shift")  # fmt: skip
_ESCAPE_CODECS = frozenset({"unicode_escape", "raw_unicode_escape", "undefined", "idna", "punycode"})


def _codec(label: str | None) -> str | None:
    """A text codec for a declared charset, or None for missing, loose or unknown labels."""
    name = (label or "").strip().strip("\"'").lower()
    name = _ALIASES.get(name, name)
    if name in _LOOSE or not re.fullmatch(r"[a-z0-9][a-z0-9_.:-]{0,40}", name):
        return None
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    ok = info._is_text_encoding and info.name not in _ESCAPE_CODECS  # type: ignore[attr-defined]
    return info.name if ok else None


def _decode_bytes(data: bytes, declared: str | None) -> tuple[str, str | None]:
    """Text for ``data`` and a note when the declared charset was wrong or unknown.

    Loose or unknown labels are read as ASCII, else UTF-8 when the bytes are
    valid UTF-8, else Windows-1252 (the superset ISO-8859-1 mail really is).
    A declared charset the bytes do not fit is overridden the same way.
    """
    codec = _codec(declared)
    label = (declared or "").strip().lower()[:40]
    if codec and codec.startswith(_WIDE):
        try:
            return data.decode(codec), None
        except UnicodeDecodeError:
            pass
    if data.isascii() and not codec or codec in ("ascii", "utf-8"):
        try:
            return data.decode("ascii" if data.isascii() else "utf-8"), None
        except UnicodeDecodeError:
            pass
    try:
        text = data.decode("utf-8")
        return text, (f"charset {label or 'missing'} read as utf-8" if codec != "utf-8" else None)
    except UnicodeDecodeError:
        pass
    if codec and codec != "utf-8":
        try:
            return data.decode(codec), None
        except UnicodeDecodeError:
            pass
    loose = data.decode("utf-8", "replace")
    if codec == "utf-8" and any(ch > "\x7f" and ch != "\ufffd" for ch in loose):
        return loose, "invalid utf-8 bytes replaced"
    # A Latin label read as Windows-1252 is the usual reading, not worth a note.
    note = None if label in _LATIN else f"charset {label or 'missing'} read as windows-1252"
    try:
        return data.decode("cp1252"), note
    except UnicodeDecodeError:  # the five bytes Windows-1252 leaves undefined
        return data.decode("latin-1"), note


# -- the MIME tree ----------------------------------------------------------

_REPORTS = frozenset({"delivery-status", "global-delivery-status", "disposition-notification",
                      "feedback-report", "global-disposition-notification"})  # fmt: skip
_BOUNDARY = re.compile(rb"^--([^\s]{1,200})\r?\n(?=[A-Za-z-]+:)", re.MULTILINE)


class _Leaf(NamedTuple):
    """A part with no parts of its own (or a forward, listed whole), where it sits in the tree."""

    part: Message
    ctype: str
    parent: str  # the enclosing multipart's subtype
    parent_no: int  # which multipart encloses it
    forwarded: bool  # inside a message/rfc822: read for text only when nothing else has any


@dataclass
class _Body:
    """What the MIME walk found: text, HTML, attachments, notes."""

    plain: list[str] = field(default_factory=list)
    html: str | None = None
    language: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)


def _ctype(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:  # noqa: BLE001 - a garbled Content-Type reads as the RFC default
        return "text/plain"


def _leaves(msg: Message, max_parts: int) -> list[_Leaf]:
    """Every leaf in document order; raises ParseError past ``max_parts`` parts or too deep."""
    out: list[_Leaf] = []
    stack: list[tuple[Message, int, str, int, bool]] = [(msg, 0, "", -1, False)]
    seen = 0
    while stack:  # iterative: a hostile nesting depth must not exhaust the Python stack
        part, depth, parent, parent_no, forwarded = stack.pop()
        seen += 1
        if seen > max_parts:
            raise ParseError(f"more than {max_parts} MIME parts")
        if depth > _MAX_DEPTH:
            raise ParseError(f"MIME parts nest more than {_MAX_DEPTH} deep")
        ctype = _ctype(part)
        main, _, sub = ctype.partition("/")
        children = part.get_payload() if part.is_multipart() else None
        leaf = _Leaf(part, ctype, parent, parent_no, forwarded)
        if not isinstance(children, list) or (main == "message" and sub in _REPORTS):
            out.append(leaf)
            continue
        if main == "message":  # a forward: listed whole, then its insides for text only
            out.append(leaf)
        inside = forwarded or main == "message"
        stack.extend((c, depth + 1, sub, seen, inside) for c in reversed(children) if isinstance(c, Message))
    return out


def _text_of(leaf: _Leaf, body: _Body) -> str:
    """The decoded text of a leaf (a report's field blocks joined as header lines)."""
    part = leaf.part
    payload = part.get_payload()
    if isinstance(payload, list):
        blocks = [m for m in payload if isinstance(m, Message)]
        return "\n\n".join("\n".join(f"{k}: {_fix_text(str(v))}" for k, v in b.raw_items()) for b in blocks)
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - undecodable transfer encoding: read it as it came
        data = None
    if not isinstance(data, bytes):
        data = str(payload).encode("utf-8", "surrogateescape")
    try:
        charset = part.get_content_charset()
    except Exception:  # noqa: BLE001
        charset = None
    if charset is None and leaf.ctype == "text/html":
        meta = re.search(rb"charset=[\"']?([\w.:-]{1,40})", data[:4096], re.IGNORECASE)
        charset = meta.group(1).decode("ascii") if meta else None
    text, note = _decode_bytes(data, charset)
    if note:
        body.defects.append(note)
    return text


def _is_attachment(part: Message) -> bool:
    try:
        return bool(part.is_attachment() or part.get_filename())
    except Exception:  # noqa: BLE001 - a garbled Content-Disposition: treat as an attachment
        return True


def _attachment(leaf: _Leaf, number: int, body: _Body) -> Attachment:
    part, ctype = leaf.part, leaf.ctype
    try:
        name = str(part.get_filename() or "")
    except Exception:  # noqa: BLE001
        name = ""
    # Never trust a path in a name: only the last component, no control characters.
    name = _HEADER_JUNK.sub("", re.split(r"[\\/]", _decode_words(_fix_text(name)))[-1]).strip(" .")[:200]
    if not name:
        readable = ctype.startswith(("text/", "message/"))
        ext = mimetypes.guess_extension(ctype) or (".txt" if readable else ".bin")
        ext = ".eml" if ctype == "message/rfc822" else ext
        name = f"part-{number}{ext}"
    payload = part.get_payload()
    try:
        if ctype == "message/rfc822" and isinstance(payload, list) and payload:
            data = payload[0].as_bytes(policy=email.policy.compat32)
        elif ctype.startswith("message/"):
            data = _text_of(leaf, body).encode()
        else:
            data = part.get_payload(decode=True) or b""
    except Exception:  # noqa: BLE001 - an unreadable part is kept, empty, so staff see it was there
        data = b""
    return Attachment(name, ctype, data if isinstance(data, bytes) else b"")


def _reparse(part: Message) -> Message | None:
    """A multipart whose declared boundary never occurs, parsed with the boundary it really uses."""
    raw = str(part.get_payload()).encode("utf-8", "surrogateescape")
    match = _BOUNDARY.search(raw)
    if not match:
        return None
    boundary = match.group(1).decode("ascii", "replace").replace('"', "")
    head = f'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="{boundary}"\n\n'.encode()
    return _message(head + raw)


def _walk_body(msg: Message, max_parts: int, body: _Body, depth: int = 0) -> None:
    """Fill ``body`` from ``msg``: its body text, HTML and attachments."""
    leaves = _leaves(msg, max_parts)
    used: set[int] = set()
    alternatives: set[int] = set()
    for n, leaf in enumerate(leaves):
        if leaf.forwarded or leaf.ctype not in ("text/plain", "text/html") or _is_attachment(leaf.part):
            continue
        if leaf.ctype == "text/html":
            if body.html is None:
                body.html = _text_of(leaf, body)
                used.add(n)
            continue
        # Of alternatives only the first plain part; in a mixed body every plain part counts
        # (Apple Mail splits the text around an inline picture).
        if leaf.parent == "alternative" and leaf.parent_no in alternatives:
            continue
        alternatives.add(leaf.parent_no)
        body.plain.append(_text_of(leaf, body))
        used.add(n)
        body.language = body.language or (str(leaf.part.get("content-language") or "") or None)
    for n, leaf in enumerate(leaves):
        body.defects.extend(type(d).__name__ for d in getattr(leaf.part, "defects", ()))
        if n in used or leaf.forwarded or leaf.ctype.startswith("multipart/"):
            continue
        if not leaf.ctype.startswith("text/") or _is_attachment(leaf.part):
            body.attachments.append(_attachment(leaf, n, body))
    if not body.plain and body.html is None:
        _fallback_text(leaves, max_parts, body, depth)


def _fallback_text(leaves: list[_Leaf], max_parts: int, body: _Body, depth: int) -> None:
    """Text from wherever it is when no body part held any.

    In order: a plain part anywhere (inside a forward, or marked as an
    attachment), an HTML part, any other text, a delivery-status report, and
    last a multipart whose boundary is broken, parsed again with the
    boundary it really uses (or read as it came).
    """
    for kind in ("text/plain", "text/html", "text/", "message/", "multipart/"):
        for leaf in leaves:
            if not leaf.ctype.startswith(kind) or leaf.ctype == "message/rfc822":
                continue
            if kind == "multipart/":
                fixed = _reparse(leaf.part) if depth < 2 else None
                if fixed is not None:
                    body.defects.append("boundary guessed")
                    _walk_body(fixed, max_parts, body, depth + 1)
                    if body.plain or body.html is not None:
                        return
                body.plain.append(_text_of(leaf, body))
            elif kind == "text/html":
                body.html = _text_of(leaf, body)
            else:
                body.plain.append(_text_of(leaf, body))
            return


def _message(raw: bytes) -> Message:
    try:
        return email.message_from_bytes(raw, policy=_POLICY)
    except RecursionError:
        raise ParseError("MIME parts nest too deeply to parse") from None


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
    raw = bytes(raw)
    if len(raw) > max_bytes:
        raise ParseError(f"message is {len(raw)} bytes, over the {max_bytes}-byte limit")
    content_hash = hashlib.sha256(raw).hexdigest()
    if raw.startswith(_OLE_MAGIC):
        raise ParseError("an Outlook .msg file, not an RFC 822 email: save it as .eml")
    defects: list[str] = []
    msg = _message(raw)
    headers, parsed = _headers(msg, defects)
    if not any(name.lower() in _MAIL_HEADERS for name, _ in headers):
        # RFC 822's obsolete syntax allows space before the colon ("Subject : hi").
        head, sep, body = raw.partition(b"\n\n") if b"\r\n\r\n" not in raw else raw.partition(b"\r\n\r\n")
        fixed = _OBS_COLON.sub(rb"\1:", head)
        if fixed != head:
            msg = _message(fixed + sep + body)
            defects = ["obsolete header syntax"]
            headers, parsed = _headers(msg, defects)
    if not any(name.lower() in _MAIL_HEADERS for name, _ in headers):
        raise ParseError("no mail headers: this is not an email")
    found = _Body()
    try:
        _walk_body(msg, max_parts, found)
    except RecursionError:
        raise ParseError("MIME parts nest too deeply to parse") from None
    defects.extend(found.defects)
    text = _clean("\n\n".join(t.strip("\r\n") for t in found.plain))
    html = found.html.replace("\x00", "") if found.html is not None else None
    if not text.strip() and html:
        text = _clean(html_to_text(html))
    new_text, quoted_text = split_quoted(text)
    senders = _addresses(parsed.get("from", []) or parsed.get("sender", []))
    reply_to = _addresses(parsed.get("reply-to", []))
    message_id, synthetic = _message_id(_first(parsed, "message-id"), content_hash)
    references = tuple(f"<{m}>" for m in _MSGID.findall(_first(parsed, "references")))
    in_reply_to = _MSGID.search(_first(parsed, "in-reply-to"))
    language = _first(parsed, "content-language") or found.language
    try:
        content_type = msg.get_content_type()
    except Exception:  # noqa: BLE001 - a garbled Content-Type reads as the RFC default
        content_type = "text/plain"
    return ParsedMessage(
        message_id=message_id,
        synthetic_id=synthetic,
        subject=_first(parsed, "subject"),
        from_name=senders[0][0] if senders else "",
        from_address=senders[0][1] if senders else "",
        to=tuple(addr for _, addr in _addresses(parsed.get("to", [])) if "@" in addr),
        cc=tuple(addr for _, addr in _addresses(parsed.get("cc", [])) if "@" in addr),
        reply_to=reply_to[0][1] if reply_to else None,
        date=_date(_first(parsed, "date")),
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
