"""The ledger's new rows: an inquiry as fetched, a draft reply, and many written at once."""

from __future__ import annotations

import hashlib
from datetime import datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bot.message import Action, Draft
from bot.store import Inquiry, InquiryState, Reply, ReplyState, attachments

if TYPE_CHECKING:
    from bot.ingest import Fetched


class NewRow(SimpleNamespace):
    """A new inquiry's columns as plain attributes, set like an :class:`Inquiry`'s.

    Building an ORM object costs more than the rest of recording a message;
    rows written in bulk never need one. :meth:`orm` makes the real row for
    the few that must go through the session.
    """

    def orm(self) -> Inquiry:
        """The same row as an ORM :class:`Inquiry` (not yet in a session)."""
        return Inquiry(**vars(self))


class BulkWriter:
    """New rows written with one multi-row INSERT each for inquiries and drafts, not one at a time."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session, self.now = session, now
        self.pending: list[tuple[NewRow, Draft | None]] = []

    def add(self, row: NewRow, draft: Draft | None) -> None:
        """Write ``row`` (a new inquiry, not in the session) and its draft at the next :meth:`flush`."""
        self.pending.append((row, draft))

    def flush(self) -> None:
        """Write the rows added since the last flush, in the order added (their ids follow it)."""
        if not self.pending:
            return
        values = [vars(row) for row, _ in self.pending]
        # Without RETURNING: SQLite cannot promise the order of a multi-row INSERT's RETURNING, so
        # SQLAlchemy would send one INSERT a row. The ids are read back by the mailbox key instead.
        self.session.execute(insert(Inquiry), values)
        keys = [(row.source, row.uidvalidity, row.uid) for row, _ in self.pending]
        stored = self.session.execute(
            select(Inquiry.source, Inquiry.uidvalidity, Inquiry.uid, Inquiry.id).where(
                Inquiry.source.in_({k[0] for k in keys}), Inquiry.uid.in_([k[2] for k in keys])
            )
        )
        by_key = {(src, validity, uid): inquiry_id for src, validity, uid, inquiry_id in stored}
        ids = [by_key[k] for k in keys]
        shared: dict[str, bytes] = {}
        replies = [
            {**reply_values(draft, self.now, shared), "inquiry_id": inquiry_id}
            for (_, draft), inquiry_id in zip(self.pending, ids, strict=True)
            if draft is not None
        ]
        attachments.save(self.session, shared)
        if replies:
            self.session.execute(insert(Reply), replies)
        self.pending.clear()


def new_row(item: Fetched, now: datetime) -> NewRow:
    """A new inquiry for ``item``, quarantined until the stages say otherwise."""
    # Every column the stages may set is set here, so that rows written together name the same columns.
    return NewRow(
        source=item.source,
        uidvalidity=item.uidvalidity,
        uid=item.uid,
        raw=item.raw,
        received_at=now,
        content_hash=hashlib.sha256(item.raw).hexdigest(),
        message_id="",
        from_address="",
        from_name="",
        subject="",
        language=None,
        reply_language=None,
        action=Action.MANUAL.value,
        state=InquiryState.QUARANTINED.value,
        urgent=False,
        topics=[],
        reasons=[],
        error_stage=None,
        error=None,
        attempts=0,
        conversation_id=None,
    )


def reply_values(draft: Draft, now: datetime, shared: dict[str, bytes]) -> dict[str, object]:
    """The columns of a new draft reply for ``draft``.

    Its bytes are stored packed: the attachments it shares with other drafts
    are added to ``shared`` (by digest), for :func:`bot.store.attachments.save`
    in the same transaction.
    """
    stored = draft.stored or draft.raw
    if draft.stored:
        shared.update(attachments.shared_parts(draft.parts))
    return {
        "message_id": draft.message_id,
        "state": ReplyState.DRAFT.value,
        "to_address": draft.to_address,
        "subject": draft.subject,
        "text": draft.text,
        "html": draft.html,
        "language": draft.language,
        "packets": list(draft.packets),
        "notes": list(draft.notes),
        "stored_raw": stored,
        "created_at": now,
    }
