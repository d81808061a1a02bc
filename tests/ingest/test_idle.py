"""IMAP IDLE: the worker drafts a reply to new mail within seconds, not at its next poll.

The worker runs as ``python run.py worker`` with polling every 300 s, so
only IDLE can explain a draft within a few seconds of delivery.
"""

from __future__ import annotations

import time

from bot.store import Inquiry, Reply
from tests.ingest.helpers import SUPPORT, inquiry, message_id, wait_until

IDLE_LATENCY_LIMIT = 5.0  # seconds from the LMTP delivery to the committed draft


def test_worker_drafts_mail_delivered_over_lmtp_within_seconds_through_idle(
    dovecot, tmp_config, ledger, start_worker
) -> None:
    config = tmp_config.write(tmp_config(schedule={"fetch_seconds": 300, "send_seconds": 300}))
    worker = start_worker(config)

    # A first message proves the worker is up (its start-up fetch or IDLE's catch-up drafts it).
    dovecot.deliver(SUPPORT, inquiry(0, tag="warmup"), mail_from="margaret.0@example.com")
    wait_until(lambda: ledger.count(Reply) == 1, 60, "the warm-up draft")
    # Let the IDLE connection settle into IDLE after that fetch.
    time.sleep(2)
    assert worker.running, worker.log()

    latencies = []
    for n, language in enumerate(("en", "es"), start=1):
        raw = inquiry(n, language=language, topic="dose", tag="idle")
        delivered = time.monotonic()
        dovecot.deliver(SUPPORT, raw)
        wait_until(
            lambda n=n: ledger.count(Reply) == n + 1, 30, f"the draft for message {n} ({language})", 0.02
        )
        latencies.append(time.monotonic() - delivered)
        time.sleep(1)
    print(f"\nIDLE latency, delivery to committed draft: {', '.join(f'{s:.2f} s' for s in latencies)}")
    assert max(latencies) <= IDLE_LATENCY_LIMIT, latencies

    rows = ledger.rows(Inquiry.message_id.in_([message_id(1, "idle"), message_id(2, "idle")]))
    assert [r.state for r in rows] == ["drafted", "drafted"]
    assert [r.language for r in rows] == ["en", "es"]
    code, took = worker.terminate()
    assert code == 0 and took <= 5.0, (code, took)
