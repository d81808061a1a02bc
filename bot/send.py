"""The outbox: send approved replies exactly once, then mark the original answered.

A reply is claimed (``approved`` -> ``sending``) and committed before SMTP
is touched. After the server accepts it, a copy goes to the Sent folder and
the state becomes ``sent``. A reply found in ``sending`` at start-up was
interrupted: it is looked up in the Sent folder by its Message-ID (fixed
when it was drafted) and counted as sent if it is there, so a crash never
sends the same reply twice. Temporary SMTP failures retry with backoff;
permanent ones stop and show the error to staff.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from imapclient import IMAPClient
from sqlalchemy import or_, select

from bot import imap, smtp
from bot.disclaimer import MissingDisclaimer, require_disclaimer
from bot.fetch import inquiry_uid
from bot.queue import audit
from bot.services import Services
from bot.store import Inquiry, InquiryState, Reply, ReplyState

log = logging.getLogger(__name__)

SENT_FOLDER = "Sent"
BACKOFF = (60, 300, 900, 3600, 4 * 3600)  # seconds between temporary failures
MAX_ATTEMPTS = 8


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


def _in_sent_folder(client: IMAPClient, message_id: str) -> bool:
    client.select_folder(SENT_FOLDER, readonly=True)
    return bool(client.search(["HEADER", "Message-ID", message_id]))


def _ensure_sent_folder(client: IMAPClient) -> None:
    if not client.folder_exists(SENT_FOLDER):
        client.create_folder(SENT_FOLDER)


def _flag_answered(services: Services, client: IMAPClient, inquiry: Inquiry) -> None:
    folder, uidvalidity, uid = inquiry_uid(services, inquiry)
    info = client.select_folder(folder)
    if int(info[b"UIDVALIDITY"]) == uidvalidity:
        client.add_flags([uid], [b"\\Answered"], silent=True)
    else:  # renumbered since: find it by Message-ID
        uids = client.search(["HEADER", "Message-ID", inquiry.message_id])
        if uids:
            client.add_flags(uids, [b"\\Answered"], silent=True)


def recover(services: Services, client: IMAPClient, report: SendReport) -> None:
    """Settle replies left in ``sending`` by a crash: sent if the Sent folder has them, else retried."""
    with services.store.session() as s:
        for reply in s.scalars(select(Reply).where(Reply.state == ReplyState.SENDING)):
            if _in_sent_folder(client, reply.message_id):
                _finish(services, client, s, reply)
                report.recovered += 1
            else:
                reply.state = ReplyState.APPROVED.value


def _finish(services: Services, client: IMAPClient, session, reply: Reply) -> None:  # type: ignore[no-untyped-def]
    reply.state, reply.sent_at, reply.last_error = ReplyState.SENT.value, datetime.now(UTC), None
    inquiry = reply.inquiry
    inquiry.state = InquiryState.ANSWERED.value
    audit(session, "outbox", inquiry, "sent", reply_id=reply.id)
    try:
        _flag_answered(services, client, inquiry)
    except Exception as exc:  # noqa: BLE001 - the reply is out; the flag is bookkeeping
        log.warning("could not flag the original answered: %s", type(exc).__name__)


def _claim(services: Services, now: datetime) -> list[int]:
    with services.store.session() as s:
        replies = s.scalars(
            select(Reply)
            .where(Reply.state == ReplyState.APPROVED)
            .where(or_(Reply.next_attempt_at.is_(None), Reply.next_attempt_at <= now))
            .order_by(Reply.id)
        ).all()
        for r in replies:
            r.state, r.attempts = ReplyState.SENDING.value, r.attempts + 1
        return [r.id for r in replies]


def _send_one(services: Services, client: IMAPClient, reply_id: int, report: SendReport) -> None:
    cfg = services.config
    with services.store.session() as s:
        reply = s.get(Reply, reply_id)
        assert reply is not None
        raw = reply.raw
        try:
            require_disclaimer(raw, services.replies_dir)
            smtp.send(cfg.smtp, raw, cfg.organisation.address, [reply.to_address])
        except (MissingDisclaimer, smtp.SmtpPermanentError) as exc:
            reply.state, reply.last_error = ReplyState.FAILED.value, str(exc)
            audit(s, "outbox", reply.inquiry, "send_failed", error=str(exc)[:300])
            report.failed += 1
            return
        except smtp.SmtpTemporaryError as exc:
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
        # Accepted by SMTP. The Sent copy is what recovery checks, so it goes first.
        client.append(SENT_FOLDER, raw, flags=[b"\\Seen"])
        _finish(services, client, s, reply)
        report.sent += 1


def send_once(services: Services, now: datetime | None = None) -> SendReport:
    """Recover interrupted sends, then send every approved reply that is due."""
    report = SendReport()
    client = imap.connect(services.config.imap)
    try:
        _ensure_sent_folder(client)
        recover(services, client, report)
        for reply_id in _claim(services, now or datetime.now(UTC)):
            _send_one(services, client, reply_id, report)
    finally:
        imap.close(client)
    return report
