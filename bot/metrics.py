"""Prometheus metrics, read from the database at scrape time.

Counting from the ledger rather than in memory means the numbers are the
same whichever process serves them (the web app, or the worker and web app
together) and survive restarts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import func, select

from bot.store import OPEN_STATES, Inquiry, Reply, ReplyState, Store


class LedgerCollector(Collector):
    """Messages fetched, drafted, sent, quarantined; queue depth; oldest waiting; errors by stage."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        with self.store.session() as s:
            by_state = dict(s.execute(select(Inquiry.state, func.count()).group_by(Inquiry.state)).all())
            replies = dict(s.execute(select(Reply.state, func.count()).group_by(Reply.state)).all())
            errors = dict(
                s.execute(
                    select(Inquiry.error_stage, func.count())
                    .where(Inquiry.error_stage.is_not(None))
                    .group_by(Inquiry.error_stage)
                ).all()
            )
            open_states = [str(x) for x in OPEN_STATES]
            oldest = s.scalar(select(func.min(Inquiry.received_at)).where(Inquiry.state.in_(open_states)))
        fetched = CounterMetricFamily(
            "helpdesk_messages_fetched", "Inquiries stored, by state", labels=["state"]
        )
        for state, n in sorted(by_state.items()):
            fetched.add_metric([state], n)
        yield fetched
        yield CounterMetricFamily("helpdesk_messages_drafted", "Replies drafted", value=sum(replies.values()))
        yield CounterMetricFamily(
            "helpdesk_messages_sent", "Replies sent", value=replies.get(ReplyState.SENT, 0)
        )
        yield CounterMetricFamily(
            "helpdesk_messages_quarantined", "Messages quarantined", value=by_state.get("quarantined", 0)
        )
        failed = replies.get(ReplyState.FAILED, 0)
        stage_errors = CounterMetricFamily("helpdesk_errors", "Errors by stage", labels=["stage"])
        for stage, n in sorted(errors.items()):
            stage_errors.add_metric([stage], n)
        stage_errors.add_metric(["send"], failed)
        yield stage_errors
        yield GaugeMetricFamily(
            "helpdesk_queue_depth",
            "Items waiting for staff",
            value=sum(by_state.get(x, 0) for x in open_states),
        )
        age = 0.0
        if oldest is not None:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
            age = (datetime.now(UTC) - oldest).total_seconds()
        yield GaugeMetricFamily(
            "helpdesk_oldest_waiting_seconds", "Age of the oldest waiting item", value=age
        )


def registry_for(store: Store) -> CollectorRegistry:
    """A registry holding only the ledger's metrics (no process defaults, which vary by platform)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LedgerCollector(store))
    return registry
