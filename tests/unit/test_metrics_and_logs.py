"""Metrics come from the ledger; logs are JSON lines that never carry addresses or bodies."""

from __future__ import annotations

import io
import json
import logging

from prometheus_client import generate_latest

from bot import logsetup
from bot.metrics import registry_for
from tests.unit.conftest import add_inquiry, days_ago


def test_metrics_count_states_queue_depth_and_errors(store) -> None:
    add_inquiry(store, 1, state="drafted", received=days_ago(0.5))
    add_inquiry(store, 2, state="escalated", received=days_ago(0.1), urgent=True)
    add_inquiry(store, 3, state="quarantined", received=days_ago(0.1), error_stage="parse", error="x")
    add_inquiry(store, 4, state="answered", received=days_ago(2))
    text = generate_latest(registry_for(store)).decode()
    assert 'helpdesk_messages_fetched_total{state="drafted"} 1.0' in text
    assert "helpdesk_messages_quarantined_total 1.0" in text
    assert "helpdesk_queue_depth 3.0" in text
    assert 'helpdesk_errors_total{stage="parse"} 1.0' in text
    oldest = [line for line in text.splitlines() if line.startswith("helpdesk_oldest_waiting_seconds ")][0]
    assert 0.4 * 86400 < float(oldest.split()[1]) < 0.6 * 86400


def test_log_lines_are_json_and_drop_fields_not_allowed() -> None:
    stream = io.StringIO()
    logsetup.setup("INFO", stream)
    logging.getLogger("bot.test").info(
        "inquiry stored", extra={"event": "ingested", "sender": "ab12", "from_address": "patient@example.com"}
    )
    entry = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert entry["event"] == "ingested" and entry["sender"] == "ab12" and entry["msg"] == "inquiry stored"
    assert "patient@example.com" not in stream.getvalue()
    logging.getLogger().handlers.clear()
