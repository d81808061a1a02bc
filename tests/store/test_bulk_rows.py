"""Rows written in bulk: each draft is linked to its own inquiry, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.ingest import Fetched
from bot.message import Draft
from bot.rows import BulkWriter, new_row
from bot.store import Inquiry, Reply, Store

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _reply_id(source: str, uidvalidity: int, uid: int) -> str:
    return f"<reply-{source[-1]}{uidvalidity}-{uid}@example.org>"


def _draft(reply_id: str) -> Draft:
    return Draft(reply_id, "p@example.com", "Re: question", "text", "<p>html</p>", "en", (), raw=b"raw")


def _write(store: Store, source: str, uidvalidity: int, uids: list[int], drafted: set[int]) -> None:
    with store.session() as s:
        bulk = BulkWriter(s, NOW)
        for uid in uids:
            row = new_row(Fetched(source, uidvalidity, uid, f"Subject: {uid}\r\n\r\nbody".encode()), NOW)
            row.message_id = f"<m{source[-1]}{uidvalidity}-{uid}@example.com>"
            bulk.add(row, _draft(_reply_id(source, uidvalidity, uid)) if uid in drafted else None)
        bulk.flush()


def test_each_bulk_draft_belongs_to_the_inquiry_it_was_added_with(database_url: str) -> None:
    store = Store(database_url)
    # The same UIDs in another folder and under an older UIDVALIDITY: the key must tell them apart.
    batches = [("imap:x/B", 7, [9, 3, 5], {9, 3, 5}), ("imap:x/A", 7, [9, 3, 5, 11], {9, 3, 11})]
    batches.append(("imap:x/A", 6, [9, 3, 5], {9, 5}))
    for source, validity, uids, drafted in batches:
        _write(store, source, validity, uids, drafted)
    with store.session() as s:
        linked = s.execute(
            select(Reply.message_id, Inquiry.source, Inquiry.uidvalidity, Inquiry.uid).join(Inquiry)
        )
        got = {reply_id: (src, validity, uid) for reply_id, src, validity, uid in linked}
    expected = {_reply_id(src, v, uid): (src, v, uid) for src, v, _, drafted in batches for uid in drafted}
    assert got == expected
    store.close()
