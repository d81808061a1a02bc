"""What every blueprint shares: the services, the signed-in user, plain-word labels, formatting."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import abort, current_app, g

from bot.store import InquiryState, ReplyState

EXTENSION = "helpdesk"

# What each state means, in the words staff use.
STATE_LABELS: dict[str, str] = {
    InquiryState.ESCALATED: "Urgent: needs a person",
    InquiryState.DRAFTED: "Reply ready for review",
    InquiryState.MANUAL: "Needs a personal answer",
    InquiryState.QUARANTINED: "Could not be processed",
    InquiryState.APPROVED: "Approved, waiting to be sent",
    InquiryState.ANSWERED: "Answered",
    InquiryState.ANSWERED_PERSONALLY: "Answered personally",
    InquiryState.REJECTED: "Rejected",
    InquiryState.IGNORED: "Ignored (automatic mail)",
    InquiryState.DUPLICATE: "Duplicate (already received)",
}
REPLY_LABELS: dict[str, str] = {
    ReplyState.DRAFT: "Draft, not sent",
    ReplyState.APPROVED: "Approved, waiting to be sent",
    ReplyState.SENDING: "Being sent now",
    ReplyState.SENT: "Sent",
    ReplyState.FAILED: "Sending failed",
    ReplyState.REJECTED: "Not sent (rejected)",
}
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "es": "Spanish",
    "pt": "Portuguese",
    "fr": "French",
    "it": "Italian",
    "de": "German",
}
# Audit actions, as a sentence staff can read.
ACTION_LABELS: dict[str, str] = {
    "approve": "approved the reply",
    "approve_send": "approved the reply and sent it",
    "reject": "rejected",
    "answered_personally": "marked as answered personally",
    "edit": "edited the reply text",
    "redraft": "re-drafted the reply",
    "packets": "changed the attached packets",
    "back_to_draft": "put the reply back to draft",
    "sent": "sent the reply",
    "send_failed": "could not send the reply",
}


def services() -> Any:
    """The :class:`bot.services.Services` the app was made with."""
    return current_app.extensions[EXTENSION]["services"]


def current_user() -> Any:
    """The signed-in :class:`bot.store.users.User`, or None on the login page."""
    return g.get("user")


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse (403) anyone but an admin; login itself is checked for every page by the app."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        user = current_user()
        if user is None or not user.is_admin:
            abort(403, description="This page is for administrators only.")
        return view(*args, **kwargs)

    return wrapped


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: they were stored in UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def format_when(value: datetime | None) -> str:
    """``25 Nov 2026, 14:03 UTC``, or an empty string."""
    value = as_utc(value)
    return value.strftime("%d %b %Y, %H:%M UTC") if value else ""


def format_ago(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in rough plain words: ``5 minutes ago``, ``3 days ago``."""
    value = as_utc(value)
    if value is None:
        return ""
    seconds = int(((now or datetime.now(UTC)) - value).total_seconds())
    if seconds < 60:
        return "just now"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return ""


def split_reason(reason: str) -> tuple[str, str]:
    """``"language/langdetect: Spanish (0.99)"`` as (``"language"``, ``"Spanish (0.99)"``)."""
    head, sep, detail = reason.partition(": ")
    if not sep:
        return "", reason
    return head.split("/", 1)[0], detail


def topic_choices(session: Any) -> list[str]:
    """Topic ids staff can choose from: the live rules', else those seen on recent inquiries."""
    try:
        rules = services().rules.current()
        topics = getattr(rules, "topics", None)
        if isinstance(topics, dict):
            return list(topics)
        if topics:
            return [getattr(t, "id", None) or getattr(t, "topic_id", str(t)) for t in topics]
    except Exception:  # noqa: BLE001 - the page still works with the ids seen so far
        pass
    from sqlalchemy import select

    from bot.store import Inquiry

    seen: dict[str, None] = {}
    for topics in session.scalars(select(Inquiry.topics).order_by(Inquiry.id.desc()).limit(1000)):
        for topic in topics or ():
            seen.setdefault(topic)
    return sorted(seen)


def topic_name(topic_id: str) -> str:
    """A topic's title from the live rules (cached for the request), else its id in words."""
    titles = g.get("_topic_titles")
    if titles is None:
        titles = {}
        try:
            for t in getattr(services().rules.current(), "topics", None) or ():
                if getattr(t, "id", None) and getattr(t, "title", None):
                    titles[t.id] = t.title
        except Exception:  # noqa: BLE001 - ids are readable enough
            pass
        g._topic_titles = titles
    return titles.get(topic_id) or topic_id.replace("_", " ")


def topic_priorities() -> dict[str, int]:
    """Each topic's priority in the live rules (0 when unknown), to order re-drafted topics."""
    try:
        topics = getattr(services().rules.current(), "topics", None) or {}
        items = topics.values() if isinstance(topics, dict) else topics
        return {
            (getattr(t, "id", None) or getattr(t, "topic_id", "")): int(getattr(t, "priority", 0))
            for t in items
        }
    except Exception:  # noqa: BLE001
        return {}


# A reply's HTML shown in a sandboxed frame: nothing in it may run, load or be framed elsewhere.
PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"


def sandboxed_html(html: str) -> Any:
    """A response holding a reply's HTML part for the preview frame, under :data:`PREVIEW_CSP`."""
    from flask import Response

    resp = Response(html, mimetype="text/html")
    resp.headers["Content-Security-Policy"] = PREVIEW_CSP
    resp.headers["X-Frame-Options"] = "SAMEORIGIN"
    return resp
