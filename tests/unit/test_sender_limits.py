"""Per-sender limits: the grace period between drafts, and no more drafts after an unsubscribe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from bot.ingest import Fetched, ingest
from tests.unit.conftest import unit_services

ROOT = Path(__file__).resolve().parents[2]


def _mail(body: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Ana <ana@example.es>"
    msg["To"] = "support@example.org"
    msg["Subject"] = "Pregunta"
    msg["Message-ID"] = make_msgid(domain="example.es")
    msg.set_content(body)
    return msg.as_bytes()


def test_second_message_inside_the_grace_period_goes_to_staff(tmp_path: Path) -> None:
    services = unit_services(tmp_path, screening={"grace_minutes": 30})
    start = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    question = "¿Cuál es la dosis de metilcobalamina y cada cuánto se inyecta?"
    states = []
    for uid, minutes in ((1, 0), (2, 10), (3, 45)):
        with services.store.session() as s:
            states.append(
                ingest(
                    services, s, Fetched("md", 1, uid, _mail(question)), start + timedelta(minutes=minutes)
                )
            )
    services.close()
    # Drafted; ten minutes later the same sender goes to a person; after the grace period, drafted again.
    assert states == ["drafted", "manual", "drafted"]


def test_after_an_unsubscribe_a_new_message_goes_to_a_person(tmp_path: Path) -> None:
    services = unit_services(tmp_path)
    start = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    messages = [
        "Por favor, no me envíen más correos. Quiero darme de baja de la lista.",
        "¿Cuál es la dosis de metilcobalamina y cada cuánto se inyecta?",
    ]
    states = []
    for uid, body in enumerate(messages, start=1):
        with services.store.session() as s:
            item = Fetched("md", 1, uid, _mail(body))
            states.append(ingest(services, s, item, start + timedelta(days=uid)))
    with services.store.session() as s:
        from sqlalchemy import select

        from bot.store import Inquiry

        second = s.scalar(select(Inquiry).where(Inquiry.uid == 2))
        reasons = list(second.reasons)
    services.close()
    assert states == ["drafted", "manual"]
    assert any("asked for no more mail" in r for r in reasons)


def test_the_batch_lookups_read_only_the_senders_rows_not_the_whole_ledger(tmp_path: Path) -> None:
    """Each query of a batch's sender lookups finds its rows by the senders' index on SQLite.

    Given a state filter too, SQLite once chose the state index and read every drafted inquiry
    in the ledger for each batch, a cost that grew with the ledger (bench/README.md, session 3).
    """
    from sqlalchemy import event

    from bot.lookups import Lookups
    from bot.parse import parse_message

    services = unit_services(tmp_path)
    now = datetime.now(UTC)
    with services.store.session() as s:
        for n in range(30):
            ingest(services, s, Fetched("md", 1, n + 1, _mail(f"What is the dose? {n}")), now=now)
    statements: list[tuple[str, object]] = []

    def keep(_conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        statements.append((statement, parameters))

    # A batch has many senders: with a single one SQLite picked the senders' index anyway.
    msgs = [parse_message(_mail("What is the dose?").replace(b"ana@", f"p{n}@".encode())) for n in range(40)]
    with services.store.session() as s:
        event.listen(services.store.engine, "before_cursor_execute", keep)
        try:
            Lookups.load(services, s, msgs, now)
        finally:
            event.remove(services.store.engine, "before_cursor_execute", keep)
        raw = s.connection().connection.driver_connection
        plans = {
            sql: " ".join(str(r[3]) for r in raw.execute("EXPLAIN QUERY PLAN " + sql, params))
            for sql, params in statements
        }
    assert statements
    for sql, plan in plans.items():
        if "FROM inquiry" in sql and "from_address IN" in sql:
            assert "ix_inquiry_from_address" in plan, (sql, plan)
    services.close()
