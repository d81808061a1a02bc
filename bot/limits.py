"""Per-sender limits on drafting, checked against the ledger (Mailman's autorespond, and more).

A sender gets at most ``screening.daily_cap`` drafts in 24 hours and none
within ``screening.grace_minutes`` of the last one, which stops loops with
other robots that slip past screening. A sender who asked to unsubscribe
gets no more drafts at all: their later mail goes to a person, who decides.
Each limit gives a reason staff can read, and the inquiry becomes ``manual``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session

from bot.message import Reason
from bot.services import Services
from bot.store import Inquiry, InquiryState, Reply

# The unsubscribe request counts once it was acted on: drafted, approved or answered.
_HONOURED = (InquiryState.DRAFTED, InquiryState.APPROVED, InquiryState.ANSWERED)


def sender_limit(
    services: Services, session: Session, address: str, now: datetime, current_id: int | None = None
) -> Reason | None:
    """Why the bot must not draft for ``address`` now, or None when it may."""
    return _unsubscribed(session, address, current_id) or _daily_cap(services, session, address, now)


def _unsubscribed(session: Session, address: str, current_id: int | None) -> Reason | None:
    asked = session.scalar(
        select(func.min(Inquiry.received_at)).where(
            Inquiry.from_address == address,
            Inquiry.id != (current_id or -1),
            Inquiry.state.in_([str(s) for s in _HONOURED]),
            cast(Inquiry.topics, String).contains('"unsubscribe"'),
        )
    )
    if asked is None:
        return None
    return Reason("screen", "unsubscribed", f"this sender asked for no more mail on {asked:%Y-%m-%d}")


def _daily_cap(services: Services, session: Session, address: str, now: datetime) -> Reason | None:
    cfg = services.config.screening
    since = now - timedelta(days=1)
    mine = select(func.count(Reply.id)).join(Inquiry).where(Inquiry.from_address == address)
    count = session.scalar(mine.where(Reply.created_at >= since))
    if count is not None and count >= cfg.daily_cap:
        return Reason("screen", "daily-cap", f"this sender already has {count} replies in the last 24 hours")
    if cfg.grace_minutes:
        grace = now - timedelta(minutes=cfg.grace_minutes)
        recent = session.scalar(mine.where(Reply.created_at >= grace))
        if recent:
            return Reason("screen", "grace-period", f"replied within the last {cfg.grace_minutes} minutes")
    return None
