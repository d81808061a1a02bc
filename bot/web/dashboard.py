"""The overview page: how much mail came in, about what, and how fast it was answered.

Three charts over the last 30 days (UTC days), drawn as inline SVG by
:mod:`bot.web.charts`: inquiries per day by language, inquiries by topic,
and the median time from arrival to the reply being sent, per day. Machine
mail and duplicates are not counted as inquiries. The numbers are worked
out in Python from one small query each, which keeps the SQL portable.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Blueprint, render_template
from sqlalchemy import func, select

from bot.store import Inquiry, InquiryState, Reply, ReplyState
from bot.web import charts, common
from bot.web.queue import OPEN, state_condition

bp = Blueprint("dashboard", __name__)
DAYS = 30
NOT_INQUIRIES = (InquiryState.IGNORED.value, InquiryState.DUPLICATE.value)


def overview_data(session: Any, today: date) -> dict[str, Any]:
    """The figures behind the overview page, for the ``DAYS`` days ending ``today``."""
    days = [today - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
    since = datetime.combine(days[0], datetime.min.time(), tzinfo=UTC)
    rows = session.execute(
        select(Inquiry.received_at, Inquiry.language, Inquiry.topics).where(
            Inquiry.received_at >= since, Inquiry.state.not_in(NOT_INQUIRIES)
        )
    ).all()
    per_day: dict[str, Counter[date]] = defaultdict(Counter)
    topics: Counter[str] = Counter()
    for received, language, topic_ids in rows:
        per_day[language or "unknown"][common.as_utc(received).date()] += 1
        topics.update(topic_ids or ["(no topic)"])
    waits: dict[date, list[float]] = defaultdict(list)
    sent = session.execute(
        select(Reply.sent_at, Inquiry.received_at)
        .join(Inquiry, Reply.inquiry_id == Inquiry.id)
        .where(Reply.state == ReplyState.SENT, Reply.sent_at >= since)
    ).all()
    for sent_at, received in sent:
        sent_at, received = common.as_utc(sent_at), common.as_utc(received)
        waits[sent_at.date()].append((sent_at - received).total_seconds() / 3600)
    medians = [statistics.median(waits[d]) if waits[d] else 0.0 for d in days]
    all_waits = [w for ws in waits.values() for w in ws]
    languages = sorted(per_day, key=lambda lang: -sum(per_day[lang].values()))
    return {
        "days": days,
        "by_language": [(lang, [per_day[lang][d] for d in days]) for lang in languages],
        "by_topic": topics.most_common(),
        "median_hours": medians,
        "total": len(rows),
        "answered": len(sent),
        "median_all": statistics.median(all_waits) if all_waits else None,
        # The same count as the queue's "Waiting for staff" tab (failed sends included).
        "open": session.scalar(select(func.count()).select_from(Inquiry).where(state_condition(OPEN))),
        "urgent": session.scalar(
            select(func.count()).select_from(Inquiry).where(Inquiry.state == InquiryState.ESCALATED.value)
        ),
    }


@bp.get("/overview")
def overview() -> Any:
    with common.services().store.session() as s:
        data = overview_data(s, datetime.now(UTC).date())
    labels = [d.strftime("%d %b") for d in data["days"]]
    named = [(common.LANGUAGE_NAMES.get(lang, lang), values) for lang, values in data["by_language"]]
    return render_template(
        "overview.html",
        data=data,
        labels=labels,
        chart_language=charts.column_chart(
            labels,
            named or [("inquiries", [0] * len(labels))],
            title="Inquiries per day by language",
            legend=bool(named),
        ),
        chart_topics=charts.bar_chart(
            [(topic.replace("_", " "), n) for topic, n in data["by_topic"]], title="Inquiries by topic"
        ),
        chart_wait=charts.column_chart(
            labels,
            [("hours", data["median_hours"])],
            title="Median hours from arrival to reply sent, per day",
            unit=" h",
        ),
    )
