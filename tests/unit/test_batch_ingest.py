"""A batch is decided exactly as the same messages one fetch at a time.

The batch path asks the ledger once for all its senders and threads
(bot/lookups.py), so every rule that depends on a sender's earlier mail is
checked here against the one-message path: the daily cap and the grace
period, an unsubscribe followed by a question, a copy of a message already
stored, follow-ups found by In-Reply-To and by subject, and the language of
a short message taken from the sender's history.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import select, update

from bot.ingest import Fetched, ingest, ingest_batch
from bot.message import Action
from bot.prepare import prepare
from bot.services import Services
from bot.store import Inquiry, Reply, ReplyState
from tests.unit.conftest import unit_services

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
DOSE_ES = "¿Cuál es la dosis de metilcobalamina y cada cuánto se inyecta?"
DOSE_EN = "What is the dose of methylcobalamin and how often is it injected?"
UNSUBSCRIBE_ES = "Por favor, no me envíen más correos. Quiero darme de baja."
PRESCRIPTION_EN = "How do I get a prescription for the injections? My doctor is willing to help."


def _mail(n: int, sender: str, subject: str, body: str, **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@example.org"
    msg["Subject"] = subject
    msg["Message-ID"] = headers.pop("message_id", f"<q{n}@example.net>")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


def _history(services: Services) -> None:
    """Earlier mail in the ledger: a Spanish speaker, and an English inquiry whose reply was sent."""
    earlier = [
        _mail(1, "Rosa <rosa@example.es>", "Dosis", DOSE_ES),
        _mail(2, "John <john@example.com>", "Dose question", DOSE_EN),
    ]
    with services.store.session() as s:
        for uid, raw in enumerate(earlier, start=1):
            ingest(services, s, Fetched("md", 1, uid, raw), START - timedelta(days=2))
    with services.store.session() as s:
        s.execute(update(Reply).values(state=ReplyState.SENT, sent_at=START - timedelta(days=2)))


def _batch(services: Services) -> list[bytes]:
    with services.store.session() as s:
        sent = s.scalar(select(Reply.message_id).join(Inquiry).where(Inquiry.uid == 2))
    return [
        # Short, accent-less: its language comes from Rosa's history.
        _mail(10, "Rosa <rosa@example.es>", "Hola", "ok gracias, y la dosis?"),
        # A follow-up by In-Reply-To, and one by subject only.
        _mail(11, "John <john@example.com>", "Re: Dose question", PRESCRIPTION_EN, In_Reply_To=sent),
        _mail(12, "John <john@example.com>", "RE: dose question", "Thank you so much!"),
        # Same sender three times in the batch: the daily cap of 2 stops the third.
        _mail(13, "Ann <ann@example.org>", "Dose", DOSE_EN),
        _mail(14, "Ann <ann@example.org>", "Prescription", PRESCRIPTION_EN),
        _mail(15, "Ann <ann@example.org>", "Again", DOSE_EN),
        # An unsubscribe, then a question from the same person.
        _mail(16, "Luis <luis@example.mx>", "Baja", UNSUBSCRIBE_ES),
        _mail(17, "Luis <luis@example.mx>", "Dosis", DOSE_ES),
        # A copy of a message already in the batch.
        _mail(18, "Eve <eve@example.com>", "Dose", DOSE_EN, message_id="<same@example.net>"),
        _mail(19, "Eve2 <eve2@example.com>", "Dose", DOSE_EN, message_id="<same@example.net>"),
        # Not mail at all.
        b"\x00\x01 this is not an email",
    ]


def _outcome(services: Services) -> list[tuple[object, ...]]:
    with services.store.session() as s:
        rows = s.scalars(select(Inquiry).where(Inquiry.uid >= 10).order_by(Inquiry.uid))
        return [
            (
                r.uid,
                r.state,
                r.action,
                r.language,
                tuple(r.topics),
                tuple(r.reasons),
                r.conversation_id,
                tuple((reply.subject, tuple(reply.packets), reply.language) for reply in r.replies),
            )
            for r in rows
        ]


def test_a_batch_is_decided_like_one_message_at_a_time(tmp_path: Path) -> None:
    outcomes = []
    for mode in ("one at a time", "one batch"):
        services = unit_services(tmp_path / mode.replace(" ", "_"), screening={"daily_cap": 2})
        _history(services)
        items = [Fetched("md", 1, uid, raw) for uid, raw in enumerate(_batch(services), start=10)]
        if mode == "one at a time":
            for item in items:
                with services.store.session() as s:
                    ingest(services, s, item, START)
        else:
            with services.store.session() as s:
                states = [state for _, state in ingest_batch(services, s, items, now=START)]
            assert len(states) == len(items)
        outcomes.append(_outcome(services))
        services.close()
    single, batch = outcomes
    assert batch == single
    by_uid = {row[0]: row for row in batch}
    assert by_uid[10][3] == "es", "the short message's language should come from the sender's history"
    assert by_uid[11][6] is not None and by_uid[12][6] == by_uid[11][6], "both follow-ups join John's thread"
    assert by_uid[12][1] == "noted", "a bare thank-you in a thread is recorded, not answered"
    assert [by_uid[n][1] for n in (13, 14, 15)] == ["drafted", "drafted", "manual"]
    assert any("daily-cap" in reason for reason in by_uid[15][5])
    assert by_uid[17][1] == "manual" and any("unsubscribed" in reason for reason in by_uid[17][5])
    assert by_uid[19][1] == "duplicate"
    assert by_uid[20][1] == "quarantined"


def test_a_batch_already_stored_is_not_stored_again(tmp_path: Path) -> None:
    services = unit_services(tmp_path)
    items = [Fetched("md", 1, uid, _mail(uid, f"p{uid}@example.com", "Dose", DOSE_EN)) for uid in (1, 2)]
    with services.store.session() as s:
        assert [state for _, state in ingest_batch(services, s, items[:1], now=START)] == ["drafted"]
    with services.store.session() as s:
        again = ingest_batch(services, s, items, now=START)
    assert [(item.uid, state) for item, state in again] == [(2, "drafted")]
    with services.store.session() as s:
        assert s.query(Inquiry).count() == 2 and s.query(Reply).count() == 2
    services.close()


def test_a_batch_prepared_early_decides_the_senders_of_the_batch_before_again(
    tmp_path: Path,
) -> None:
    # With worker processes, batch 2 is prepared while batch 1 is still being recorded: its
    # lookups cannot see batch 1, so batch 1's senders are decided again when batch 2 is recorded.
    services = unit_services(tmp_path, screening={"daily_cap": 1})
    first = [Fetched("md", 1, 1, _mail(1, "Ann <ann@example.org>", "Dose", DOSE_EN))]
    second = [
        Fetched("md", 1, 2, _mail(2, "Ann <ann@example.org>", "Prescription", PRESCRIPTION_EN)),
        Fetched("md", 1, 3, _mail(3, "Bob <bob@example.org>", "Dose", DOSE_EN)),
    ]
    with services.store.session() as s:
        early = prepare(services, s, [item.raw for item in second], START)
    assert [p.action for p in early] == [Action.DRAFT, Action.DRAFT], "prepared before Ann's first was stored"
    with services.store.session() as s:
        assert [state for _, state in ingest_batch(services, s, first, now=START)] == ["drafted"]
    with services.store.session() as s:
        done = ingest_batch(
            services, s, second, now=START, prepared=early, earlier_senders={"ann@example.org"}
        )
    assert [state for _, state in done] == ["manual", "drafted"]
    services.close()
