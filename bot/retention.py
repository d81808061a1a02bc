"""Purging patient mail past the retention period.

Inquiries are health data: after ``retention.days`` an inquiry, its raw
bytes, its replies and its audit entries are deleted. Items still waiting
for staff are kept (a purge must never lose an unanswered question), and
the folder high-water marks stay so old mail is never fetched again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from bot.services import Services
from bot.store import OPEN_STATES, AuditEntry, Inquiry, InquiryState, Reply

log = logging.getLogger(__name__)

# Waiting items are never purged; everything else past the period is.
_KEEP = {*(str(s) for s in OPEN_STATES), InquiryState.APPROVED.value}


def purge(services: Services, now: datetime | None = None) -> int:
    """Delete closed inquiries older than the retention period; returns how many."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=services.config.retention.days)
    with services.store.session() as s:
        ids = s.scalars(
            select(Inquiry.id).where(Inquiry.received_at < cutoff, Inquiry.state.not_in(_KEEP))
        ).all()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            # Explicit deletes rather than ON DELETE CASCADE: SQLite only honours it with
            # foreign keys on, and a purge must not depend on a connection setting.
            s.execute(delete(AuditEntry).where(AuditEntry.inquiry_id.in_(chunk)))
            s.execute(delete(Reply).where(Reply.inquiry_id.in_(chunk)))
            s.execute(delete(Inquiry).where(Inquiry.id.in_(chunk)))
    if ids:
        log.info("purged %d inquiries past retention", len(ids), extra={"event": "purged", "count": len(ids)})
    return len(ids)
