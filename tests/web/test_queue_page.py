"""The queue page: order (urgent, then oldest), filters, counts and pages over 10,000 inquiries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from bot.store import Inquiry, Reply
from tests.web.conftest import act, add_inquiry

LANGS = ("en", "es")
TOPICS = (["dosage"], ["obtaining", "dosage"], ["research"], ["dose"], [])
STATES = ("drafted", "manual", "answered", "escalated", "rejected")
BASE = datetime(2026, 1, 1, tzinfo=UTC)


def ids_on(html: str) -> list[int]:
    """The inquiry ids of the queue table's rows, in page order."""
    return [int(i) for i in re.findall(r'<td class="num">(\d+)</td>', html)]


@pytest.fixture
def big_queue(services):
    """10,000 inquiries: states, languages and topics cycle; every 1000th is urgent and escalated.

    Received times run forward by the minute, except that row 9,000 onward
    are older than all the others, so "oldest first" is not the id order.
    """
    rows = []
    for n in range(10_000):
        urgent = n % 1000 == 500
        received = BASE + timedelta(minutes=n) if n < 9000 else BASE - timedelta(minutes=10_000 - n)
        rows.append(
            {
                "source": "maildir:test",
                "uidvalidity": 1,
                "uid": n + 1,
                "message_id": f"<n{n}@example.com>",
                "content_hash": f"{n:064d}",
                "raw": b"",
                "received_at": received,
                "from_address": f"p{n}@example.com",
                "from_name": f"Person {n}",
                "subject": f"Question number {n}",
                "language": LANGS[n % 2],
                "reply_language": LANGS[n % 2],
                "topics": TOPICS[n % len(TOPICS)],
                "action": "draft",
                "reasons": [],
                "state": "escalated" if urgent else STATES[n % len(STATES)],
                "urgent": urgent,
                "attempts": 0,
            }
        )
    with services.store.session() as s:
        s.execute(insert(Inquiry), rows)
        by_uid = dict(s.execute(select(Inquiry.uid, Inquiry.id)).all())
    return {uid - 1: iid for uid, iid in by_uid.items()}  # row number -> inquiry id


def expected(services, where, limit=50, offset=0):
    with services.store.session() as s:
        q = select(Inquiry.id).where(*where)
        q = q.order_by(Inquiry.urgent.desc(), Inquiry.received_at, Inquiry.id)
        return list(s.scalars(q.limit(limit).offset(offset)))


def test_first_page_is_urgent_first_then_oldest(staff, services, big_queue):
    html = staff.get("/queue").get_data(as_text=True)
    shown = ids_on(html)
    assert len(shown) == 50
    urgent = [big_queue[n] for n in range(10_000) if n % 1000 == 500]
    # Urgent ones first, oldest urgent first: row 9,500 is older than the rest.
    assert shown[:10] == [urgent[9], *urgent[:9]]
    # Then the oldest open items: rows from 9,000 on were received before everything else.
    open_old = [
        big_queue[n] for n in range(9000, 10_000) if STATES[n % 5] in ("drafted", "manual", "escalated")
    ]
    assert shown[10:] == [i for i in open_old if i not in urgent][:40]
    assert shown == expected(services, [Inquiry.state.in_(["escalated", "drafted", "manual", "quarantined"])])


def test_counts_per_state(staff, big_queue):
    html = staff.get("/queue").get_data(as_text=True)
    # 2,000 of each state, except that the 10 urgent rows (all n % 5 == 0) moved from drafted to escalated.
    assert re.search(r'Reply ready <span class="count">(\d+)</span>', html).group(1) == "1990"
    assert re.search(r'Urgent <span class="count">(\d+)</span>', html).group(1) == "2010"
    assert re.search(r'Everything <span class="count">(\d+)</span>', html).group(1) == "10000"
    assert "<strong>6000</strong> inquiries wait for staff" in html
    assert '<strong class="urgent-text">2010 urgent</strong>' in html


def test_pages_continue_in_order(staff, services, big_queue):
    cond = [Inquiry.state.in_(["escalated", "drafted", "manual", "quarantined"])]
    html = staff.get("/queue?page=3").get_data(as_text=True)
    assert ids_on(html) == expected(services, cond, offset=100)
    assert "Page 3 of 120" in html
    last = staff.get("/queue?page=120").get_data(as_text=True)
    assert ids_on(last) == expected(services, cond, offset=5950)
    assert len(ids_on(last)) == 50
    # A page past the end shows the last page rather than nothing.
    assert ids_on(staff.get("/queue?page=9999").get_data(as_text=True)) == ids_on(last)


def test_filter_by_state_language_and_topic(staff, services, big_queue):
    html = staff.get("/queue?state=all&language=es&topic=dosage&page=2").get_data(as_text=True)
    shown = ids_on(html)
    with services.store.session() as s:
        rows = {i.id: i for i in s.scalars(select(Inquiry).where(Inquiry.id.in_(shown)))}
    assert len(shown) == 50
    assert all(rows[i].language == "es" and "dosage" in rows[i].topics for i in shown)
    # "dose" is its own topic: the quoted match keeps it out of "dosage" (and the reverse).
    dose = ids_on(staff.get("/queue?state=all&topic=dose").get_data(as_text=True))
    with services.store.session() as s:
        assert {t for i in dose for t in s.get(Inquiry, i).topics} == {"dose"}
    answered = ids_on(staff.get("/queue?state=answered&language=en").get_data(as_text=True))
    with services.store.session() as s:
        assert all(s.get(Inquiry, i).state == "answered" for i in answered) and answered


def test_topic_filter_escapes_like_wildcards(staff, big_queue):
    html = staff.get("/queue?state=all&topic=%25").get_data(as_text=True)
    assert ids_on(html) == []
    assert "No inquiries match these filters." in html


def test_unknown_state_shows_nothing(staff, big_queue):
    assert ids_on(staff.get("/queue?state=nonsense").get_data(as_text=True)) == []


def test_failed_send_is_flagged_and_listed(staff, services):
    ok = add_inquiry(services)
    failed = add_inquiry(services, state="approved", reply_state="failed")
    with services.store.session() as s:
        reply = s.scalar(select(Reply).where(Reply.inquiry_id == failed))
        reply.last_error = "550 mailbox unavailable"
    html = staff.get("/queue").get_data(as_text=True)
    assert set(ids_on(html)) == {ok, failed}
    assert "Sending failed" in html and "row-failed" in html
    assert ids_on(staff.get("/queue?state=failed").get_data(as_text=True)) == [failed]


def test_empty_queue_says_so(staff):
    html = staff.get("/queue").get_data(as_text=True)
    assert "Nothing waits for staff right now." in html
    assert "No inquiries match these filters." in html


def _count(html: str, tab: str) -> int:
    return int(re.search(rf'{tab} <span class="count">(\d+)</span>', html).group(1))


def test_a_send_that_fails_in_the_outbox_waits_for_staff_until_dealt_with(staff, services):
    """The real outbox fails a reply (no Content-Language: no disclaimer can be checked)."""
    other = add_inquiry(services)
    failing = add_inquiry(services, received_at=datetime.now(UTC) - timedelta(days=1))
    with services.store.session() as s:
        reply = s.scalar(select(Reply).where(Reply.inquiry_id == failing))
        reply.raw = reply.raw.replace(b"Content-Language: en\r\n", b"")
    act(staff, failing, "approve", {"send_now": "1"})
    with services.store.session() as s:
        assert s.scalar(select(Reply.state).where(Reply.inquiry_id == failing)) == "failed"
    html = staff.get("/queue").get_data(as_text=True)
    assert ids_on(html) == [failing, other]  # still "approved", but a person must look at it
    assert (_count(html, "Waiting for staff"), _count(html, "Sending failed")) == (2, 1)
    assert ids_on(staff.get("/queue?state=failed").get_data(as_text=True)) == [failing]

    act(staff, failing, "back-to-draft")
    html = staff.get("/queue").get_data(as_text=True)
    assert ids_on(html) == [failing, other] and _count(html, "Sending failed") == 0
    assert ids_on(staff.get("/queue?state=failed").get_data(as_text=True)) == []

    act(staff, failing, "reject", {"reason": "answered by phone"})
    html = staff.get("/queue").get_data(as_text=True)
    assert ids_on(html) == [other] and _count(html, "Waiting for staff") == 1


def test_previous_and_next_are_the_neighbours_in_the_whole_queue(services, big_queue):
    from bot.web.queue import neighbours

    # Ties on received_at (broken by id), and a failed send among the open items.
    tie, more = BASE + timedelta(minutes=4000), {"uidvalidity": 2}
    tied = [add_inquiry(services, received_at=tie, reply=False, **more) for _ in range(3)]
    urgent_tied = [
        add_inquiry(services, state="escalated", urgent=True, received_at=tie, **more) for _ in range(2)
    ]
    failed = add_inquiry(services, state="approved", reply_state="failed", received_at=tie, **more)
    closed = [big_queue[n] for n in (1, 4999)]  # answered, rejected: not in the queue themselves
    with services.store.session() as s:
        rows = s.execute(select(Inquiry.id, Inquiry.urgent, Inquiry.received_at, Inquiry.waiting)).all()
    key = {i: (not urgent, received, i) for i, urgent, received, _ in rows}  # the queue's order
    order = sorted((i for i, *_, waiting in rows if waiting), key=key.__getitem__)
    assert len(order) == 6006 and {*tied, *urgent_tied, failed} <= set(order)
    assert order[:50] == expected(services, [Inquiry.waiting.is_(True)])
    samples = {*order[:12], order[-1], *tied, *urgent_tied, failed, *closed}
    samples |= {big_queue[n] for n in (0, 9500, 9999)}
    with services.store.session() as s:
        for ident in samples:
            before = [i for i in order if key[i] < key[ident]]
            after = [i for i in order if key[i] > key[ident]]
            want = (before[-1] if before else None, after[0] if after else None)
            assert neighbours(s, s.get(Inquiry, ident)) == want, ident


def test_queue_pages_are_read_off_an_index_not_sorted(services, big_queue):
    """SQLite's plan for each page: an index in queue order, no temporary B-tree for ORDER BY."""
    from sqlalchemy import func

    from bot.web.queue import filters, page_query

    engine = services.store.engine
    assert engine.dialect.name == "sqlite"

    def plan(query) -> str:
        sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
        with engine.connect() as conn:
            return " / ".join(row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))

    for state, language in [("open", ""), ("open", "es"), ("drafted", ""), ("drafted", "en"), ("all", "")]:
        conds = filters(state, language, "")
        page = plan(page_query(conds, 50, 4950))
        assert "USING" in page and "INDEX" in page and "TEMP B-TREE" not in page, (state, page)
        count = plan(select(func.count()).select_from(Inquiry).where(*conds))
        if state != "all":
            assert "COVERING INDEX" in count, (state, language, count)
