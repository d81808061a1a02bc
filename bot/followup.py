"""Follow-ups: recognising a message that answers one of our replies.

A message is a follow-up when its ``In-Reply-To`` or ``References`` name
the Message-ID of a reply we drafted, or, for mail clients that drop those
headers, when its subject (without ``Re:``/``RE:``/``AW:``...) and sender
match an inquiry of the last 60 days that we replied to. The draft for a
follow-up does not attach again the packets already sent in the
conversation, and a bare thank-you is recorded for staff, not answered.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.message import Conversation, ParsedMessage
from bot.store import Inquiry, Reply, ReplyState

SUBJECT_WINDOW = timedelta(days=60)
_PREFIX = re.compile(r"^\s*((re|r|aw|sv|vs|rv|res|enc|fw|fwd|wg|tr)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)

# Words that make up a bare thank-you, in the supported languages (accents folded).
_THANKS = re.compile(
    r"\b(thank(s| you)?|many thanks|much appreciated|appreciate it|cheers|gracias|muchas gracias|"
    r"mil gracias|se lo agradezco|te lo agradezco|obrigad[oa]|merci( beaucoup)?|grazie( mille)?|"
    r"danke( sch[oe]n)?|vielen dank)\b",
    re.IGNORECASE,
)
_FILLER = re.compile(
    r"\b(so|very|much|again|for|the|your|reply|help|info|information|all|everything|de|nuevo|por|la|"
    r"su|tu|respuesta|ayuda|informacion|todo|hello|hi|hola|dear|estimad[oa]s?|team|equipo|a|you|"
    r"lot|mucho|muchas|muchisimas|thankyou|buenos|dias|tardes|saludos|regards|best|kind|un|abrazo|"
    r"god|bless|dios|le|les|bendiga|ok|okay|vale|perfect|perfecto|great|genial|got|it|recibido|received)\b",
    re.IGNORECASE,
)

Lookup = Callable[[ParsedMessage], Conversation | None]


def base_subject(subject: str) -> str:
    """The subject without reply/forward prefixes, case-folded, for matching."""
    return " ".join(_PREFIX.sub("", subject or "").split()).casefold()


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def is_bare_thanks(msg: ParsedMessage) -> bool:
    """True when the new text says thank you and nothing else (no question, nothing new)."""
    text = _fold(msg.new_text or msg.text).strip()
    if not text or len(text) > 300 or "?" in text or not _THANKS.search(text):
        return False
    rest = _FILLER.sub(" ", _THANKS.sub(" ", text))
    # Whatever is left after thanks and filler should be a name or punctuation.
    return len(re.findall(r"[^\W\d_]{3,}", rest)) <= 3


def conversation_lookup(session: Session, now: datetime | None = None) -> Lookup:
    """A lookup finding the conversation a message belongs to, from the ledger."""

    def lookup(msg: ParsedMessage) -> Conversation | None:
        root, how = _by_headers(session, msg)
        if root is None:
            root, how = _by_subject(session, msg, now or datetime.now(UTC)), "subject"
        if root is None:
            return None
        return Conversation(root_id=root, packets_sent=_packets_sent(session, root), matched_by=how)

    return lookup


def _root(inquiry: Inquiry) -> int:
    return inquiry.conversation_id or inquiry.id


def _by_headers(session: Session, msg: ParsedMessage) -> tuple[int | None, str]:
    candidates = [("in-reply-to", msg.in_reply_to)] if msg.in_reply_to else []
    candidates += [("references", ref) for ref in reversed(msg.references)]
    for how, mid in candidates:
        reply = session.scalar(select(Reply).where(Reply.message_id == mid))
        if reply is not None:
            return _root(reply.inquiry), how
    return None, ""


def _by_subject(session: Session, msg: ParsedMessage, now: datetime) -> int | None:
    subject = base_subject(msg.subject)
    if not subject or not msg.from_address or subject == base_subject(""):
        return None
    rows = session.scalars(
        select(Inquiry)
        .join(Reply)
        .where(
            Inquiry.from_address == msg.from_address,
            Inquiry.received_at >= now - SUBJECT_WINDOW,
            Reply.state == ReplyState.SENT,
        )
        .order_by(Inquiry.id.desc())
    )
    for inquiry in rows:
        if base_subject(inquiry.subject) == subject:
            return _root(inquiry)
    return None


def _packets_sent(session: Session, root: int) -> tuple[str, ...]:
    sent = session.scalars(
        select(Reply.packets)
        .join(Inquiry)
        .where((Inquiry.id == root) | (Inquiry.conversation_id == root), Reply.state == ReplyState.SENT)
    )
    seen: dict[str, None] = {}
    for packets in sent:
        seen.update(dict.fromkeys(packets or []))
    return tuple(seen)
