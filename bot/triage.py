"""Triage: classify one inquiry, with no side effects.

The stages run in this order, each adding its reasons:

    parse -> screen -> detect language -> match topics -> decide action

The action follows from the stages (Mailman's chain, as data):
``ignore`` when screening says a machine sent it, ``escalate`` when the
``urgent`` topic matched (it always wins), ``draft`` when any topic matched,
``manual`` when a real inquiry matched none. A bare thank-you that follows
up one of our replies is ``ignore`` with ``note_only``: staff see it, nobody
answers it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import Config, Languages
from bot.followup import Lookup as ConversationLookup
from bot.followup import is_bare_thanks
from bot.inquirytext import InquiryText
from bot.language import detect_language
from bot.match import match_topics
from bot.message import Action, ParsedMessage, Reason, TopicResult, Triage
from bot.parse import parse_message
from bot.rules import Rules
from bot.screen import screen

URGENT = "urgent"

# Looks up the language of a sender's earlier messages (the ledger knows it).
HistoryLookup = Callable[[str], str | None]


@dataclass(frozen=True)
class TriageContext:
    """What triage needs besides the message: rules, languages, our addresses."""

    rules: Rules
    languages: Languages = field(default_factory=Languages)
    own_addresses: frozenset[str] = frozenset()
    available: frozenset[str] = frozenset({"en", "es"})
    history: HistoryLookup | None = None
    conversation: ConversationLookup | None = None

    @classmethod
    def from_config(
        cls,
        config: Config | None,
        rules: Rules,
        history: HistoryLookup | None = None,
        conversation: ConversationLookup | None = None,
    ) -> TriageContext:
        """The context for ``config`` (defaults when None), reply languages read from the templates."""
        replies = config.paths.replies if config else Path("replies")
        return cls(
            rules=rules,
            languages=config.languages if config else Languages(),
            own_addresses=config.own_addresses() if config else frozenset(),
            available=available_languages(replies),
            history=history,
            conversation=conversation,
        )


def available_languages(replies_dir: Path) -> frozenset[str]:
    """Languages that have reply templates (a folder with a reply layout)."""
    try:
        from bot.templates import TemplateLoader

        return TemplateLoader(replies_dir, "en", ["en"]).available_languages()
    except (ImportError, OSError):
        return frozenset(p.name for p in replies_dir.glob("*") if (p / "topics").is_dir())


def decide(screened_ignore: bool, topics: TopicResult) -> tuple[Action, Reason]:
    """The action and the reason for it, from the screening verdict and the topics."""
    if screened_ignore:
        return Action.IGNORE, Reason("action", "ignore", "sent by a machine: never answered")
    if URGENT in topics.topic_ids:
        return Action.ESCALATE, Reason("action", "escalate", "urgent: staff must see this first")
    if topics.hits:
        return Action.DRAFT, Reason("action", "draft", "a reply was drafted for staff approval")
    return Action.MANUAL, Reason("action", "manual", "no topic matched: a person should answer")


def triage_message(msg: ParsedMessage, ctx: TriageContext) -> Triage:
    """Screen, detect the language, match topics and decide, for a parsed message."""
    screened = screen(msg, ctx.own_addresses)
    if screened.ignore:
        action, why = decide(True, TopicResult())
        return Triage(msg, action, None, TopicResult(), (*screened.reasons, why))
    history = ctx.history(msg.from_address) if ctx.history and msg.from_address else None
    text = InquiryText.of(msg)
    language = detect_language(msg, ctx.rules, ctx.languages, ctx.available, history, text)
    conversation = ctx.conversation(msg) if ctx.conversation else None
    # A follow-up's subject is the old conversation's ("Re: Dose"): only its new words count.
    topics = match_topics(
        msg, language.language, ctx.rules, InquiryText("", text.body) if conversation else text
    )
    found: tuple[Reason, ...] = ()
    if conversation:
        found = (
            Reason("conversation", conversation.matched_by, f"follows up inquiry {conversation.root_id}"),
        )
        if not topics.hits and is_bare_thanks(msg):
            why = Reason("action", "thank-you", "a thank-you for our reply: recorded for staff, not answered")
            reasons = (*screened.reasons, *language.reasons, *found, why)
            return Triage(msg, Action.IGNORE, language, topics, reasons, conversation, note_only=True)
    action, why = decide(False, topics)
    reasons = (*screened.reasons, *language.reasons, *found, *topics.reasons, why)
    return Triage(msg, action, language, topics, reasons, conversation)


def triage_bytes(
    raw: bytes,
    *,
    config: Config | None,
    rules: Rules,
    history: HistoryLookup | None = None,
    context: TriageContext | None = None,
) -> Triage:
    """Parse ``raw`` and triage it. Raises ``bot.parse.ParseError`` for mail that cannot be handled."""
    ctx = context or TriageContext.from_config(config, rules, history)
    return triage_message(parse_message(raw), ctx)
