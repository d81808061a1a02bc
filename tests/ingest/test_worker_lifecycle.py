"""The worker rides out a Dovecot restart, and SIGTERM stops it promptly with nothing half-done.

``python run.py worker`` polls only every 300 s here, so mail drafted soon
after Dovecot comes back was fetched by the IDLE watcher reconnecting with
backoff. SIGTERM while it is working through a backlog must end it
within a few seconds with exit status 0; every ledger row it committed has
its draft, and the rest of the backlog is drafted once by the next fetch.
"""

from __future__ import annotations

import time

from bot.store import Inquiry, Reply
from tests.ingest.helpers import SUPPORT, deliver_many, inquiries, inquiry, message_id, run_cli, wait_until

STOP_LIMIT = 5.0  # seconds from SIGTERM to exit


def test_worker_reconnects_after_dovecot_stops_and_starts_and_drafts_new_mail(
    dovecot, tmp_config, ledger, start_worker
) -> None:
    config = tmp_config.write(tmp_config(schedule={"fetch_seconds": 300, "send_seconds": 300}))
    worker = start_worker(config)
    dovecot.deliver(SUPPORT, inquiry(1, tag="before-restart"))
    wait_until(lambda: ledger.count(Reply) == 1, 60, "the first draft")

    dovecot.stop()
    time.sleep(3)  # the worker notices and retries with backoff while the server is away
    assert worker.running, worker.log()
    dovecot.start()

    delivered = time.monotonic()
    dovecot.deliver(SUPPORT, inquiry(2, language="es", tag="after-restart"))
    wait_until(lambda: ledger.count(Reply) == 2, 60, "the draft of the mail delivered after the restart")
    print(f"\ndrafted {time.monotonic() - delivered:.1f} s after delivery, following the restart")
    assert "IDLE connection lost" in worker.log(200), "the worker did not notice the server going away"

    code, took = worker.terminate()
    assert code == 0 and took <= STOP_LIMIT, (code, took, worker.log())
    assert ledger.replies_per_message_id() == {
        message_id(1, "before-restart"): 1,
        message_id(2, "after-restart"): 1,
    }


def test_sigterm_while_working_through_a_backlog_stops_within_seconds_and_leaves_nothing_half_done(
    dovecot, tmp_config, ledger, start_worker
) -> None:
    count, batch = 300, 10
    deliver_many(dovecot, inquiries(count, tag="backlog"))
    config = tmp_config.write(
        tmp_config(imap={"batch_size": batch}, schedule={"fetch_seconds": 300, "send_seconds": 300})
    )
    worker = start_worker(config)
    wait_until(lambda: ledger.count(Inquiry) > 0, 60, "the first committed batch", 0.02)

    at_signal = ledger.count(Inquiry)
    code, took = worker.terminate()
    stored = ledger.count(Inquiry)
    print(
        f"\nstopped {took:.2f} s after SIGTERM: {at_signal} stored at the signal, {stored} of {count} at exit"
    )
    assert code == 0, worker.log()
    assert took <= STOP_LIMIT, f"SIGTERM took {took:.1f} s"
    assert "worker: stopped" in worker.log()
    # It finished the batch in hand (and perhaps one that committed as the signal was sent),
    # not the whole backlog.
    assert stored - at_signal <= 2 * batch, "the worker went on through the backlog after SIGTERM"

    # Nothing half-done: each stored message has its outcome and its one draft.
    assert ledger.states() == {"drafted": stored}
    assert ledger.count(Reply) == stored
    # And nothing missing: the next fetch drafts the rest, once each.
    run_cli(config, "fetch", "--once")
    per_message = ledger.replies_per_message_id()
    assert set(per_message) == {message_id(n, "backlog") for n in range(count)}
    assert set(per_message.values()) == {1}
