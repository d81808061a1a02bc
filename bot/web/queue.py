"""The queue page: what waits for staff, urgent first, then oldest first.

Filters by state, language and topic; counts per state; pages of
``QUEUE_PAGE_SIZE`` rows. The order is the one :func:`bot.queue.list_items`
uses (urgent, received_at, id), done here as one query with LIMIT/OFFSET so a
page costs the same with 10,000 items. The topic filter matches the quoted
topic id in the JSON list's text, which works on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import String, and_, cast, false, func, or_, select
from sqlalchemy.sql import ColumnElement

from bot.store import OPEN_STATES, Inquiry, InquiryState, Reply, ReplyState
from bot.web import common

bp = Blueprint("queue", __name__)

ORDER = (Inquiry.urgent.desc(), Inquiry.received_at, Inquiry.id)
# The state filter's special values besides the states themselves.
OPEN, FAILED, ALL = "open", "failed", "all"


def _send_failed() -> ColumnElement[bool]:
    # IN over the few failed replies, not a correlated EXISTS: the EXISTS, ORed with the state
    # filter, made SQLite test every inquiry in turn instead of using the indexes.
    return Inquiry.id.in_(select(Reply.inquiry_id).where(Reply.state == ReplyState.FAILED))


def state_condition(state: str) -> ColumnElement[bool] | None:
    """The WHERE clause for a state filter value; None means no condition."""
    if state == ALL:
        return None
    if state == FAILED:
        return _send_failed()
    if state == OPEN:
        # A failed send needs a person too, though its inquiry is still "approved".
        return or_(Inquiry.state.in_([str(s) for s in OPEN_STATES]), _send_failed())
    if state in set(InquiryState):
        return Inquiry.state == state
    return false()


def filters(state: str, language: str, topic: str) -> list[ColumnElement[bool]]:
    """Every condition of the chosen filters, for the page and its count."""
    conds = [c for c in (state_condition(state),) if c is not None]
    if language == "none":
        conds.append(Inquiry.language.is_(None))
    elif language:
        conds.append(Inquiry.language == language)
    if topic:
        # '"dosage"' in the JSON text: the quotes keep "dose" from matching "dosage".
        conds.append(cast(Inquiry.topics, String).contains(f'"{topic}"', autoescape=True))
    return conds


def latest_replies(session: Any, inquiry_ids: list[int]) -> dict[int, Reply]:
    """The newest reply of each inquiry on the page, in one query."""
    if not inquiry_ids:
        return {}
    newest = select(func.max(Reply.id)).where(Reply.inquiry_id.in_(inquiry_ids)).group_by(Reply.inquiry_id)
    rows = session.scalars(select(Reply).where(Reply.id.in_(newest)))
    return {r.inquiry_id: r for r in rows}


def state_counts(session: Any) -> dict[str, int]:
    """How many inquiries are in each state, plus ``open`` and ``failed``."""
    counts = {
        str(state): n
        for state, n in session.execute(select(Inquiry.state, func.count()).group_by(Inquiry.state))
    }
    counts[FAILED] = session.scalar(select(func.count()).select_from(Inquiry).where(_send_failed())) or 0
    counts[OPEN] = session.scalar(select(func.count()).select_from(Inquiry).where(state_condition(OPEN))) or 0
    counts[ALL] = sum(n for s, n in counts.items() if s in set(InquiryState))
    return counts


def neighbours(session: Any, inq: Inquiry) -> tuple[int | None, int | None]:
    """The open items just before and after ``inq`` in queue order (for j/k on the inquiry page)."""
    open_ = state_condition(OPEN)
    received, ident = inq.received_at, inq.id
    later = or_(Inquiry.received_at > received, and_(Inquiry.received_at == received, Inquiry.id > ident))
    earlier = or_(Inquiry.received_at < received, and_(Inquiry.received_at == received, Inquiry.id < ident))
    same = Inquiry.urgent.is_(True) if inq.urgent else Inquiry.urgent.is_(False)
    # Urgent items come first: after an urgent item come the other urgent ones, then the rest.
    after = or_(and_(same, later), Inquiry.urgent.is_(False)) if inq.urgent else and_(same, later)
    before = and_(same, earlier) if inq.urgent else or_(and_(same, earlier), Inquiry.urgent.is_(True))
    nxt = session.scalar(select(Inquiry.id).where(open_, after).order_by(*ORDER).limit(1))
    reverse = (Inquiry.urgent.asc(), Inquiry.received_at.desc(), Inquiry.id.desc())
    prev = session.scalar(select(Inquiry.id).where(open_, before).order_by(*reverse).limit(1))
    return prev, nxt


@bp.get("/queue")
def index() -> Any:
    state = request.args.get("state", OPEN)
    language = request.args.get("language", "")
    topic = request.args.get("topic", "")
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    size = current_app.config["QUEUE_PAGE_SIZE"]
    with common.services().store.session() as s:
        conds = filters(state, language, topic)
        total = s.scalar(select(func.count()).select_from(Inquiry).where(*conds)) or 0
        pages = max(math.ceil(total / size), 1)
        page = min(page, pages)
        rows = list(
            s.scalars(select(Inquiry).where(*conds).order_by(*ORDER).limit(size).offset((page - 1) * size))
        )
        replies = latest_replies(s, [r.id for r in rows])
        counts = state_counts(s)
        topics = common.topic_choices(s)
    return render_template(
        "queue.html",
        rows=rows,
        replies=replies,
        counts=counts,
        total=total,
        page=page,
        pages=pages,
        state=state,
        language=language,
        topic=topic,
        languages=common.services().config.languages.supported,
        topics=topics,
        tabs=[OPEN, *[str(x) for x in OPEN_STATES], InquiryState.APPROVED.value, FAILED, ALL],
        closed_states=[
            str(x) for x in InquiryState if x not in OPEN_STATES and x is not InquiryState.APPROVED
        ],
        args={"state": state, "language": language, "topic": topic},
    )
