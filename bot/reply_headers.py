"""Reply headers from inquiry values: subject, address, name and threading, none able to inject.

Everything taken from an inquiry is cleaned of control and line-separator
characters before it reaches a header, and addresses are taken only from
their parsed form, so a hostile subject or From cannot add a header; the
lines are written by :mod:`bot.mimewrite`, which refuses a line break anyway.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from email.utils import format_datetime, getaddresses
from functools import lru_cache
from typing import Any

from bot.config import Config
from bot.message import Triage
from bot.mimewrite import address, literal, unstructured

MAX_REFERENCES = 10
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|antw|ref|rif)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*)+", re.I)
_ADDRESS = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
_MSGID = re.compile(r"^<[^<>\s]+>$")


def clean_header_text(value: str | None, limit: int = 200) -> str:
    """``value`` safe for a header: control and line-separator characters become spaces.

    Whitespace runs become single spaces, the ends are stripped, and the result is cut to ``limit``.
    """
    if value and value.isascii() and value.isprintable():  # no control character: only the spacing to do
        return " ".join(value.split())[:limit]
    chars = (" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in value or "")
    return " ".join("".join(chars).split())[:limit]


def reply_subject(original: str, prefix: str, default: str) -> str:
    """``prefix`` + the original subject, without doubling a reply prefix (Re:, RE:, AW: ...)."""
    subject = _REPLY_PREFIX.sub("", clean_header_text(original))
    return f"{prefix} {subject or clean_header_text(default)}".strip()


def reply_address(triage: Triage, config: Config) -> str:
    """The inquiry's Reply-To, else its From, as a plain ASCII address that is not ours.

    Only the parsed address is used, never header text: a display name, a
    second address or an address needing SMTPUTF8 is refused here.
    """
    for candidate in (triage.message.reply_to, triage.message.from_address):
        value = clean_header_text(candidate, 320)
        if _ADDRESS.match(value):  # a bare address (the usual From): getaddresses would return it as is
            addr = value
        else:
            pairs = getaddresses([value]) if value else []
            addr = pairs[0][1].strip() if len(pairs) == 1 else ""
        if _ADDRESS.match(addr) and addr.lower() not in config.own_addresses():
            return addr
    raise ValueError("the inquiry has no plain address to reply to: a person should answer it")


def sender_name(raw: str) -> str:
    """The sender's display name for the greeting, or "" when it is missing or an address."""
    name = clean_header_text(raw, 80).strip(" \"'")
    return "" if "@" in name else name


def threading_headers(triage: Triage) -> tuple[str | None, list[str]]:
    """In-Reply-To and References; none when the inquiry's Message-ID was made up by us."""
    msg = triage.message
    parent = clean_header_text(msg.message_id, 998)
    if msg.synthetic_id or not _MSGID.match(parent):
        return None, []
    refs = [r for r in (clean_header_text(x, 998) for x in msg.references) if _MSGID.match(r)]
    refs = list(dict.fromkeys([*refs, parent]))
    if len(refs) > MAX_REFERENCES:  # keep the thread's root, as RFC 5322 suggests when trimming
        refs = [refs[0], *refs[-(MAX_REFERENCES - 1) :]]
    return parent, refs


@lru_cache(maxsize=4)
def _date(now: datetime) -> str:
    # A batch of replies shares its ``now``: the line is made once for all of them.
    return literal("Date", format_datetime(now.replace(tzinfo=UTC) if now.tzinfo is None else now))


def header_lines(triage: Triage, config: Config, draft: dict[str, Any], now: datetime) -> str:
    """The reply's own header lines, each ending in CRLF, in the order the email package wrote them.

    ``draft`` gives to_address, subject and message_id;
    :func:`bot.mimeout.reply_bytes` adds the MIME headers after these.
    Raises :class:`bot.mimewrite.HeaderInjection` (a ``ValueError``) for a
    value that still holds a line break or control character.
    """
    org = config.organisation
    lines = [
        address("From", clean_header_text(org.reply_name), org.address),
        literal("To", draft["to_address"]),
        unstructured("Subject", draft["subject"]),
        _date(now),
        literal("Message-ID", draft["message_id"]),
    ]
    parent, refs = threading_headers(triage)
    if parent:  # ids as they are (a non-ASCII one as an encoded word, as before)
        lines += [unstructured("In-Reply-To", parent), unstructured("References", " ".join(refs))]
    lines.append("Auto-Submitted: auto-replied\r\n")  # RFC 3834: other robots must not answer us
    lines.append("X-Auto-Response-Suppress: All\r\n")  # the same, for Exchange
    return "".join(lines)
