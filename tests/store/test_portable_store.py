"""The same migrations and ledger work on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from bot.queue import approve, list_items
from bot.store import Inquiry, Reply, Store
from bot.store.db import MIGRATIONS


def _inquiry(uid: int, **kw: object) -> Inquiry:
    values: dict = dict(
        source="imap:support@127.0.0.1:143/INBOX",
        uidvalidity=7,
        uid=uid,
        message_id=f"<m{uid}@example.com>",
        content_hash=f"{uid:064d}",
        raw=b"Subject: hi\r\n\r\nbody",
        action="draft",
        state="drafted",
        topics=["dosage"],
        reasons=["topics/dosage: matched 'dose'"],
        received_at=datetime(2026, 11, 1, 12, uid % 60, tzinfo=UTC),
    )
    values.update(kw)
    return Inquiry(**values)


def test_migrations_create_every_table_and_reach_head(database_url: str) -> None:
    store = Store(database_url)
    tables = set(inspect(store.engine).get_table_names())
    assert {"inquiry", "reply", "audit", "folder_state", "alembic_version"} <= tables
    newest = sorted(p.name for p in (MIGRATIONS / "versions").glob("0*.py"))[-1][:4]
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == newest
    Store(database_url).close()  # a second open is a no-op upgrade
    store.close()


def test_ledger_key_is_unique_per_folder_uidvalidity_uid(database_url: str) -> None:
    store = Store(database_url)
    with store.session() as s:
        s.add(_inquiry(1))
    with pytest.raises(IntegrityError), store.session() as s:
        s.add(_inquiry(1, message_id="<other@example.com>"))
    store.close()


def test_queue_order_json_topics_and_approval_round_trip(database_url: str) -> None:
    store = Store(database_url)
    with store.session() as s:
        s.add(_inquiry(1))
        urgent = _inquiry(2, state="escalated", urgent=True, topics=["urgent"], action="escalate")
        s.add(urgent)
        plain = _inquiry(3)
        plain.replies.append(
            Reply(
                message_id="<r3@example.org>",
                state="draft",
                to_address="a@example.com",
                subject="Re: hi",
                text="t",
                html="<p>t</p>",
                language="es",
                packets=["prescription_form"],
                raw=b"x" * 1000,
            )
        )
        s.add(plain)
    with store.session() as s:
        items = list_items(s)
        assert [i.topics for i in items][0] == ("urgent",)  # urgent first
        assert [i.id for i in items[1:]] == sorted(i.id for i in items[1:])  # then oldest
        reply = approve(s, items[-1].id, "tester")
        assert reply.approved_by == "tester"
    with store.session() as s:
        stored = s.scalar(select(Reply).where(Reply.message_id == "<r3@example.org>"))
        assert (
            stored.state == "approved"
            and stored.packets == ["prescription_form"]
            and stored.raw == b"x" * 1000
        )
    store.close()


def test_models_and_migrations_describe_the_same_schema(database_url: str) -> None:
    # A model changed without a migration (or the reverse) shows up here, on both databases.
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import bot.store.users  # noqa: F401 - every model module registers its tables
    import bot.store.versions  # noqa: F401
    from bot.store.models import Base

    store = Store(database_url)
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    store.close()
