"""The database tables: the ledger of inquiries, their replies, and the audit log.

Portable SQL only (SQLite by default, PostgreSQL for larger installs): the
schema is created and changed by Alembic migrations in bot/migrations, never
by ``create_all`` in production code.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    inspect,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class InquiryState(enum.StrEnum):
    """Where an inquiry is. The first four are set by ingestion, the rest by staff or sending."""

    DRAFTED = "drafted"  # reply waiting for approval
    ESCALATED = "escalated"  # urgent: staff first, never sent by the bot alone
    MANUAL = "manual"  # no topic: a person answers
    IGNORED = "ignored"  # machine mail: never answered
    QUARANTINED = "quarantined"  # could not be handled; reason kept, retry possible
    APPROVED = "approved"  # reply approved, waiting in the outbox
    ANSWERED = "answered"  # reply sent
    ANSWERED_PERSONALLY = "answered_personally"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"  # same Message-ID seen before (copy, or UIDVALIDITY change)
    NOTED = "noted"  # a bare thank-you in a conversation: staff can see it, nobody answers


# The states in which an inquiry waits for a person.
OPEN_STATES = (InquiryState.ESCALATED, InquiryState.DRAFTED, InquiryState.MANUAL, InquiryState.QUARANTINED)
_OPEN_VALUES = frozenset(str(s) for s in OPEN_STATES)


def is_waiting(state: str | None, send_failed: bool | None) -> bool:
    """Whether an inquiry in ``state`` waits for a person (the definition behind ``Inquiry.waiting``)."""
    return state in _OPEN_VALUES or bool(send_failed)


def _waiting_on_insert(context: DefaultExecutionContext) -> bool:
    # A Core INSERT that does not name "waiting" (fixtures, the benchmark's copies): work it out
    # from the row's own values. ORM inserts have it set already by _keep_queue_flags.
    row = context.get_current_parameters()
    return is_waiting(row.get("state"), row.get("send_failed"))


class ReplyState(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SENDING = "sending"  # claimed by a sender; recovered at start-up
    SENT = "sent"
    FAILED = "failed"  # permanent SMTP error, shown to staff
    REJECTED = "rejected"


class FolderState(Base):
    """How far the IMAP sync got in one folder: UIDVALIDITY and the highest UID stored."""

    __tablename__ = "folder_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(300), unique=True)  # "imap:user@host/INBOX"
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Inquiry(Base):
    """One inbound message, its raw bytes and every decision made about it."""

    __tablename__ = "inquiry"
    __table_args__ = (UniqueConstraint("source", "uidvalidity", "uid", name="uq_inquiry_mailbox_uid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(300))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str] = mapped_column(String(998), index=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    from_address: Mapped[str] = mapped_column(String(320), default="", index=True)
    from_name: Mapped[str] = mapped_column(String(300), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    reply_language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    action: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(24), index=True)
    urgent: Mapped[bool] = mapped_column(default=False)  # indexed in the queue's order, below
    error_stage: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The first inquiry of the conversation this one follows up (None: it starts one).
    conversation_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    # The whole message, after every column the queue reads from the row: SQLite reads columns
    # stored after a large value by walking its overflow pages.
    raw: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    # Two flags for the queue page, denormalised so that "waits for a person" is one indexed
    # column (see ix_inquiry_waiting_order below) and kept in step by _keep_queue_flags on every
    # ORM flush. send_failed: a reply to this inquiry is in state "failed". waiting: the inquiry
    # needs a person, because its state is one of OPEN_STATES or a send failed. Migration 0008
    # adds them after raw (see there why); the queue reads them from its indexes.
    send_failed: Mapped[bool] = mapped_column(default=False, server_default=false(), index=True)
    waiting: Mapped[bool] = mapped_column(default=_waiting_on_insert, server_default=false())

    replies: Mapped[list[Reply]] = relationship(back_populates="inquiry", order_by="Reply.id")


class Reply(Base):
    """A drafted reply: the exact bytes that will be sent, fixed Message-ID included."""

    __tablename__ = "reply"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiry.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    packets: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # last, as in Inquiry

    inquiry: Mapped[Inquiry] = relationship(back_populates="replies")


# The queue's order is urgent first, then oldest (received_at, id). With urgent DESC in the index
# the database reads a page straight off it, OFFSET included, instead of sorting: for the open
# items (waiting), for one state's tab, and for everything. The first two end with language, so
# the language filter is answered from the index and only rows in that language are read.
Index(
    "ix_inquiry_waiting_order",
    Inquiry.waiting,
    Inquiry.urgent.desc(),
    Inquiry.received_at,
    Inquiry.id,
    Inquiry.language,
)
Index(
    "ix_inquiry_queue_order",
    Inquiry.state,
    Inquiry.urgent.desc(),
    Inquiry.received_at,
    Inquiry.id,
    Inquiry.language,
)
Index("ix_inquiry_order", Inquiry.urgent.desc(), Inquiry.received_at, Inquiry.id)


class AuditEntry(Base):
    """Who did what to which inquiry, and when: shown on the inquiry page."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    inquiry_id: Mapped[int | None] = mapped_column(
        ForeignKey("inquiry.id", ondelete="CASCADE"), nullable=True, index=True
    )
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


def _reply_state_change(reply: Reply) -> tuple[str | None, str | None]:
    """(before, after) of a reply's state in this flush; before is None for a new reply."""
    history = inspect(reply).attrs.state.history
    before = history.deleted[0] if history.deleted else (None if history.added else reply.state)
    return before, reply.state


@event.listens_for(Session, "before_flush")
def _keep_queue_flags(session: Session, _context: Any, _instances: Any) -> None:
    """Keep ``Inquiry.send_failed`` and ``Inquiry.waiting`` in step with the states being flushed.

    Runs for every ORM flush, so every writer (ingestion, sending, the web app's actions, the
    command line) keeps the flags right without knowing about them. A Core UPDATE that moves a
    reply to or from "failed", or changes an inquiry's state, bypasses this and must set them itself
    (none does: the Core UPDATEs in bot/queue.py and bot/send.py go draft -> approved -> sending).
    """
    failed = ReplyState.FAILED.value
    touched = {o for o in (*session.new, *session.dirty) if isinstance(o, Inquiry)}
    gone = {o for o in session.deleted if isinstance(o, Reply)}
    for reply in (*session.new, *session.dirty, *gone):
        if not isinstance(reply, Reply):
            continue
        before, after = _reply_state_change(reply)
        was_failed, is_failed = before == failed, after == failed and reply not in gone
        if was_failed == is_failed:
            continue
        # A new reply made with inquiry_id rather than through the relationship has no inquiry yet.
        inquiry = reply.inquiry or session.get(Inquiry, reply.inquiry_id)
        if inquiry is None:
            continue
        # Leaving "failed": another reply of the same inquiry may still be failed.
        inquiry.send_failed = is_failed or any(
            r.state == failed for r in inquiry.replies if r is not reply and r not in gone
        )
        touched.add(inquiry)
    for inquiry in touched:
        waiting = is_waiting(inquiry.state, inquiry.send_failed)
        if inquiry.waiting != waiting:
            inquiry.waiting = waiting
