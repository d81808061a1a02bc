"""Preparing fetched mail: parse, triage and draft each message, writing nothing.

The CPU-heavy half of ingestion, kept apart from recording so that it can
run in worker processes (:mod:`bot.pool`) while one process owns the
database writes. It reads the ledger only through one
:class:`~bot.lookups.Lookups` per batch, and its result for a message is a
:class:`Prepared` value that :func:`bot.ingest.record` turns into rows.
A failure at any stage becomes that stage's error in the value (the message
will be quarantined), never an exception: one bad message never stops a batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from bot import filestamps
from bot.compose import compose_reply
from bot.lookups import Lookups
from bot.message import Action, Draft, ParsedMessage, Reason, Triage
from bot.parse import ParseError, parse_message
from bot.services import Services
from bot.triage import TriageContext, triage_message


@dataclass(frozen=True)
class Prepared:
    """What the stages made of one message.

    ``error`` is ``(stage, message)`` when a stage failed: with no ``msg``
    parsing failed; with no ``triage`` triage did; with both, composing did.
    ``action`` and ``reasons`` include the sender limits, which may turn a
    draft into ``manual``.
    """

    msg: ParsedMessage | None = None
    triage: Triage | None = None
    action: Action | None = None
    reasons: tuple[Reason, ...] = ()
    draft: Draft | None = None
    error: tuple[str, str] | None = None


def prepare(
    services: Services,
    session: Session,
    raws: Sequence[bytes],
    now: datetime,
    exclude_ids: frozenset[int] = frozenset(),
) -> list[Prepared]:
    """Prepare each of ``raws`` (in order), asking the ledger in ``session`` once for the batch.

    Only reads ``session``. ``exclude_ids`` are inquiries that must not count
    as the sender's earlier mail (the row being decided again). The batch sees
    one version of the rules, templates and packets (:func:`bot.filestamps.batch`).
    """
    parsed = [_parse(raw) for raw in raws]
    msgs = [p.msg for p in parsed if p.msg is not None]
    lookups = Lookups.load(services, session, msgs, now, exclude_ids)
    # One look at the rules, templates, strings, disclaimer and packet files for the whole batch
    # (an edit applies from the next batch), not one per message.
    with filestamps.batch():
        return [_decide(services, lookups, p.msg, now) if p.msg is not None else p for p in parsed]


def _parse(raw: bytes) -> Prepared:
    try:
        return Prepared(msg=parse_message(raw))
    except ParseError as exc:
        return Prepared(error=(getattr(exc, "stage", "parse"), str(exc)))
    except Exception as exc:  # noqa: BLE001 - one bad message never stops the batch
        return Prepared(error=("parse", f"{type(exc).__name__}: {exc}"))


def _decide(services: Services, lookups: Lookups, msg: ParsedMessage, now: datetime) -> Prepared:
    try:
        rules = services.rules.current()
        cfg = services.config
        ctx = TriageContext(
            rules=rules,
            languages=cfg.languages,
            own_addresses=cfg.own_addresses(),
            available=services.reply_languages(),
            history=lookups.history,
            conversation=lookups.conversation,
        )
        triage = triage_message(msg, ctx)
    except Exception as exc:  # noqa: BLE001
        return Prepared(msg=msg, error=("triage", f"{type(exc).__name__}: {exc}"))
    action, reasons = triage.action, triage.reasons
    if action is Action.DRAFT and (capped := lookups.limit(msg.from_address)):
        action, reasons = Action.MANUAL, (*reasons, capped)
    done = Prepared(msg=msg, triage=triage, action=action, reasons=reasons)
    if action not in (Action.DRAFT, Action.ESCALATE):
        return done
    already = frozenset(triage.conversation.packets_sent) if triage.conversation else frozenset()
    try:
        draft = compose_reply(
            triage,
            config=cfg,
            rules=rules,
            loader=services.template_loader(),
            packets=services.packet_resolver(),
            now=now,
            exclude_packets=already,
        )
    except Exception as exc:  # noqa: BLE001
        return replace(done, error=("compose", f"{type(exc).__name__}: {exc}"))
    return replace(done, draft=draft)
