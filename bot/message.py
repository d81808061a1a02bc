"""The values that flow through the pipeline stages.

Every stage takes frozen values and returns a new frozen value; nothing is
mutated in place, so a decision can be replayed from the raw bytes and each
stage's reasons stay attached to what it decided (see Mailman's chains, but
immutable).

    fetch -> screen -> parse -> detect language -> match topics -> compose
          -> queue -> approve -> send
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class Action(enum.StrEnum):
    """What the bot does with an inquiry."""

    DRAFT = "draft"  # at least one topic matched: a reply is queued for approval
    ESCALATE = "escalate"  # urgent: flagged for staff first, never sent by the bot alone
    MANUAL = "manual"  # a real inquiry that no topic covers: a person answers
    IGNORE = "ignore"  # auto-replies, bounces, list mail, our own mail


@dataclass(frozen=True)
class Reason:
    """Why a stage decided what it did, in words staff can read.

    ``stage`` is the stage's name (``screen``, ``language``, ``topics`` ...),
    ``rule`` the rule or evidence that fired, ``detail`` a short sentence.
    Reasons never contain the message body beyond the matched words.
    """

    stage: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.stage}/{self.rule}: {self.detail}"


@dataclass(frozen=True)
class Attachment:
    """A file carried by an inquiry or a reply."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class ParsedMessage:
    """An inbound email, decoded into what the later stages need.

    ``message_id`` always has angle brackets; when the mail had none, a
    synthetic one derived from the content hash is used and
    ``synthetic_id`` is true. ``text`` is the whole readable body (HTML
    converted to text when there is no plain part); ``new_text`` is only
    what the person wrote now, with quoted earlier messages, attribution
    lines, signatures and footers removed into ``quoted_text``.
    ``headers`` keeps every header (name, decoded value) in order for the
    screening rules.
    """

    message_id: str
    synthetic_id: bool
    subject: str
    from_name: str
    from_address: str
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    reply_to: str | None = None
    date: datetime | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    content_language: str | None = None
    content_type: str = "text/plain"
    text: str = ""
    html: str | None = None
    new_text: str = ""
    quoted_text: str = ""
    attachments: tuple[Attachment, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    defects: tuple[str, ...] = ()
    content_hash: str = ""

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (case-insensitive), or None."""
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None

    def header_names(self) -> frozenset[str]:
        return frozenset(k.lower() for k, _ in self.headers)


@dataclass(frozen=True)
class ScreenResult:
    """The screening stage's verdict: should a machine-sent message be ignored."""

    ignore: bool
    reasons: tuple[Reason, ...] = ()


@dataclass(frozen=True)
class LanguageResult:
    """The language the person wrote in and the language we reply in.

    ``language`` is the detected language (None when nothing could be
    told); ``reply_language`` is the language the templates will be
    rendered in after the fallback order; ``evidence`` names what decided
    (``langdetect``, ``keywords``, ``content-language``, ``history``,
    ``default``).
    """

    language: str | None
    reply_language: str
    evidence: str
    confidence: float = 0.0
    fallback_used: bool = False
    reasons: tuple[Reason, ...] = ()


@dataclass(frozen=True)
class TopicHit:
    """One topic that matched, with the words or patterns that matched it."""

    topic_id: str
    priority: int
    matched: tuple[str, ...] = ()


@dataclass(frozen=True)
class TopicResult:
    """Every topic that matched, highest priority first."""

    hits: tuple[TopicHit, ...] = ()
    reasons: tuple[Reason, ...] = ()

    @property
    def topic_ids(self) -> tuple[str, ...]:
        return tuple(h.topic_id for h in self.hits)


@dataclass(frozen=True)
class Conversation:
    """The earlier exchange a message belongs to, when it answers one of our replies.

    ``root_id`` is the ledger id of the conversation's first inquiry;
    ``packets_sent`` the packets our replies in it already carried (not sent
    again); ``matched_by`` says how it was recognised (``in-reply-to``,
    ``references``, ``subject``).
    """

    root_id: int
    packets_sent: tuple[str, ...] = ()
    matched_by: str = ""


@dataclass(frozen=True)
class Triage:
    """The classification of one inquiry: no side effects were made to get it.

    ``note_only`` marks a message staff should see but nobody answers (a bare
    thank-you in a conversation).
    """

    message: ParsedMessage
    action: Action
    language: LanguageResult | None
    topics: TopicResult
    reasons: tuple[Reason, ...] = ()
    conversation: Conversation | None = None
    note_only: bool = False

    @property
    def topic_ids(self) -> tuple[str, ...]:
        return self.topics.topic_ids


@dataclass(frozen=True)
class Draft:
    """A reply ready to queue: the exact bytes that will be sent, plus what staff see."""

    message_id: str
    to_address: str
    subject: str
    text: str
    html: str
    language: str
    packets: tuple[str, ...]
    raw: bytes = field(repr=False)
    notes: tuple[str, ...] = ()
    # How the ledger stores ``raw`` (bot/store/attachments.py): the attachment parts many drafts
    # share (``parts``, byte for byte as in ``raw``) replaced by their digests; empty to store
    # ``raw`` whole. Neither is part of what the draft *is*.
    parts: tuple[bytes, ...] = field(default=(), repr=False, compare=False)
    stored: bytes = field(default=b"", repr=False, compare=False)
