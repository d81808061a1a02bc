"""Patient mail is purged after the retention period, but nothing still waiting for staff."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.queue import audit
from bot.retention import purge
from bot.store import AuditEntry, Inquiry, Reply
from tests.unit.conftest import add_inquiry, days_ago


def test_closed_inquiries_past_retention_are_deleted_with_replies_and_audit(services) -> None:
    old = add_inquiry(services.store, 1, state="answered", received=days_ago(40))
    recent = add_inquiry(services.store, 2, state="answered", received=days_ago(5))
    with services.store.session() as s:
        inq = s.get(Inquiry, old)
        inq.replies.append(
            Reply(
                message_id="<r1@example.org>",
                state="sent",
                to_address="a@example.com",
                subject="Re: x",
                text="t",
                html="h",
                language="en",
                raw=b"x",
            )
        )
        audit(s, "tester", inq, "approve")
    assert purge(services) == 1
    with services.store.session() as s:
        assert [i.id for i in s.scalars(select(Inquiry))] == [recent]
        assert s.scalar(select(func.count(Reply.id))) == 0
        assert s.scalar(select(func.count(AuditEntry.id))) == 0


def test_items_waiting_for_staff_are_never_purged(services) -> None:
    for n, state in enumerate(["drafted", "escalated", "manual", "quarantined", "approved"]):
        add_inquiry(services.store, n, state=state, received=days_ago(400))
    assert purge(services) == 0
