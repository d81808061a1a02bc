"""Compose the reply a person receives: templates, packets, disclaimer, headers.

:func:`compose_reply` turns a :class:`~bot.message.Triage` into a
:class:`~bot.message.Draft` holding the exact bytes that will be sent once
staff approve. It never sends and never logs bodies or addresses.

Order of work: choose the reply language (the first in the loader's search
order that has every template needed, so a reply never mixes languages),
gather the packets, render one section per topic, render both layouts, then
append the disclaimer to both parts here, in code, so that editing a
template cannot remove it. Whatever comes from the inquiry and goes into a
header (subject, address, ids) is cleaned of control characters first, and
the header writer (:mod:`bot.mimewrite`) refuses any value still holding a
line break, so no header can be injected. The MIME bytes are written by
:mod:`bot.mimeout`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import make_msgid
from typing import Any, NamedTuple, Protocol

from jinja2 import Template

from bot import sandbox
from bot.config import Config
from bot.disclaimer import append_disclaimer, load_disclaimer
from bot.message import Draft, Triage
from bot.mimeout import attachment_bytes, reply_chunks
from bot.reply_headers import (  # noqa: F401 - reply_subject and reply_address are part of this API
    clean_header_text,
    header_lines,
    reply_address,
    reply_subject,
    sender_name,
)
from bot.store.attachments import pack_chunks
from bot.templates import DISCLAIMER, LAYOUT_HTML, LAYOUT_TEXT, STRINGS, TemplateLoader, topic_template


class PacketResolver(Protocol):
    """Gives a packet's file: ``(language, packet_id) -> (filename, title, pdf bytes)``."""

    def __call__(self, language: str, packet_id: str) -> tuple[str, str, bytes]: ...


class RulesLike(Protocol):
    """What the composer needs of :class:`bot.rules.Rules`."""

    def packets_for(self, topic_ids: Iterable[str], language: str) -> list[str]: ...

    def topic(self, topic_id: str) -> Any: ...


# Answered alone and without packets: an emergency gets only the holding
# message (staff always review it); someone leaving is sent no documents.
EXCLUSIVE_TOPICS = ("urgent", "unsubscribe")
# Topics whose packets come in a fixed language whatever the reply's language.
PACKET_LANGUAGE = {"spanish_materials": "es"}
LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "pt": "Portuguese", "fr": "French", "it": "Italian"}


class _Packet(NamedTuple):
    id: str
    language: str
    filename: str
    title: str
    data: bytes


def _template_name(rules: RulesLike, topic_id: str) -> str:
    # The rules may name the template ("dosage", "topics/dosage.txt.j2"); else the topic id does.
    try:
        value = str(getattr(rules.topic(topic_id), "template", "") or topic_id)
    except LookupError:
        value = topic_id
    if "/" not in value:
        value = topic_template(value.removesuffix(".j2").removesuffix(".txt"))
    return value if value.endswith(".j2") else f"{value}.txt.j2"


def _topics(triage: Triage) -> tuple[list[str], list[str]]:
    """The topics to answer, highest priority first, and a note when some were set aside."""
    topics = list(dict.fromkeys(triage.topic_ids))
    for only in (t for t in EXCLUSIVE_TOPICS if t in topics):
        others = ", ".join(t for t in topics if t != only)
        return [only], [f"Only the {only} section was written; left for staff: {others}"] if others else []
    return topics, []


def _packets(
    rules: RulesLike,
    topics: list[str],
    language: str,
    resolve: PacketResolver,
    exclude: frozenset[str],
    extra: tuple[str, ...] = (),
) -> tuple[list[_Packet], list[str]]:
    """The packets to attach, in priority order, and the ids left out because they were sent before.

    ``extra`` are packets staff added by hand: attached after the topics' own, in the reply's language.
    """
    if topics[0] in EXCLUSIVE_TOPICS:
        return [], []
    wanted: list[tuple[str, str]] = []
    for topic in topics:  # already in priority order
        lang = PACKET_LANGUAGE.get(topic, language)
        wanted += [(lang, p) for p in rules.packets_for([topic], lang)]
    chosen = {pid for _, pid in wanted}
    wanted += [(language, p) for p in extra if p not in chosen]
    attached: list[_Packet] = []
    for lang, pid in dict.fromkeys(w for w in wanted if w[1] not in exclude):
        filename, title, data = resolve(lang, pid)
        safe = clean_header_text(filename, 120).replace("/", "_").replace("\\", "_") or f"{pid}.pdf"
        attached.append(_Packet(pid, lang, safe, title, data))
    return attached, list(dict.fromkeys(pid for _, pid in wanted if pid in exclude))


def _fallback_note(triage: Triage, requested: str, used: str) -> list[str]:
    # Triage may already have fallen back (detected pt, reply_language en): say so either way.
    detected = triage.language.language if triage.language and triage.language.fallback_used else None
    asked = requested if used != requested else detected
    if not asked or asked == used:
        return []
    wrote, wanted = (LANGUAGE_NAMES.get(c, c) for c in (used, asked))
    return [f"Reply written in {wrote} because no {wanted} templates exist (fallback)"]


def compose_reply(
    triage: Triage,
    *,
    config: Config,
    rules: RulesLike,
    loader: TemplateLoader,
    packets: PacketResolver,
    now: datetime | None = None,
    exclude_packets: frozenset[str] = frozenset(),
    extra_packets: tuple[str, ...] = (),
) -> Draft:
    """The reply to ``triage``'s inquiry, ready to queue for approval.

    Raises ``ValueError`` when no topic matched or there is no address to
    reply to, ``jinja2.TemplateError`` when a template is missing or broken,
    and whatever ``packets`` raises for a packet it cannot give.
    """
    topics, notes = _topics(triage)
    if not topics:
        raise ValueError("no topic matched: there is nothing for the bot to write")
    org = config.organisation
    requested = triage.language.reply_language if triage.language else config.languages.default
    names = {t: _template_name(rules, t) for t in topics}
    needed = [LAYOUT_TEXT, LAYOUT_HTML, STRINGS, DISCLAIMER, *names.values()]
    language = loader.choose_language(requested, needed)
    notes += _fallback_note(triage, requested, language)
    attached, earlier = _packets(rules, topics, language, packets, exclude_packets, extra_packets)
    if earlier:
        notes.append(f"Follow-up: packets already sent were not attached again ({', '.join(earlier)})")
    if any(p.language != language for p in attached):
        notes.append("Spanish materials were attached in Spanish")
    if topics[0] == "urgent":
        notes.append("Urgent: holding message only; staff must review it before it is sent")

    strings = loader.strings(language)
    name = sender_name(triage.message.from_name)
    greeting = strings["greeting_named"].replace("{name}", name) if name else strings["greeting_anonymous"]
    subject = reply_subject(triage.message.subject, strings["subject_prefix"], strings["subject_default"])
    context: dict[str, Any] = {
        "organisation": {"name": org.name, "address": org.address, "reply_name": org.reply_name},
        "sender_name": name,
        "greeting": greeting,
        "language": language,
        "subject": subject,
        "topics": topics,
        "sections": [],
        "packets": [{k: v for k, v in p._asdict().items() if k != "data"} for p in attached],
        "attached": [p.id for p in attached],
        "earlier": earlier,
        "strings": strings,
        "signature": config.signature.strip() or f"{org.reply_name}\n{org.name}",
    }

    def template(name: str) -> Template:
        # choose_language has just seen every template in ``language``: what loader.resolve
        # would look for again (one file check per template) is taken from there directly.
        return loader.template(f"{language}/{name}")

    context["sections"] = [
        {"topic": t, "text": sandbox.render(template(names[t]), context).strip()} for t in topics
    ]
    disclaimer = load_disclaimer(loader.replies_dir, language)
    if disclaimer is None:  # choose_language saw the file: it has since vanished or been emptied
        raise ValueError(f"replies/{language}/{DISCLAIMER} is missing or empty: no reply goes without it")
    layouts = (template(LAYOUT_TEXT).render(context), template(LAYOUT_HTML).render(context))
    text, html = append_disclaimer(*layouts, disclaimer, language)

    draft: dict[str, Any] = {
        "message_id": make_msgid(domain=org.domain),
        "to_address": reply_address(triage, config),
        "subject": subject,
        "text": text,
        "html": html,
        "language": language,
        "packets": tuple(dict.fromkeys(p.id for p in attached)),
    }
    head = header_lines(triage, config, draft, now or datetime.now(UTC))
    parts = [attachment_bytes(p.filename, p.data) for p in attached]
    chunks = reply_chunks(head, text, html, parts, language)
    raw = b"".join(chunks)
    stored = pack_chunks(chunks, parts)
    return Draft(**draft, raw=raw, notes=tuple(notes), parts=tuple(parts), stored=stored)


def packet_resolver(config: Config) -> PacketResolver:
    """A :class:`PacketResolver` over :mod:`bot.packets` for ``config`` (imported when first used)."""
    catalogue: list[Any] = []

    def resolve(language: str, packet_id: str) -> tuple[str, str, bytes]:
        from bot import packets

        if not catalogue:  # read once per resolver: one reply asks for several packets
            catalogue.append(packets.load_catalogue(config.paths.replies))
        title = catalogue[0].packet(language, packet_id).title
        paths = config.paths
        filename, data = packets.packet_file(
            paths.replies,
            paths.packets,
            language,
            packet_id,
            config.organisation.name,
            paths.packet_overrides,
        )
        return filename, title, data

    return resolve
