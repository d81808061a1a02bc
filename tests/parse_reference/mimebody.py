"""Finding the text of a message in its MIME tree, and its attachments.

The standard body search finds nothing in about one message in thirty of
real mail: text inside a forwarded message, a text part marked as an
attachment, a bounce's text inside its delivery-status part, a multipart
whose boundary is wrong. :func:`walk_body` looks in all of those.
"""

from __future__ import annotations

import email
import mimetypes
import re
from dataclasses import dataclass, field
from email.message import Message
from typing import NamedTuple

from bot.message import Attachment
from bot.parse_error import MAX_DEPTH, ParseError, load_message
from tests.parse_reference.charsets import decode_bytes
from tests.parse_reference.mailheaders import HEADER_JUNK, decode_words, fix_text

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
class Body:
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
        if depth > MAX_DEPTH:
            raise ParseError(f"MIME parts nest more than {MAX_DEPTH} deep")
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


def _text_of(leaf: _Leaf, body: Body) -> str:
    """The decoded text of a leaf (a report's field blocks joined as header lines)."""
    part = leaf.part
    payload = part.get_payload()
    if isinstance(payload, list):
        blocks = [m for m in payload if isinstance(m, Message)]
        return "\n\n".join("\n".join(f"{k}: {fix_text(str(v))}" for k, v in b.raw_items()) for b in blocks)
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
    text, note = decode_bytes(data, charset)
    if note:
        body.defects.append(note)
    return text


def _is_attachment(part: Message) -> bool:
    try:
        return bool(part.is_attachment() or part.get_filename())
    except Exception:  # noqa: BLE001 - a garbled Content-Disposition: treat as an attachment
        return True


def _attachment(leaf: _Leaf, number: int, body: Body) -> Attachment:
    part, ctype = leaf.part, leaf.ctype
    try:
        name = str(part.get_filename() or "")
    except Exception:  # noqa: BLE001
        name = ""
    # Never trust a path in a name: only the last component, no control characters.
    name = HEADER_JUNK.sub("", re.split(r"[\\/]", decode_words(fix_text(name)))[-1]).strip(" .")[:200]
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
    return load_message(head + raw)


def walk_body(msg: Message, max_parts: int, body: Body, depth: int = 0) -> None:
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


def _fallback_text(leaves: list[_Leaf], max_parts: int, body: Body, depth: int) -> None:
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
                    walk_body(fixed, max_parts, body, depth + 1)
                    if body.plain or body.html is not None:
                        return
                body.plain.append(_text_of(leaf, body))
            elif kind == "text/html":
                body.html = _text_of(leaf, body)
            else:
                body.plain.append(_text_of(leaf, body))
            return
