"""Drafts share their packets in storage, and each reply still gives back exactly its own bytes."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, select

from bot.ingest import Fetched, ingest_batch
from bot.prepare import prepare
from bot.services import Services
from bot.store import Attachment, Reply, Store, attachments
from bot.store.db import alembic_config
from tests.unit.conftest import unit_services

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
QUESTIONS = [
    "What is the dose of methylcobalamin?",
    "How do I get a prescription for the injections?",
    "¿Cuál es la dosis de metilcobalamina?",
    "How are the injections given? Is it intramuscular?",
]


def _services(tmp_path: Path, database_url: str) -> Services:
    return unit_services(tmp_path, Store(database_url))


def _record(services: Services, count: int) -> dict[int, bytes]:
    """Record ``count`` inquiries asking for packets; returns each draft's bytes by UID."""
    raws = [
        f"From: p{n}@example.com\r\nSubject: Question {n}\r\nMessage-ID: <a{n}@example.com>\r\n\r\n"
        f"{QUESTIONS[n % len(QUESTIONS)]}\r\n".encode()
        for n in range(count)
    ]
    items = [Fetched("md", 1, n + 1, raw) for n, raw in enumerate(raws)]
    with services.store.session() as s:
        prepared = prepare(services, s, raws, NOW)
    with services.store.session() as s:
        ingest_batch(services, s, items, now=NOW, prepared=prepared)
    return {item.uid: p.draft.raw for item, p in zip(items, prepared, strict=True) if p.draft is not None}


def _forget() -> None:
    # A fresh process: nothing remembered, every part must come from the database.
    attachments._parts.clear()
    attachments._digests.clear()


def test_each_reply_gives_back_exactly_the_drafted_bytes_with_packets_stored_once(
    tmp_path: Path, database_url: str
) -> None:
    services = _services(tmp_path, database_url)
    drafted = _record(services, 12)
    assert len(drafted) == 12
    _forget()
    with services.store.session() as s:
        replies = s.scalars(select(Reply).order_by(Reply.id)).all()
        assert {r.inquiry.uid: r.raw for r in replies} == drafted
        stored = sum(len(r.stored_raw) for r in replies)
        parts = s.scalars(select(Attachment)).all()
        assert parts and not any(p.data in r.stored_raw for p in parts for r in replies)
    assert stored < sum(map(len, drafted.values())) / 2
    # Every stored part is an attachment of some draft, byte for byte.
    everything = b"".join(drafted.values())
    assert all(p.data in everything for p in parts)
    assert all(_pdfs(raw) for raw in drafted.values()), "a reply asking for packets came without them"
    services.close()


def test_a_second_batch_adds_no_copy_of_a_part_already_stored(tmp_path: Path, database_url: str) -> None:
    services = _services(tmp_path, database_url)
    first = _record(services, 8)
    with services.store.session() as s:
        before = s.scalar(select(func.count()).select_from(Attachment))
    _forget()
    raws = [  # the same questions from other people, prepared in place this time
        f"From: q{n}@example.com\r\nSubject: Again {n}\r\nMessage-ID: <b{n}@example.com>\r\n\r\n"
        f"{QUESTIONS[n % len(QUESTIONS)]}\r\n".encode()
        for n in range(8)
    ]
    with services.store.session() as s:
        ingest_batch(services, s, [Fetched("md", 1, 100 + n, raw) for n, raw in enumerate(raws)], now=NOW)
    _forget()
    with services.store.session() as s:
        assert s.scalar(select(func.count()).select_from(Attachment)) == before
        second = [r.raw for r in s.scalars(select(Reply)) if r.inquiry.uid >= 100]
    assert len(second) == 8 and len(first) == 8
    # The same packets, attached again: the shared parts come back in the new replies too.
    assert sorted(_pdfs(raw) for raw in second) == sorted(_pdfs(raw) for raw in first.values())
    services.close()


def _pdfs(raw: bytes) -> tuple[bytes, ...]:
    message = email.message_from_bytes(raw, policy=email.policy.SMTP)
    return tuple(
        p.get_content() for p in message.iter_attachments() if p.get_content_type() == "application/pdf"
    )


def test_a_packed_value_expands_to_the_message_it_was_made_from(tmp_path: Path) -> None:
    part = b"Content-Type: application/pdf\r\n\r\n" + b"QUJD" * 1000 + b"\r\n"
    small = b"Content-Type: text/plain\r\n\r\nhi\r\n"  # too small to be worth a token
    chunks = [b"Subject: x\r\n\r\n--b\r\n", part, b"\r\n--b\r\n", small, b"\r\n--b\r\n", part, b"--\r\n"]
    stored = attachments.pack_chunks(chunks, [part, small])
    assert stored.startswith(attachments.MAGIC) and part not in stored and small in stored
    assert attachments.shared_parts([part, small]) == {attachments.digest_of(part): part}
    store = Store(f"sqlite:///{tmp_path / 'bot.db'}")
    with store.session() as s:
        attachments.save(s, attachments.shared_parts([part, small]))
    _forget()
    with store.session() as s:
        assert attachments.expand(stored, s) == b"".join(chunks)
    assert attachments.expand(b"".join(chunks), None) == b"".join(chunks)  # a value stored whole
    store.close()


def test_a_message_holding_a_nul_byte_is_stored_whole() -> None:
    part = b"Content-Type: application/pdf\r\n\r\n" + b"QUJD" * 1000 + b"\r\n"
    # A NUL could not be told from a token's: such a message is never packed.
    assert attachments.pack_chunks([b"Subject: a\0b\r\n\r\n", part], [part]) == b""


def test_a_packed_reply_whose_attachment_is_gone_is_an_error_not_a_different_message(
    tmp_path: Path, database_url: str
) -> None:
    services = _services(tmp_path, database_url)
    _record(services, 2)
    _forget()
    with services.store.session() as s:
        for part in s.scalars(select(Attachment)):
            s.delete(part)
    with services.store.session() as s, pytest.raises(LookupError):
        _ = s.scalars(select(Reply)).first().raw  # type: ignore[union-attr]
    services.close()


def test_downgrading_puts_every_attachment_back_into_its_reply(tmp_path: Path, database_url: str) -> None:
    services = _services(tmp_path, database_url)
    drafted = _record(services, 6)
    services.close()
    store = Store(database_url, upgrade=False)
    command.downgrade(alembic_config(store.engine), "0008")
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT inquiry.uid, reply.raw FROM reply JOIN inquiry ON inquiry.id = reply.inquiry_id"
        )
        assert {uid: bytes(raw) for uid, raw in rows} == drafted
    command.upgrade(alembic_config(store.engine), "head")
    store.close()
