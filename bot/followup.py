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
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

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


def conversation_key(msg: ParsedMessage) -> tuple[object, ...]:
    """What decides a message's conversation: two messages with the same key follow up the same one."""
    return (msg.in_reply_to, tuple(msg.references), base_subject(msg.subject), msg.from_address)


def find_conversations(
    session: Session, msgs: Sequence[ParsedMessage], now: datetime
) -> dict[tuple[object, ...], Conversation]:
    """The conversation each of ``msgs`` follows up, keyed by :func:`conversation_key`; absent when none.

    A batch costs at most three queries however many messages it holds: the
    replies its headers name, the senders' answered inquiries of the last
    ``SUBJECT_WINDOW``, and the packets already sent in the conversations found.
    """
    roots: dict[tuple[object, ...], tuple[int, str]] = {}
    by_mid = _roots_by_message_id(session, {mid for msg in msgs for _, mid in _candidates(msg)})
    by_subject: list[ParsedMessage] = []
    for msg in msgs:
        found = next(((by_mid[mid], how) for how, mid in _candidates(msg) if mid in by_mid), None)
        if found is not None:
            roots[conversation_key(msg)] = found
        elif base_subject(msg.subject) and msg.from_address:
            by_subject.append(msg)
    answered = _answered_subjects(session, {msg.from_address for msg in by_subject}, now)
    for msg in by_subject:
        subject = base_subject(msg.subject)
        root = next((r for s, r in answered.get(msg.from_address, ()) if s == subject), None)
        if root is not None:
            roots[conversation_key(msg)] = (root, "subject")
    sent = _packets_sent(session, {root for root, _ in roots.values()})
    return {
        key: Conversation(root_id=root, packets_sent=sent.get(root, ()), matched_by=how)
        for key, (root, how) in roots.items()
    }


def _candidates(msg: ParsedMessage) -> list[tuple[str, str]]:
    found = [("in-reply-to", msg.in_reply_to)] if msg.in_reply_to else []
    return found + [("references", ref) for ref in reversed(msg.references)]


def _roots_by_message_id(session: Session, mids: set[str]) -> dict[str, int]:
    if not mids:
        return {}
    rows = session.execute(
        select(Reply.message_id, Inquiry.conversation_id, Inquiry.id)
        .join(Inquiry, Reply.inquiry_id == Inquiry.id)
        .where(Reply.message_id.in_(mids))
    )
    return {mid: conversation or inquiry for mid, conversation, inquiry in rows}


def _answered_subjects(
    session: Session, senders: set[str], now: datetime
) -> dict[str, list[tuple[str, int]]]:
    """Per sender, newest first: (base subject, conversation root) of inquiries we sent a reply to."""
    if not senders:
        return {}
    # "Sent" is checked here, not in WHERE: given it, SQLite chose the reply state index and read
    # every sent reply in the ledger for each batch, instead of these senders' few rows.
    rows = session.execute(
        select(Inquiry.from_address, Inquiry.subject, Inquiry.conversation_id, Inquiry.id, Reply.state)
        .join(Reply, Reply.inquiry_id == Inquiry.id)
        .where(Inquiry.from_address.in_(senders), Inquiry.received_at >= now - SUBJECT_WINDOW)
        .order_by(Inquiry.id.desc())
    )
    out: dict[str, list[tuple[str, int]]] = {}
    for sender, subject, conversation, inquiry, state in rows:
        if state == ReplyState.SENT:
            out.setdefault(sender, []).append((base_subject(subject), conversation or inquiry))
    return out


def _packets_sent(session: Session, roots: set[int]) -> dict[int, tuple[str, ...]]:
    """Per conversation root, the packets its sent replies carried, in the order first sent."""
    if not roots:
        return {}
    rows = session.execute(
        select(Inquiry.id, Inquiry.conversation_id, Reply.packets)
        .join(Inquiry, Reply.inquiry_id == Inquiry.id)
        .where(
            Inquiry.id.in_(roots) | Inquiry.conversation_id.in_(roots),
            Reply.state == ReplyState.SENT,
        )
        .order_by(Reply.id)
    )
    seen: dict[int, dict[str, None]] = {}
    for inquiry, conversation, packets in rows:
        # A row can belong to two roots' conversations only if it is one root and names another.
        for root in {inquiry, conversation} & roots:
            seen.setdefault(root, {}).update(dict.fromkeys(packets or []))
    return {root: tuple(packets) for root, packets in seen.items()}
