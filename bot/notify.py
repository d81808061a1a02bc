"""Mail to staff: an alert the moment urgent mail arrives, a reminder when it waits, a daily digest.

Staff mail carries no patient text or address, only ids, counts and links
to the web app, since it travels through mail servers the organisation does
not control. Each alert is recorded in the audit log, which is also how a
second run knows it was already sent.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from sqlalchemy import func, select

from bot import smtp
from bot.queue import audit
from bot.services import Services
from bot.store import OPEN_STATES, AuditEntry, Inquiry, InquiryState, Reply, ReplyState

log = logging.getLogger(__name__)


def _staff_mail(services: Services, subject: str, body: str) -> bytes:
    cfg = services.config
    msg = EmailMessage()
    msg["From"] = formataddr((cfg.organisation.reply_name, cfg.organisation.address))
    msg["To"] = ", ".join(cfg.notifications.staff)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=cfg.organisation.domain)
    msg["Auto-Submitted"] = "auto-generated"  # never answered by another bot, nor by ours
    msg.set_content(body)
    return msg.as_bytes()


def _send(services: Services, subject: str, body: str) -> bool:
    cfg = services.config
    if not cfg.notifications.staff:
        return False
    raw = _staff_mail(services, subject, body)
    try:
        smtp.send(
            cfg.smtp,
            raw,
            cfg.organisation.address,
            list(cfg.notifications.staff),
            cfg.imap.oauth2 if cfg.imap else None,
        )
    except (smtp.SmtpTemporaryError, smtp.SmtpPermanentError) as exc:
        log.error("staff notification not sent: %s", exc, extra={"event": "notify_error"})
        return False
    return True


def _link(services: Services, inquiry_id: int) -> str:
    return f"{services.config.notifications.base_url.rstrip('/')}/inquiry/{inquiry_id}"


def _already(session, inquiry_id: int, action: str) -> bool:  # type: ignore[no-untyped-def]
    return bool(
        session.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.inquiry_id == inquiry_id, AuditEntry.action == action
            )
        )
    )


def alert_urgent(services: Services, now: datetime | None = None) -> int:
    """Tell staff at once about each escalated inquiry not yet alerted, and remind about old ones."""
    now = now or datetime.now(UTC)
    remind_after = timedelta(minutes=services.config.notifications.urgent_reminder_minutes)
    sent = 0
    with services.store.session() as s:
        waiting = s.scalars(
            select(Inquiry).where(Inquiry.state == InquiryState.ESCALATED).order_by(Inquiry.id)
        )
        for inq in waiting:
            received = inq.received_at if inq.received_at.tzinfo else inq.received_at.replace(tzinfo=UTC)
            if not _already(s, inq.id, "urgent_alert"):
                action, subject = "urgent_alert", f"URGENT inquiry #{inq.id} needs a person now"
            elif now - received >= remind_after and not _already(s, inq.id, "urgent_reminder"):
                minutes = int((now - received).total_seconds() // 60)
                action, subject = (
                    "urgent_reminder",
                    f"Reminder: URGENT inquiry #{inq.id} waiting {minutes} minutes",
                )
            else:
                continue
            body = (
                f"An inquiry that looks like an emergency or a person in distress is waiting.\n"
                f"The bot will not answer it on its own.\n\nOpen it: {_link(services, inq.id)}\n"
                f"Language: {inq.language or 'unknown'}\n"
            )
            if _send(services, subject, body):
                audit(s, "notifier", inq, action)
                sent += 1
    return sent


def digest(services: Services, now: datetime | None = None) -> bool:
    """Send the daily digest once per day: what waits, what is urgent, what failed."""
    now = now or datetime.now(UTC)
    today = now.date().isoformat()
    with services.store.session() as s:
        done = s.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.action == "digest", AuditEntry.at >= now - timedelta(hours=20)
            )
        )
        if done:
            return False
        states = Counter(dict(s.execute(select(Inquiry.state, func.count()).group_by(Inquiry.state)).all()))
        failed = s.scalar(select(func.count(Reply.id)).where(Reply.state == ReplyState.FAILED)) or 0
        oldest = s.scalar(
            select(func.min(Inquiry.received_at)).where(Inquiry.state.in_([str(x) for x in OPEN_STATES]))
        )
        lines = [f"Helpdesk digest for {today}", ""]
        lines += [f"  {state}: {states.get(state, 0)}" for state in (str(x) for x in OPEN_STATES)]
        lines += [f"  replies that failed to send: {failed}"]
        if oldest:
            lines += [f"  oldest waiting since: {oldest:%Y-%m-%d %H:%M}"]
        lines += ["", f"Queue: {services.config.notifications.base_url.rstrip('/')}/queue"]
        if _send(
            services,
            f"Helpdesk digest {today}: {sum(states.get(str(x), 0) for x in OPEN_STATES)} waiting",
            "\n".join(lines) + "\n",
        ):
            audit(s, "notifier", None, "digest", day=today)
            return True
    return False
