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
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.compose import compose_reply
from bot.followup import conversation_lookup
from bot.limits import sender_limit
from bot.message import Action, Draft, Reason, Triage
from bot.parse import ParseError, parse_message
from bot.services import Services
from bot.store import FolderState, Inquiry, InquiryState, Reply, ReplyState
from bot.triage import TriageContext, triage_message

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


def history_lookup(session: Session):  # type: ignore[no-untyped-def]
    """The language of a sender's latest earlier inquiry, for short messages."""

    def lookup(address: str) -> str | None:
        return session.scalar(
            select(Inquiry.language)
            .where(Inquiry.from_address == address, Inquiry.language.is_not(None))
            .order_by(Inquiry.id.desc())
            .limit(1)
        )

    return lookup


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
    now = now or datetime.now(UTC)
    exists = session.scalar(
        select(Inquiry.id).where(
            Inquiry.source == item.source, Inquiry.uidvalidity == item.uidvalidity, Inquiry.uid == item.uid
        )
    )
    if exists is not None:
        return None
    row = Inquiry(
        source=item.source,
        uidvalidity=item.uidvalidity,
        uid=item.uid,
        raw=item.raw,
        received_at=now,
        content_hash=hashlib.sha256(item.raw).hexdigest(),
        message_id="",
        action=Action.MANUAL.value,
        state=InquiryState.QUARANTINED.value,
        topics=[],
        reasons=[],
    )
    _advance(session, item)
    session.add(row)
    return process(services, session, row, item.raw, now)


def process(services: Services, session: Session, row: Inquiry, raw: bytes, now: datetime) -> str:
    """Parse, triage and draft for ``row`` (new, or quarantined and retried); returns its new state.

    Errors at any stage quarantine the row with that stage's name and the
    error, never raise: one bad message never stops the batch.
    """
    try:
        msg = parse_message(raw)
    except ParseError as exc:
        return _quarantine(row, getattr(exc, "stage", "parse"), str(exc))
    except Exception as exc:  # noqa: BLE001 - one bad message never stops the batch
        return _quarantine(row, "parse", f"{type(exc).__name__}: {exc}")
    row.message_id, row.from_address, row.from_name = msg.message_id, msg.from_address, msg.from_name
    row.subject = msg.subject
    row.error_stage = row.error = None
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
    try:
        rules = services.rules.current()
        cfg = services.config
        ctx = TriageContext(
            rules=rules,
            languages=cfg.languages,
            own_addresses=cfg.own_addresses(),
            available=services.reply_languages(),
            history=history_lookup(session),
            conversation=conversation_lookup(session, now),
        )
        triage = triage_message(msg, ctx)
    except Exception as exc:  # noqa: BLE001
        return _quarantine(row, "triage", f"{type(exc).__name__}: {exc}")
    reasons = list(triage.reasons)
    action = triage.action
    if action is Action.DRAFT and (capped := sender_limit(services, session, msg.from_address, now, row.id)):
        action = Action.MANUAL
        reasons.append(capped)
    _record_triage(row, triage, action, reasons)
    if action in (Action.DRAFT, Action.ESCALATE):
        already = frozenset(triage.conversation.packets_sent) if triage.conversation else frozenset()
        try:
            draft = compose_reply(
                triage,
                config=services.config,
                rules=rules,
                loader=services.template_loader(),
                packets=services.packet_resolver(),
                now=now,
                exclude_packets=already,
            )
        except Exception as exc:  # noqa: BLE001
            return _quarantine(row, "compose", f"{type(exc).__name__}: {exc}")
        # Linking from the reply's side: ``row.replies.append`` would first load the
        # (empty) collection of the just-flushed row with one SELECT per draft.
        reply = _reply_row(draft, now)
        reply.inquiry = row
        session.add(reply)
    log.info(
        "inquiry stored",
        extra={"event": "ingested", "state": row.state, "sender": sender_hash(msg.from_address)},
    )
    return row.state


def _record_triage(row: Inquiry, triage: Triage, action: Action, reasons: list[Reason | str]) -> None:
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


def _reply_row(draft: Draft, now: datetime) -> Reply:
    return Reply(
        message_id=draft.message_id,
        state=ReplyState.DRAFT.value,
        to_address=draft.to_address,
        subject=draft.subject,
        text=draft.text,
        html=draft.html,
        language=draft.language,
        packets=list(draft.packets),
        notes=list(draft.notes),
        raw=draft.raw,
        created_at=now,
    )


def _quarantine(row: Inquiry, stage: str, error: str) -> str:
    row.state = InquiryState.QUARANTINED.value
    row.error_stage, row.error = stage, error[:2000]
    row.reasons = [f"{stage}/error: {error[:300]}"]
    if not row.message_id:
        row.message_id = f"<{row.content_hash[:32]}@quarantine.invalid>"
    log.warning("message quarantined", extra={"event": "quarantined", "stage": stage})
    return row.state
