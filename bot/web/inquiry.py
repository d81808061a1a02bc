"""The inquiry page: the message, what the bot found and why, the reply as it will be sent, the log.

The inbound message is shown as text (new part first, the quoted part folded
away) and, folded, as sanitised HTML (:mod:`bot.web.sanitize`). The reply's
HTML is shown in a sandboxed frame whose own response forbids scripts and
outside resources. Attachments of both are downloadable, never shown inline.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, abort, render_template
from sqlalchemy import select

from bot.queue import latest_reply
from bot.store import AuditEntry, Inquiry, Reply, ReplyState
from bot.web import common, mailparts
from bot.web.queue import neighbours
from bot.web.sanitize import sanitize_html

bp = Blueprint("inquiry", __name__)

# The reply preview frame: its inline styles are the email's own; nothing runs or loads.


def _inquiry(session: Any, inquiry_id: int) -> Inquiry:
    inq = session.get(Inquiry, inquiry_id)
    if inq is None:
        abort(404, description="There is no inquiry with this number.")
    return inq


def editable(inq: Inquiry, reply: Reply | None) -> bool:
    """Whether the reply may still be changed and approved."""
    return reply is not None and reply.state == ReplyState.DRAFT and inq.state in ("drafted", "escalated")


@bp.get("/inquiry/<int:inquiry_id>")
def show(inquiry_id: int) -> Any:
    svc = common.services()
    with svc.store.session() as s:
        inq = _inquiry(s, inquiry_id)
        parsed, parse_note = mailparts.read_inbound(inq.raw or b"")
        reply = latest_reply(inq)
        view = mailparts.read_reply(reply.raw) if reply is not None and reply.raw else None
        earlier = list(
            s.scalars(
                select(Inquiry)
                .where(Inquiry.from_address == inq.from_address, Inquiry.id != inq.id)
                .where(Inquiry.from_address != "")
                .order_by(Inquiry.received_at.desc())
                .limit(10)
            )
        )
        log = list(
            s.scalars(select(AuditEntry).where(AuditEntry.inquiry_id == inq.id).order_by(AuditEntry.at))
        )
        prev_id, next_id = neighbours(s, inq)
        topics = common.topic_choices(s)
    return render_template(
        "inquiry.html",
        inq=inq,
        parsed=parsed,
        parse_note=parse_note,
        safe_html=sanitize_html(parsed.html) if parsed.html else None,
        reasons=[common.split_reason(r) for r in inq.reasons or ()],
        reply=reply,
        view=view,
        seen=mailparts.fingerprint(reply.raw) if reply is not None else "",
        editable=editable(inq, reply),
        earlier=earlier,
        log=log,
        prev_id=prev_id,
        next_id=next_id,
        topics=sorted(set(topics) | set(inq.topics or ())),
        languages=svc.config.languages.supported,
    )


@bp.get("/inquiry/<int:inquiry_id>/reply.html")
def reply_html(inquiry_id: int) -> Any:
    """The reply's HTML part, for the sandboxed preview frame only."""
    with common.services().store.session() as s:
        reply = latest_reply(_inquiry(s, inquiry_id))
        html = mailparts.read_reply(reply.raw).html if reply is not None and reply.raw else None
    if html is None:
        abort(404, description="This reply has no formatted version.")
    return common.sandboxed_html(html)


def _download(attachments: tuple[Any, ...], index: int) -> Response:
    if not 0 <= index < len(attachments):
        abort(404, description="There is no such attachment.")
    att = attachments[index]
    # Always a download, never shown in the browser: a file could be a web page.
    name = re.sub(r"[^\w.\- ]+", "_", att.filename).strip() or "attachment"
    plain = name.encode("ascii", "ignore").decode() or "attachment"
    resp = Response(att.data, mimetype="application/octet-stream")
    resp.headers["Content-Disposition"] = f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name)}"
    return resp


@bp.get("/inquiry/<int:inquiry_id>/reply/attachment/<int:index>")
def reply_attachment(inquiry_id: int, index: int) -> Any:
    with common.services().store.session() as s:
        reply = latest_reply(_inquiry(s, inquiry_id))
        if reply is None:
            abort(404, description="This inquiry has no reply.")
        attachments = mailparts.read_reply(reply.raw).attachments
    return _download(attachments, index)


@bp.get("/inquiry/<int:inquiry_id>/attachment/<int:index>")
def inbound_attachment(inquiry_id: int, index: int) -> Any:
    with common.services().store.session() as s:
        parsed, _ = mailparts.read_inbound(_inquiry(s, inquiry_id).raw or b"")
    return _download(parsed.attachments, index)
