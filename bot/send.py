"""The outbox: send approved replies exactly once, then mark the original answered.

A reply is claimed (``approved`` -> ``sending``) and committed before SMTP
is touched, with a lease so that the web app and the worker never both send
it. Its copy is filed in the Sent folder *before* SMTP, marked pending; once
the server accepts the reply (250) the mark is removed and the state becomes
``sent``. A reply found in ``sending`` after a crash is settled by its
Message-ID, fixed when it was drafted:

- a confirmed copy in Sent: it went out; counted as sent;
- no copy: the crash came before SMTP; it is sent again;
- a pending copy: SMTP may or may not have taken it. No SMTP client can know,
  so it is never resent automatically: it is shown to staff as failed, with
  why, and a person decides. A crash can therefore never send a reply twice.

Temporary SMTP failures retry with backoff; permanent ones stop and show the
error to staff.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot import faults, smtp
from bot.disclaimer import MissingDisclaimer, require_disclaimer
from bot.queue import audit
from bot.services import Services
from bot.sources import MailSource, open_source
from bot.store import InquiryState, Reply, ReplyState

log = logging.getLogger(__name__)

BACKOFF = (60, 300, 900, 3600, 4 * 3600)  # seconds between temporary failures
MAX_ATTEMPTS = 8
# How long a claim is honoured before recovery may take the reply back. The web
# app and the worker may both send, so a live claim must never be stolen.
LEASE = timedelta(minutes=10)
UNCONFIRMED = (
    "Sending was interrupted after the reply was handed to the mail server, so it may or may not have "
    "gone out. It will not be sent again automatically: check the Sent folder or ask the patient, "
    "then send it again from here if it did not arrive."
)


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    recovered: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"send: {self.sent} sent, {self.retrying} to retry, {self.failed} failed" + (
            f", {self.recovered} recovered as already sent" if self.recovered else ""
        )


def recover(services: Services, source: MailSource, report: SendReport) -> None:
    """Settle replies left in ``sending`` by a crash: sent if the Sent folder has them, else retried."""
    with services.store.session() as s:
        stale = select(Reply).where(
            Reply.state == ReplyState.SENDING, Reply.next_attempt_at < datetime.now(UTC)
        )
        for reply in s.scalars(stale):
            status = source.sent_status(reply.message_id)
            if status == "sent":
                _finish(source, s, reply)
                report.recovered += 1
            elif status == "pending":
                # SMTP may or may not have taken it: sending again could send it twice.
                reply.state, reply.last_error = ReplyState.FAILED.value, UNCONFIRMED
                audit(s, "outbox", reply.inquiry, "send_unconfirmed")
                report.failed += 1
            else:  # no copy: the crash came before SMTP was even tried
                reply.state = ReplyState.APPROVED.value


def _finish(source: MailSource, session: Session, reply: Reply) -> None:
    reply.state, reply.sent_at, reply.last_error = ReplyState.SENT.value, datetime.now(UTC), None
    inquiry = reply.inquiry
    inquiry.state = InquiryState.ANSWERED.value
    audit(session, "outbox", inquiry, "sent", reply_id=reply.id)
    try:
        source.flag_answered(inquiry.uidvalidity, inquiry.uid, inquiry.message_id)
    except Exception as exc:  # noqa: BLE001 - the reply is out; the flag is bookkeeping
        log.warning("could not flag the original answered: %s", type(exc).__name__)


def _claim(services: Services, now: datetime, only: list[int] | None = None) -> list[int]:
    """Claim due approved replies (all, or those in ``only``); a conditional UPDATE wins each once."""
    claimed: list[int] = []
    with services.store.session() as s:
        query = (
            select(Reply.id)
            .where(Reply.state == ReplyState.APPROVED)
            .where(or_(Reply.next_attempt_at.is_(None), Reply.next_attempt_at <= now))
            .order_by(Reply.id)
        )
        if only is not None:
            query = query.where(Reply.id.in_(only))
        due = s.scalars(query).all()
        for reply_id in due:
            won = s.execute(
                update(Reply)
                .where(Reply.id == reply_id, Reply.state == ReplyState.APPROVED)
                .values(
                    state=ReplyState.SENDING.value, attempts=Reply.attempts + 1, next_attempt_at=now + LEASE
                )
            )
            if won.rowcount == 1:
                claimed.append(reply_id)
    return claimed


def _send_one(services: Services, source: MailSource, reply_id: int, report: SendReport) -> None:
    cfg = services.config
    with services.store.session() as s:
        reply = s.get(Reply, reply_id)
        assert reply is not None
        raw = reply.raw
        try:
            require_disclaimer(raw, services.replies_dir)
        except MissingDisclaimer as exc:
            reply.state, reply.last_error = ReplyState.FAILED.value, str(exc)
            audit(s, "outbox", reply.inquiry, "send_failed", error=str(exc)[:300])
            report.failed += 1
            return
        # Filed first, marked pending: if we die during SMTP, recovery finds it and knows
        # the reply may have gone out, so it is never sent again without a person.
        source.append_sent(raw, pending=True)
        faults.point("send:after-pending-copy")
        try:
            oauth = cfg.imap.oauth2 if cfg.imap else None
            smtp.send(cfg.smtp, raw, cfg.organisation.address, [reply.to_address], oauth)
        except smtp.SmtpPermanentError as exc:
            source.discard_pending(reply.message_id)
            reply.state, reply.last_error = ReplyState.FAILED.value, str(exc)
            audit(s, "outbox", reply.inquiry, "send_failed", error=str(exc)[:300])
            report.failed += 1
            return
        except smtp.SmtpTemporaryError as exc:
            source.discard_pending(reply.message_id)
            reply.last_error = str(exc)
            if reply.attempts >= MAX_ATTEMPTS:
                reply.state = ReplyState.FAILED.value
                report.failed += 1
            else:
                delay = BACKOFF[min(reply.attempts - 1, len(BACKOFF) - 1)]
                reply.state = ReplyState.APPROVED.value
                reply.next_attempt_at = datetime.now(UTC) + timedelta(seconds=delay)
                report.retrying += 1
            return
        faults.point("send:after-smtp")
        source.confirm_sent(reply.message_id)
        faults.point("send:after-sent-copy")
        _finish(source, s, reply)
        report.sent += 1


def send_once(services: Services, now: datetime | None = None, only: list[int] | None = None) -> SendReport:
    """Recover interrupted sends, then send every approved reply that is due (or just those in ``only``)."""
    report = SendReport()
    source = open_source(services.config)
    try:
        recover(services, source, report)
        for reply_id in _claim(services, now or datetime.now(UTC), only):
            _send_one(services, source, reply_id, report)
    finally:
        source.close()
    return report
