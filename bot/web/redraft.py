"""Re-drafting a reply after staff chose other topics, another language or other packets.

The compose stage is run again, exactly as ingestion runs it, from a
:class:`~bot.message.Triage` rebuilt with the chosen topics and reply
language (the message itself is parsed again from the stored bytes). The
result replaces the draft in place (same row, new bytes), or becomes the
first draft of an inquiry that had none (a "needs a personal answer" item
staff decided the bot can answer after all).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from bot.message import Action, LanguageResult, Reason, TopicHit, TopicResult, Triage
from bot.queue import latest_reply
from bot.store import Inquiry, InquiryState, Reply, ReplyState

URGENT = "urgent"


class RedraftError(Exception):
    """The reply cannot be re-drafted; the message says why, in plain words."""


def rebuild_triage(inq: Inquiry, topics: Iterable[str], language: str, priorities: dict[str, int]) -> Triage:
    """A Triage of ``inq`` with staff's topics and reply language instead of the detected ones."""
    from bot.parse import parse_message

    try:
        message = parse_message(inq.raw)
    except Exception as exc:  # noqa: BLE001
        raise RedraftError("This message could not be read, so the bot cannot draft a reply to it.") from exc
    chosen = sorted(dict.fromkeys(topics), key=lambda t: -priorities.get(t, 0))
    hits = tuple(TopicHit(t, priorities.get(t, 0), ()) for t in chosen)
    why = Reason("staff", "chosen", "topics and reply language chosen by staff")
    lang = LanguageResult(
        language=inq.language,
        reply_language=language,
        evidence="staff",
        confidence=1.0,
        reasons=(Reason("language", "staff", f"reply language {language} chosen by staff"),),
    )
    action = Action.ESCALATE if URGENT in chosen else Action.DRAFT
    return Triage(message, action, lang, TopicResult(hits, (why,)), (why,))


def compose(services: Any, triage: Triage, exclude: frozenset[str], extra: tuple[str, ...]) -> Any:
    """Run the compose stage, leaving out ``exclude`` and adding the packets in ``extra``."""
    from bot.compose import compose_reply

    try:
        return compose_reply(
            triage,
            config=services.config,
            rules=services.rules.current(),
            loader=services.template_loader(),
            packets=services.packet_resolver(),
            now=datetime.now(UTC),
            exclude_packets=exclude,
            extra_packets=extra,
        )
    except Exception as exc:  # noqa: BLE001 - shown to staff; the old draft stays
        raise RedraftError(f"The reply could not be drafted: {exc}") from exc


def redraft(
    services: Any,
    inq: Inquiry,
    *,
    topics: Iterable[str],
    language: str,
    priorities: dict[str, int],
    exclude: frozenset[str] = frozenset(),
    extra: tuple[str, ...] = (),
) -> Reply:
    """Draft ``inq``'s reply again; returns the (new or updated) reply row. Caller commits."""
    topics = list(topics)
    if not topics:
        raise RedraftError("Choose at least one topic, so the bot knows what to answer.")
    reply = latest_reply(inq)
    has_draft = reply is not None and reply.state == ReplyState.DRAFT
    if not has_draft and inq.state != InquiryState.MANUAL:
        raise RedraftError("Only a reply that is still a draft can be re-drafted.")
    draft = compose(services, rebuild_triage(inq, topics, language, priorities), exclude, extra)
    if reply is None or not has_draft:
        reply = Reply(state=ReplyState.DRAFT.value, created_at=datetime.now(UTC))
        inq.replies.append(reply)
    reply.message_id, reply.to_address, reply.subject = draft.message_id, draft.to_address, draft.subject
    reply.text, reply.html, reply.raw = draft.text, draft.html, draft.raw
    reply.language, reply.packets, reply.notes = draft.language, list(draft.packets), list(draft.notes)
    reply.last_error = None
    inq.topics, inq.reply_language = topics, language
    if inq.state == InquiryState.MANUAL:
        urgent = URGENT in topics
        inq.state = (InquiryState.ESCALATED if urgent else InquiryState.DRAFTED).value
        inq.action = (Action.ESCALATE if urgent else Action.DRAFT).value
        inq.urgent = urgent
    return reply
