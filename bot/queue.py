"""The staff's queue: what waits for a person, and the actions on it.

Shared by the command line and the web app, so both apply the same rules:
urgent first, then oldest first; a reply is sent only after a person
approves it (or its topic's approval policy is ``auto``); every action is
written to the audit log with who did it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.store import OPEN_STATES, AuditEntry, Inquiry, InquiryState, Reply, ReplyState


class QueueError(Exception):
    """The action does not apply to this item (wrong state, unknown id)."""


@dataclass(frozen=True)
class QueueItem:
    """One inquiry as the queue shows it."""

    id: int
    state: str
    message_id: str
    language: str | None
    topics: tuple[str, ...]
    action: str
    urgent: bool
    subject: str
    received_at: datetime
    reply_state: str | None

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "state": self.state,
            "message_id": self.message_id,
            "language": self.language,
            "topics": list(self.topics),
            "action": self.action,
            "urgent": self.urgent,
            "subject": self.subject,
            "received_at": self.received_at.isoformat(),
            "reply_state": self.reply_state,
        }


def latest_reply(inquiry: Inquiry) -> Reply | None:
    return inquiry.replies[-1] if inquiry.replies else None


def _item(inq: Inquiry) -> QueueItem:
    reply = latest_reply(inq)
    return QueueItem(
        id=inq.id,
        state=inq.state,
        message_id=inq.message_id,
        language=inq.language,
        topics=tuple(inq.topics or ()),
        action=inq.action,
        urgent=inq.urgent,
        subject=inq.subject,
        received_at=inq.received_at,
        reply_state=reply.state if reply else None,
    )


def list_items(
    session: Session, states: tuple[str, ...] | None = OPEN_STATES, limit: int = 100, offset: int = 0
) -> list[QueueItem]:
    """Queue items in ``states`` (None: every state), urgent first, then oldest first."""
    query = select(Inquiry).order_by(Inquiry.urgent.desc(), Inquiry.received_at, Inquiry.id)
    if states is not None:
        query = query.where(Inquiry.state.in_([str(s) for s in states]))
    return [_item(i) for i in session.scalars(query.limit(limit).offset(offset))]


def get(session: Session, inquiry_id: int) -> Inquiry:
    """The inquiry with this id; raises :class:`QueueError` when there is none."""
    inq = session.get(Inquiry, inquiry_id)
    if inq is None:
        raise QueueError(f"no inquiry with id {inquiry_id}")
    return inq


def audit(session: Session, actor: str, inquiry: Inquiry | None, action: str, **detail: object) -> None:
    """Record who did what; the detail must not hold message bodies or addresses."""
    session.add(
        AuditEntry(actor=actor, inquiry_id=inquiry.id if inquiry else None, action=action, detail=detail)
    )


def approve(session: Session, inquiry_id: int, actor: str) -> Reply:
    """Approve the drafted reply of an inquiry; the outbox sends it."""
    inq = get(session, inquiry_id)
    reply = latest_reply(inq)
    if reply is None or reply.state != ReplyState.DRAFT:
        raise QueueError(f"inquiry {inquiry_id} has no draft waiting for approval (state {inq.state})")
    if inq.state not in (InquiryState.DRAFTED, InquiryState.ESCALATED):
        raise QueueError(
            f"inquiry {inquiry_id} is {inq.state}; only drafted or escalated items can be approved"
        )
    # Conditional: two people approving (or one approving while another edits) at once
    # must not both win; the loser sees the item has moved on.
    won = session.execute(
        update(Reply)
        .where(Reply.id == reply.id, Reply.state == ReplyState.DRAFT)
        .values(state=ReplyState.APPROVED.value, approved_by=actor, approved_at=datetime.now(UTC))
    )
    if won.rowcount != 1:
        raise QueueError(f"inquiry {inquiry_id}'s draft changed while you were approving it; read it again")
    session.refresh(reply)
    inq.state = InquiryState.APPROVED.value
    audit(session, actor, inq, "approve", reply_id=reply.id)
    return reply


def reject(session: Session, inquiry_id: int, actor: str, reason: str = "") -> Inquiry:
    """Reject an item: its draft (if any) is never sent."""
    inq = get(session, inquiry_id)
    if inq.state in (InquiryState.ANSWERED, InquiryState.REJECTED):
        raise QueueError(f"inquiry {inquiry_id} is already {inq.state}")
    reply = latest_reply(inq)
    if reply is not None and reply.state in (ReplyState.SENDING, ReplyState.SENT):
        raise QueueError(f"inquiry {inquiry_id}'s reply is already {reply.state}")
    if reply is not None:
        reply.state = ReplyState.REJECTED.value
    inq.state = InquiryState.REJECTED.value
    audit(session, actor, inq, "reject", reason=reason)
    return inq


def mark_answered_personally(session: Session, inquiry_id: int, actor: str, note: str = "") -> Inquiry:
    """A person answered outside the bot: close the item, never send the draft."""
    inq = reject(session, inquiry_id, actor, reason="answered personally")
    inq.state = InquiryState.ANSWERED_PERSONALLY.value
    audit(session, actor, inq, "answered_personally", note=note)
    return inq
