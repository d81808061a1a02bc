"""The queue page: what waits for staff, urgent first, then oldest first.

Filters by state, language and topic; counts per state; pages of
``QUEUE_PAGE_SIZE`` rows. The order is the one :func:`bot.queue.list_items`
uses (urgent, received_at, id), done here as one query with LIMIT/OFFSET.
"Waits for staff" is the indexed ``Inquiry.waiting`` flag (an open state or a
failed send) and a state tab is one ``state``; both have an index in exactly
this order (migration 0008), so a page, however deep, is read off the index
instead of sorting every open item: page 100 costs what the first does. The
topic filter matches the quoted topic id in the JSON list's text, which works
on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import String, and_, cast, false, func, or_, select, true
from sqlalchemy.sql import ColumnElement, Select

from bot.store import OPEN_STATES, Inquiry, InquiryState, Reply
from bot.web import common

bp = Blueprint("queue", __name__)

ORDER = (Inquiry.urgent.desc(), Inquiry.received_at, Inquiry.id)
REVERSE = (Inquiry.urgent.asc(), Inquiry.received_at.desc(), Inquiry.id.desc())
# The state filter's special values besides the states themselves.
OPEN, FAILED, ALL = "open", "failed", "all"


def state_condition(state: str) -> ColumnElement[bool] | None:
    """The WHERE clause for a state filter value; None means no condition."""
    if state == ALL:
        return None
    if state == FAILED:
        return Inquiry.send_failed == true()
    if state == OPEN:
        # An open state, or a failed send (its inquiry is still "approved"): one indexed flag.
        return Inquiry.waiting == true()
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


def page_query(conds: list[ColumnElement[bool]], size: int, offset: int) -> Select[tuple[Inquiry]]:
    """One page of the queue in its order (urgent first, then oldest), ``size`` rows from ``offset``.

    With only a state filter the page is read off that state's index (or the waiting flag's),
    so OFFSET skips index entries without reading their rows.
    """
    return select(Inquiry).where(*conds).order_by(*ORDER).limit(size).offset(offset)


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
    for name in (FAILED, OPEN):
        cond = state_condition(name)
        counts[name] = session.scalar(select(func.count()).select_from(Inquiry).where(cond)) or 0
    counts[ALL] = sum(n for s, n in counts.items() if s in set(InquiryState))
    return counts


def _first_waiting(session: Any, order: tuple[Any, ...], *conds: ColumnElement[bool]) -> int | None:
    query = select(Inquiry.id).where(state_condition(OPEN), *conds).order_by(*order).limit(1)
    return session.scalar(query)


def neighbours(session: Any, inq: Inquiry) -> tuple[int | None, int | None]:
    """The open items just before and after ``inq`` in queue order (for j/k on the inquiry page).

    Each is an index seek from ``inq``'s place: first among items as urgent as it is,
    then, past the end of that group, into the other one (urgent items come first).
    """
    received, ident = inq.received_at, inq.id
    # received_at >= x AND (received_at > x OR id > y): the first term is a range on the index.
    later = and_(Inquiry.received_at >= received, or_(Inquiry.received_at > received, Inquiry.id > ident))
    earlier = and_(Inquiry.received_at <= received, or_(Inquiry.received_at < received, Inquiry.id < ident))
    same = Inquiry.urgent == (true() if inq.urgent else false())
    nxt = _first_waiting(session, ORDER, same, later)
    if nxt is None and inq.urgent:
        nxt = _first_waiting(session, ORDER, Inquiry.urgent == false())
    prev = _first_waiting(session, REVERSE, same, earlier)
    if prev is None and not inq.urgent:
        prev = _first_waiting(session, REVERSE, Inquiry.urgent == true())
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
        rows = list(s.scalars(page_query(conds, size, (page - 1) * size)))
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
