"""What the ledger knows about a batch's senders, asked once for the whole batch.

Triage and the sender limits ask the ledger three things about each
message: the language of the sender's latest inquiry (for short mail), the
conversation it follows up, and whether a limit stops a draft. Asked one
message at a time that is six or more queries a message; :meth:`Lookups.load`
asks them for a batch in about six queries in all. A single message (a
quarantined one retried) is a batch of one: there is no second code path.

A batch's lookups see the ledger as it was when they were loaded: a second
message from the same sender in the same batch must be decided after the
first is recorded (``bot.ingest`` does so).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.followup import conversation_key, find_conversations
from bot.limits import sender_limits
from bot.message import Conversation, ParsedMessage, Reason
from bot.services import Services
from bot.store import Inquiry


def latest_languages(session: Session, senders: set[str]) -> dict[str, str]:
    """Each sender's language on their latest inquiry that has one; senders with none are absent."""
    if not senders:
        return {}
    latest = (
        select(func.max(Inquiry.id))
        .where(Inquiry.from_address.in_(senders), Inquiry.language.is_not(None))
        .group_by(Inquiry.from_address)
    )
    rows = session.execute(select(Inquiry.from_address, Inquiry.language).where(Inquiry.id.in_(latest)))
    return {sender: language for sender, language in rows}


@dataclass(frozen=True)
class Lookups:
    """The ledger's answers for one batch of parsed messages."""

    languages: dict[str, str]
    conversations: dict[tuple[object, ...], Conversation]
    limits: dict[str, Reason]

    @classmethod
    def load(
        cls,
        services: Services,
        session: Session,
        msgs: Sequence[ParsedMessage],
        now: datetime,
        exclude_ids: frozenset[int] = frozenset(),
    ) -> Lookups:
        """Ask the ledger about every sender and thread of ``msgs`` at once."""
        senders = {msg.from_address for msg in msgs}
        return cls(
            languages=latest_languages(session, {s for s in senders if s}),
            conversations=find_conversations(session, msgs, now),
            limits=sender_limits(services, session, senders, now, exclude_ids),
        )

    def history(self, address: str) -> str | None:
        """The language of the sender's latest earlier inquiry, for short messages; None if unknown."""
        return self.languages.get(address)

    def conversation(self, msg: ParsedMessage) -> Conversation | None:
        """The conversation of ours that ``msg`` follows up, or None."""
        return self.conversations.get(conversation_key(msg))

    def limit(self, address: str) -> Reason | None:
        """Why the bot must not draft for ``address`` now (a sender limit), or None when it may."""
        return self.limits.get(address)
