"""The queue's flags ``Inquiry.send_failed`` and ``Inquiry.waiting``, on SQLite and PostgreSQL.

Migration 0008 works them out from the data already there; after that every
ORM write keeps them in step (bot.store.queueflags._keep_queue_flags), whoever
makes it: the queue's actions, the outbox, fixtures inserting rows directly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command
from sqlalchemy import delete, func, insert, inspect, select

from bot.queue import approve, reject
from bot.store import AuditEntry, Inquiry, Reply, Store
from bot.store.db import alembic_config

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def _inquiry_values(uid: int, state: str, **kw: object) -> dict[str, object]:
    values: dict[str, object] = dict(
        source="imap:support@127.0.0.1:143/INBOX",
        uidvalidity=7,
        uid=uid,
        message_id=f"<m{uid}@example.com>",
        content_hash=f"{uid:064d}",
        raw=f"Subject: question {uid}\r\n\r\nbody".encode(),
        action="draft",
        state=state,
        topics=["dosage"],
        reasons=[],
        received_at=T0 + timedelta(minutes=uid),
        from_address=f"p{uid}@example.com",
        from_name="",
        subject=f"question {uid}",
        urgent=False,
        attempts=0,
    )
    values.update(kw)
    return values


def _reply_values(n: int, state: str, **kw: object) -> dict[str, object]:
    values: dict[str, object] = dict(
        message_id=f"<r{n}@example.org>",
        state=state,
        to_address="a@example.com",
        subject="Re: question",
        text="t",
        html="<p>t</p>",
        language="en",
        packets=[],
        notes=[],
        attempts=0,
        created_at=T0,
        raw=b"reply bytes",
    )
    values.update(kw)
    return values


def _flags(store: Store, inquiry_id: int) -> tuple[bool, bool]:
    with store.session() as s:
        row = s.execute(select(Inquiry.send_failed, Inquiry.waiting).where(Inquiry.id == inquiry_id)).one()
        return bool(row[0]), bool(row[1])


def test_migration_0008_works_out_the_flags_and_loses_nothing(database_url: str) -> None:
    store = Store(database_url, upgrade=False)
    cfg = alembic_config(store.engine)
    command.upgrade(cfg, "0007")
    # Rows as they were before 0008, written through the reflected 0007 tables.
    meta = sa.MetaData()
    inquiry = sa.Table("inquiry", meta, autoload_with=store.engine)
    reply = sa.Table("reply", meta, autoload_with=store.engine)
    audit = sa.Table("audit", meta, autoload_with=store.engine)
    cases = {  # uid: (inquiry state, its replies' states, expected (send_failed, waiting))
        1: ("drafted", ["draft"], (False, True)),
        2: ("approved", ["failed"], (True, True)),  # a failed send waits for a person
        3: ("answered", ["sent"], (False, False)),
        4: ("approved", ["approved"], (False, False)),
        5: ("quarantined", [], (False, True)),
        6: ("escalated", ["draft"], (False, True)),
        7: ("approved", ["rejected", "failed"], (True, True)),  # any failed reply counts
        8: ("rejected", ["rejected"], (False, False)),
    }
    with store.engine.begin() as conn:
        for uid, (state, replies, _) in cases.items():
            conn.execute(insert(inquiry).values(id=uid, **_inquiry_values(uid, state)))
            conn.execute(insert(audit).values(inquiry_id=uid, actor="staff", action="edit", detail={}, at=T0))
            for n, reply_state in enumerate(replies):
                conn.execute(insert(reply).values(inquiry_id=uid, **_reply_values(uid * 10 + n, reply_state)))
    command.upgrade(cfg, "head")

    for uid, (_, _, expected) in cases.items():
        assert _flags(store, uid) == expected, uid
    with store.session() as s:
        assert s.get(Inquiry, 2).raw == b"Subject: question 2\r\n\r\nbody"  # the rows came through whole
    with store.session() as s:  # no table rebuild: nothing went with it (ON DELETE CASCADE)
        assert s.scalar(select(func.count()).select_from(Reply)) == 8
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == len(cases)

    # And back: 0007's table and index again, the rows still there; then forward once more.
    command.downgrade(cfg, "0007")
    insp = inspect(store.engine)
    assert not {"send_failed", "waiting"} & {c["name"] for c in insp.get_columns("inquiry")}
    indexes = {i["name"]: i["column_names"] for i in insp.get_indexes("inquiry")}
    assert indexes["ix_inquiry_queue_order"] == ["state", "urgent", "received_at", "id"]
    assert indexes["ix_inquiry_urgent"] == ["urgent"]
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Reply)) == 8
    command.upgrade(cfg, "head")
    assert [_flags(store, uid) for uid in cases] == [expected for _, _, expected in cases.values()]
    store.close()


def test_flags_follow_approval_a_failed_send_back_to_draft_and_rejection(database_url: str) -> None:
    store = Store(database_url)
    with store.session() as s:  # as ingestion makes them: the inquiry with its draft
        inq = Inquiry(**_inquiry_values(1, "drafted"))
        inq.replies.append(Reply(**_reply_values(1, "draft")))
        s.add(inq)
        s.flush()
        iid = inq.id
    assert _flags(store, iid) == (False, True)

    with store.session() as s:
        approve(s, iid, "tester")
    assert _flags(store, iid) == (False, False)  # approved: in the outbox, nobody needs to look

    with store.session() as s:  # what bot/send.py does on a permanent SMTP error
        reply = s.scalar(select(Reply).where(Reply.inquiry_id == iid))
        reply.state, reply.last_error = "failed", "550 no such user"
    assert _flags(store, iid) == (True, True)

    with store.session() as s:  # an unrelated change to the failed reply leaves the flags alone
        s.scalar(select(Reply).where(Reply.inquiry_id == iid)).last_error = "550 still no such user"
    assert _flags(store, iid) == (True, True)

    with store.session() as s:  # what the web app's "back to draft" does
        reply = s.scalar(select(Reply).where(Reply.inquiry_id == iid))
        reply.state, reply.inquiry.state = "draft", "drafted"
    assert _flags(store, iid) == (False, True)

    with store.session() as s:
        reject(s, iid, "tester", "sent elsewhere")
    assert _flags(store, iid) == (False, False)
    store.close()


def test_flags_for_replies_added_by_id_deleted_or_alongside_another_failed_one(database_url: str) -> None:
    store = Store(database_url)
    with store.session() as s:
        s.add(Inquiry(**_inquiry_values(1, "approved")))
        s.flush()
        iid = s.scalar(select(Inquiry.id))
        # A reply made with inquiry_id only, not through the relationship.
        s.add(Reply(inquiry_id=iid, **_reply_values(1, "failed")))
        s.add(Reply(inquiry_id=iid, **_reply_values(2, "failed")))
    assert _flags(store, iid) == (True, True)

    with store.session() as s:  # one of two failed replies is rejected: the other still failed
        s.scalar(select(Reply).where(Reply.message_id == "<r1@example.org>")).state = "rejected"
    assert _flags(store, iid) == (True, True)

    with store.session() as s:  # and the other one deleted
        s.delete(s.scalar(select(Reply).where(Reply.message_id == "<r2@example.org>")))
    assert _flags(store, iid) == (False, False)
    store.close()


def test_a_core_insert_that_names_no_flags_gets_them_from_the_state(database_url: str) -> None:
    store = Store(database_url)
    rows = [_inquiry_values(uid, state) for uid, state in enumerate(("drafted", "answered", "manual"), 1)]
    with store.session() as s:
        s.execute(insert(Inquiry), rows)
        got = s.execute(select(Inquiry.uid, Inquiry.send_failed, Inquiry.waiting).order_by(Inquiry.uid)).all()
    assert [tuple(r) for r in got] == [(1, False, True), (2, False, False), (3, False, True)]
    with store.session() as s:
        s.execute(delete(Inquiry))
    store.close()
