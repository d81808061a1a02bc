"""Ingesting one fetched message: triage it, draft its reply, and record both in one transaction.

This is where exactly-once lives. The ledger row is keyed by (source,
UIDVALIDITY, UID); the folder's high-water mark advances in the same
transaction as the inquiry and its draft, so a crash at any point either
stored everything for a message or nothing, and a restart picks up where
the last commit left off. A message whose Message-ID is already stored (a
copy, or a re-sync after a UIDVALIDITY change) is recorded as a duplicate
and never answered again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.message import Action, ParsedMessage, Reason, Triage
from bot.prepare import Prepared, prepare
from bot.rows import BulkWriter, NewRow, new_row, reply_values
from bot.services import Services
from bot.store import FolderState, Inquiry, InquiryState, Reply, attachments

log = logging.getLogger(__name__)

_STATE_FOR_ACTION = {
    Action.DRAFT: InquiryState.DRAFTED,
    Action.ESCALATE: InquiryState.ESCALATED,
    Action.MANUAL: InquiryState.MANUAL,
    Action.IGNORE: InquiryState.IGNORED,
}


@dataclass(frozen=True)
class Fetched:
    """One message as the fetch stage hands it over."""

    source: str
    uidvalidity: int
    uid: int
    raw: bytes


def sender_hash(address: str) -> str:
    """A stable pseudonym for a sender, for logs: never log the address itself."""
    return hashlib.sha256(address.lower().encode()).hexdigest()[:12]


def _advance(session: Session, item: Fetched) -> None:
    # The folder's row is looked up once per session (one batch), not once per
    # message: it stays in the session, which writes each change at its next flush.
    key = ("folder_state", item.source)
    state = session.info.get(key)
    if state is None or state not in session:
        state = session.scalar(select(FolderState).where(FolderState.source == item.source))
    if state is None:
        state = FolderState(source=item.source, uidvalidity=item.uidvalidity, last_uid=item.uid)
        session.add(state)
    elif state.uidvalidity == item.uidvalidity and item.uid > state.last_uid:
        state.last_uid = item.uid
    session.info[key] = state


def ingest(services: Services, session: Session, item: Fetched, now: datetime | None = None) -> str | None:
    """Record ``item`` (inquiry, outcome and draft) in ``session``; the caller commits.

    Returns the inquiry state stored, or None when this UID was already
    stored. Never raises for a bad message: it is quarantined with the
    stage and the error, so the rest of the batch goes on.
    """
    done = ingest_batch(services, session, [item], now=now)
    return done[0][1] if done else None


def ingest_batch(
    services: Services,
    session: Session,
    items: Sequence[Fetched],
    now: datetime | None = None,
    *,
    prepared: Sequence[Prepared] | None = None,
    earlier_senders: Collection[str] = (),
) -> list[tuple[Fetched, str]]:
    """Record a batch in ``session`` (the caller commits); returns each new item with its state.

    Items whose UID is already in the ledger are left out. ``prepared``, when
    given, holds what the CPU-heavy stages made of ``items`` (in worker
    processes, see :mod:`bot.pool`); otherwise they run here. Their lookups
    saw the ledger before the batch, so a message whose sender or Message-ID
    already came earlier in the batch is decided again here, after the
    earlier one is recorded, exactly as if the two had come in two fetches.
    Results prepared while the batch before was being recorded come with
    ``earlier_senders``, that batch's senders, which are decided again too.
    """
    if not items:
        return []
    now = now or datetime.now(UTC)
    source = {item.source for item in items}
    query = select(Inquiry.source, Inquiry.uidvalidity, Inquiry.uid).where(
        Inquiry.source.in_(source), Inquiry.uid.in_([item.uid for item in items])
    )
    stored = {(src, validity, uid) for src, validity, uid in session.execute(query)}
    keep = [(item.source, item.uidvalidity, item.uid) not in stored for item in items]
    new = [item for item, k in zip(items, keep, strict=True) if k]
    if not new:
        return []
    if prepared is not None:
        prepared = [p for p, k in zip(prepared, keep, strict=True) if k]
    else:
        prepared = prepare(services, session, [item.raw for item in new], now)
    mids = {p.msg.message_id for p in prepared if p.msg is not None}
    known = set(
        session.scalars(
            select(Inquiry.message_id).where(Inquiry.message_id.in_(mids), Inquiry.state != "duplicate")
        )
    )
    senders: set[str] = set(earlier_senders)
    done: list[tuple[Fetched, str]] = []
    bulk = BulkWriter(session, now)
    for item, ready in zip(new, prepared, strict=True):
        row = new_row(item, now)
        _advance(session, item)
        msg = ready.msg
        if msg is not None and (msg.from_address in senders or msg.message_id in known):
            bulk.flush()  # the ledger must hold the earlier ones before this is decided again
            orm = row.orm()
            session.add(orm)
            if msg.from_address in senders:
                state = process(services, session, orm, item.raw, now)
            else:
                state = record(session, orm, ready, now)
            row.message_id = orm.message_id
        else:
            state = _apply(row, ready)
            bulk.add(row, ready.draft if ready.error is None else None)
        if msg is not None:
            senders.add(msg.from_address)
        known.add(row.message_id)
        done.append((item, state))
    bulk.flush()
    return done


def process(services: Services, session: Session, row: Inquiry, raw: bytes, now: datetime) -> str:
    """Parse, triage and draft for ``row`` (new, or quarantined and retried); returns its new state.

    Errors at any stage quarantine the row with that stage's name and the
    error, never raise: one bad message never stops the batch.
    """
    session.flush()  # the row's id, so that the lookups do not count it as the sender's earlier mail
    [ready] = prepare(services, session, [raw], now, frozenset({row.id}))
    return record(session, row, ready, now)


def record(
    session: Session, row: Inquiry, ready: Prepared, now: datetime, check_duplicate: bool = True
) -> str:
    """Write what the stages made of a message into ``row`` (in ``session``) and add its draft.

    Returns the state. ``check_duplicate`` asks the ledger whether the
    Message-ID is stored already (then the row becomes a duplicate).
    """
    msg = ready.msg
    if msg is not None and check_duplicate:
        _set_message(row, msg)
        session.flush()  # gives a new row its id, so the duplicate check can exclude it
        dup = session.scalar(
            select(Inquiry.id)
            .where(Inquiry.message_id == msg.message_id, Inquiry.state != "duplicate", Inquiry.id != row.id)
            .limit(1)
        )
        if dup is not None:
            row.raw, row.state, row.action = b"", InquiryState.DUPLICATE.value, Action.IGNORE.value
            row.reasons = [f"ledger/duplicate: Message-ID already stored as inquiry {dup}"]
            return row.state
    state = _apply(row, ready)
    if ready.draft is not None and ready.error is None:
        # Linking from the reply's side: ``row.replies.append`` would first load the
        # (empty) collection of the just-flushed row with one SELECT per draft.
        shared: dict[str, bytes] = {}
        reply = Reply(**reply_values(ready.draft, now, shared))
        attachments.save(session, shared)
        reply.inquiry = row
        session.add(reply)
    return state


def _set_message(row: Inquiry | NewRow, msg: ParsedMessage) -> None:
    row.message_id, row.from_address, row.from_name = msg.message_id, msg.from_address, msg.from_name
    row.subject = msg.subject
    row.error_stage = row.error = None


def _apply(row: Inquiry | NewRow, ready: Prepared) -> str:
    """Set ``row``'s fields from what the stages made of its message (its draft aside); returns the state."""
    msg = ready.msg
    if msg is None:
        return _quarantine(row, *(ready.error or ("parse", "unknown error")))
    _set_message(row, msg)
    if ready.triage is None or ready.action is None:
        return _quarantine(row, *(ready.error or ("triage", "unknown error")))
    _record_triage(row, ready.triage, ready.action, list(ready.reasons))
    if ready.error:
        return _quarantine(row, *ready.error)
    log.info(
        "inquiry stored",
        extra={"event": "ingested", "state": row.state, "sender": sender_hash(msg.from_address)},
    )
    return row.state


def _record_triage(
    row: Inquiry | NewRow, triage: Triage, action: Action, reasons: list[Reason | str]
) -> None:
    row.action = action.value
    row.state = _STATE_FOR_ACTION[action].value
    row.urgent = action is Action.ESCALATE
    row.topics = list(triage.topic_ids)
    row.reasons = [str(r) for r in reasons]
    if triage.note_only:
        row.state = InquiryState.NOTED.value
    if triage.conversation:
        row.conversation_id = triage.conversation.root_id
    if triage.language:
        row.language = triage.language.language
        row.reply_language = triage.language.reply_language


def _quarantine(row: Inquiry | NewRow, stage: str, error: str) -> str:
    row.state = InquiryState.QUARANTINED.value
    row.error_stage, row.error = stage, error[:2000]
    row.reasons = [f"{stage}/error: {error[:300]}"]
    if not row.message_id:
        row.message_id = f"<{row.content_hash[:32]}@quarantine.invalid>"
    log.warning("message quarantined", extra={"event": "quarantined", "stage": stage})
    return row.state
