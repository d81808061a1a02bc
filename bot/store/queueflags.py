"""Keeping the queue's denormalised flags, ``Inquiry.send_failed`` and ``Inquiry.waiting``, right.

Registered when :mod:`bot.store` is imported: every ORM flush, whoever makes
it, passes through :func:`_keep_queue_flags`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from bot.store.models import Inquiry, Reply, ReplyState, is_waiting


def _reply_state_change(reply: Reply) -> tuple[str | None, str | None]:
    """(before, after) of a reply's state in this flush; before is None for a new reply."""
    history = inspect(reply).attrs.state.history
    before = history.deleted[0] if history.deleted else (None if history.added else reply.state)
    return before, reply.state


@event.listens_for(Session, "before_flush")
def _keep_queue_flags(session: Session, _context: Any, _instances: Any) -> None:
    """Keep ``Inquiry.send_failed`` and ``Inquiry.waiting`` in step with the states being flushed.

    Runs for every ORM flush, so every writer (ingestion, sending, the web app's actions, the
    command line) keeps the flags right without knowing about them. A Core UPDATE that moves a
    reply to or from "failed", or changes an inquiry's state, bypasses this and must set them itself
    (none does: the Core UPDATEs in bot/queue.py and bot/send.py go draft -> approved -> sending).
    """
    failed = ReplyState.FAILED.value
    touched = {o for o in (*session.new, *session.dirty) if isinstance(o, Inquiry)}
    gone = {o for o in session.deleted if isinstance(o, Reply)}
    for reply in (*session.new, *session.dirty, *gone):
        if not isinstance(reply, Reply):
            continue
        before, after = _reply_state_change(reply)
        was_failed, is_failed = before == failed, after == failed and reply not in gone
        if was_failed == is_failed:
            continue
        # A new reply made with inquiry_id rather than through the relationship has no inquiry yet.
        inquiry = reply.inquiry or session.get(Inquiry, reply.inquiry_id)
        if inquiry is None:
            continue
        # Leaving "failed": another reply of the same inquiry may still be failed.
        inquiry.send_failed = is_failed or any(
            r.state == failed for r in inquiry.replies if r is not reply and r not in gone
        )
        touched.add(inquiry)
    for inquiry in touched:
        waiting = is_waiting(inquiry.state, inquiry.send_failed)
        if inquiry.waiting != waiting:
            inquiry.waiting = waiting
