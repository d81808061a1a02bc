"""The database tables: the ledger of inquiries, their replies, and the audit log.

Portable SQL only (SQLite by default, PostgreSQL for larger installs): the
schema is created and changed by Alembic migrations in bot/migrations, never
by ``create_all`` in production code.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

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
    false,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, object_session, relationship


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
    # column (see ix_inquiry_waiting_order below) and kept in step by bot.store.queueflags on
    # every ORM flush. send_failed: a reply to this inquiry is in state "failed". waiting: the inquiry
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
    # The bytes as stored: the attachments many replies share (the packets) are kept once, in
    # ``attachment``, and referred to here (bot/store/attachments.py). Last, as in Inquiry.
    stored_raw: Mapped[bytes] = mapped_column("raw", LargeBinary, deferred=True)

    inquiry: Mapped[Inquiry] = relationship(back_populates="replies")

    @property
    def raw(self) -> bytes:
        """The whole message, exactly as it will be sent."""
        from bot.store.attachments import expand

        return expand(self.stored_raw, object_session(self))

    @raw.setter
    def raw(self, value: bytes) -> None:
        self.stored_raw = value  # stored whole; bot.rows packs new drafts written in bulk


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


class Attachment(Base):
    """One attachment part (MIME headers and encoded body) shared by many replies, by its SHA-256."""

    __tablename__ = "attachment"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


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
