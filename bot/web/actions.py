"""What staff do to an inquiry: every action is a POST form (CSRF-checked by the app) and audited.

Approve, approve and send now, edit the text, re-draft with other topics or
language, change packets, reject with a reason, mark as answered
personally, and put a failed reply back to draft. The rules of each action
live in :mod:`bot.queue` (shared with the command line); this module only
turns forms into those calls and tells staff, in plain words, what happened.
After approving or closing an item, staff are taken to the next one.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from bot import queue
from bot.store import Inquiry, InquiryState, ReplyState
from bot.web import common, mailparts
from bot.web.inquiry import editable
from bot.web.queue import neighbours
from bot.web.redraft import RedraftError, redraft

log = logging.getLogger(__name__)
bp = Blueprint("actions", __name__, url_prefix="/inquiry/<int:inquiry_id>")


@bp.errorhandler(queue.QueueError)
def _unknown(exc: queue.QueueError) -> Response:
    flash(f"{exc}.", "error")
    return redirect(url_for("queue.index"))


def _actor() -> str:
    return common.current_user().username


def _back(inquiry_id: int) -> Response:
    return redirect(url_for("inquiry.show", inquiry_id=inquiry_id))


def _onward(session: Any, inq: Inquiry) -> str:
    """Where to go after an item is dealt with: the next one in the queue, or the queue."""
    _, nxt = neighbours(session, inq)
    return url_for("inquiry.show", inquiry_id=nxt) if nxt else url_for("queue.index")


def _unchanged(inq: Inquiry) -> bool:
    """Whether the reply is still the one the page showed (its fingerprint came with the form).

    Staff approve exactly what they read: if someone else edited or re-drafted
    the reply meanwhile, the action is refused and the page shows the new one.
    """
    reply = queue.latest_reply(inq)
    seen = request.form.get("seen", "")
    if reply is not None and seen == mailparts.fingerprint(reply.raw):
        return True
    flash("The reply was changed by someone else after you opened this page. Please read it again.", "error")
    return False


@bp.post("/approve")
def approve(inquiry_id: int) -> Response:
    send_now = request.form.get("send_now") == "1"
    svc = common.services()
    try:
        with svc.store.session() as s:
            inq = queue.get(s, inquiry_id)
            if not _unchanged(inq):
                return _back(inquiry_id)
            onward = _onward(s, inq)
            approved_id = queue.approve(s, inquiry_id, _actor()).id
    except queue.QueueError as exc:
        flash(f"Not approved: {exc}.", "error")
        return _back(inquiry_id)
    if not send_now:
        flash(f"Inquiry {inquiry_id}: the reply is approved and will be sent in a moment.")
        return redirect(onward)
    from bot.send import send_once

    try:
        report = send_once(svc, only=[approved_id])  # this reply only: the worker sends the rest
    except Exception as exc:  # noqa: BLE001 - the outbox retries; staff need to know
        log.warning("send now failed: %s", type(exc).__name__)
        flash(
            f"Inquiry {inquiry_id}: approved, but sending did not work right now ({type(exc).__name__}). "
            "The bot will keep trying.",
            "error",
        )
        return _back(inquiry_id)
    with svc.store.session() as s:
        reply = queue.latest_reply(queue.get(s, inquiry_id))
        state, error = (reply.state, reply.last_error) if reply else (None, None)
    if state == ReplyState.SENT:
        flash(f"Inquiry {inquiry_id}: the reply is approved and sent.")
        return redirect(onward)
    flash(f"Inquiry {inquiry_id}: approved, but not sent yet: {error or report.summary()}", "error")
    return _back(inquiry_id)


@bp.post("/edit")
def edit(inquiry_id: int) -> Response:
    text = request.form.get("text", "").replace("\r\n", "\n")
    if not text.strip():
        flash("The reply text cannot be empty. Nothing was changed.", "error")
        return _back(inquiry_id)
    svc = common.services()
    with svc.store.session() as s:
        inq = queue.get(s, inquiry_id)
        reply = queue.latest_reply(inq)
        if not editable(inq, reply):
            flash("This reply can no longer be changed.", "error")
            return _back(inquiry_id)
        if not _unchanged(inq):
            return _back(inquiry_id)
        reply.raw, reply.text, reply.html, added = mailparts.edit_reply(
            reply.raw, text, reply.language, svc.replies_dir
        )
        queue.audit(s, _actor(), inq, "edit", reply_id=reply.id, disclaimer_added=added)
    flash(
        "Your changes to the reply are saved."
        + (" The disclaimer was added back at the end." if added else "")
    )
    return _back(inquiry_id)


def _redraft(
    inquiry_id: int, *, topics: list[str] | None, language: str | None, keep: list[str] | None
) -> Response:
    svc = common.services()
    try:
        with svc.store.session() as s:
            inq = queue.get(s, inquiry_id)
            reply = queue.latest_reply(inq)
            old_topics, old_packets = list(inq.topics or ()), list(reply.packets if reply else ())
            lang = language or (reply.language if reply else None) or inq.reply_language
            lang = lang or svc.config.languages.default
            exclude, extra = frozenset(), ()
            if keep is not None:
                exclude = frozenset(p for p in request.form.getlist("offered") if p not in keep)
                extra = tuple(p for p in keep if p not in old_packets)
            new = redraft(
                svc,
                inq,
                topics=topics if topics is not None else old_topics,
                language=lang,
                priorities=common.topic_priorities(),
                exclude=exclude,
                extra=extra,
            )
            s.flush()
            action = "packets" if keep is not None else "redraft"
            queue.audit(
                s,
                _actor(),
                inq,
                action,
                reply_id=new.id,
                topics_before=old_topics,
                topics=list(inq.topics),
                language=lang,
                packets_before=old_packets,
                packets=list(new.packets),
            )
    except (queue.QueueError, RedraftError) as exc:
        flash(str(exc), "error")
        return _back(inquiry_id)
    flash("The reply was drafted again. Please read it before approving.")
    return _back(inquiry_id)


@bp.post("/redraft")
def change_topics(inquiry_id: int) -> Response:
    return _redraft(
        inquiry_id, topics=request.form.getlist("topics"), language=request.form.get("language"), keep=None
    )


@bp.post("/packets")
def change_packets(inquiry_id: int) -> Response:
    return _redraft(inquiry_id, topics=None, language=None, keep=request.form.getlist("packets"))


def _close(inquiry_id: int, fn: Any, done: str) -> Response:
    with common.services().store.session() as s:
        try:
            inq = queue.get(s, inquiry_id)
            onward = _onward(s, inq)
            fn(s, inq)
        except queue.QueueError as exc:
            s.rollback()
            flash(f"Nothing was changed: {exc}.", "error")
            return _back(inquiry_id)
    flash(f"Inquiry {inquiry_id}: {done}")
    return redirect(onward)


@bp.post("/reject")
def reject(inquiry_id: int) -> Response:
    reason = request.form.get("reason", "").strip()[:500]
    return _close(
        inquiry_id,
        lambda s, inq: queue.reject(s, inq.id, _actor(), reason),
        "rejected; nothing will be sent.",
    )


@bp.post("/answered")
def answered(inquiry_id: int) -> Response:
    note = request.form.get("note", "").strip()[:500]
    return _close(
        inquiry_id,
        lambda s, inq: queue.mark_answered_personally(s, inq.id, _actor(), note),
        "marked as answered personally; the draft will not be sent.",
    )


@bp.post("/back-to-draft")
def back_to_draft(inquiry_id: int) -> Response:
    """A reply whose sending failed goes back to draft, to be corrected and approved again."""
    with common.services().store.session() as s:
        inq = queue.get(s, inquiry_id)
        reply = queue.latest_reply(inq)
        if reply is None or reply.state != ReplyState.FAILED:
            abort(409, description="Only a reply whose sending failed can be put back to draft.")
        reply.state, reply.attempts, reply.next_attempt_at = ReplyState.DRAFT.value, 0, None
        inq.state = (InquiryState.ESCALATED if inq.urgent else InquiryState.DRAFTED).value
        queue.audit(
            s, _actor(), inq, "back_to_draft", reply_id=reply.id, error=(reply.last_error or "")[:300]
        )
    flash("The reply is a draft again. Correct it if needed, then approve it.")
    return _back(inquiry_id)
