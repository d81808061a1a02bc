"""The worker killed with SIGKILL at random moments during a backlog loses nothing and drafts nothing twice.

``python run.py worker`` works through 500 inquiries in batches and is
killed (SIGKILL: no cleanup, like a power cut or the OOM killer) once at a
named crash point just before a batch's commit, then up to five times at
random moments 0.2 to 2 s after it started working (while the backlog
lasts), and finally left to finish. In the end the
set of Message-IDs in the ledger is exactly the set delivered, each with
exactly one draft. After every kill, what was committed is whole batches,
each row with its draft.

The random delays come from a seed printed by the test; set
``INGEST_KILL_SEED`` to replay a run.
"""

from __future__ import annotations

import os
import random
import time

import pytest

from bot.sources.imap_source import PROCESSED_FLAG
from bot.store import Inquiry, Reply
from tests.ingest.helpers import append_many, flags, inquiries, message_id, wait_until

COUNT = 2000
BATCH = 25
KILLS = 5


@pytest.mark.timeout(600)
def test_worker_sigkilled_at_random_points_during_a_backlog_drafts_each_inquiry_exactly_once(
    dovecot, tmp_config, ledger, start_worker
) -> None:
    seed = int(os.environ.get("INGEST_KILL_SEED") or time.time_ns() % 10**9)
    rng = random.Random(seed)
    print(f"\nINGEST_KILL_SEED={seed}")
    append_many(dovecot, inquiries(COUNT, tag="backlog"))
    delivered = {message_id(n, "backlog") for n in range(COUNT)}
    config = tmp_config.write(
        tmp_config(
            imap={"batch_size": BATCH},
            ingest={"processes": 2},
            schedule={"fetch_seconds": 300, "send_seconds": 300},
        )
    )

    def committed_whole_batches() -> int:
        rows = ledger.count(Inquiry)
        assert rows % BATCH == 0, f"{rows} rows: part of a batch was committed"
        assert ledger.count(Reply) == rows, "a committed inquiry lacks its draft"
        return rows

    # A deterministic kill first: the first batch ingested, killed before its commit.
    worker = start_worker(config, env={"BOT_CRASH_AT": "ingest:before-commit"})
    assert worker.wait(120) == -9, worker.log()
    assert committed_whole_batches() == 0
    assert not any(PROCESSED_FLAG.decode() in f for f in flags(dovecot).values())

    history = []
    for _ in range(KILLS):
        before = ledger.count(Inquiry)
        if before == COUNT:
            break
        worker = start_worker(config)
        worker.wait_started()  # it is fetching from here on
        # Landing while work remains: with two processes the bot drafts about a thousand
        # inquiries a second, and 500 were all done two seconds in; 2,000 are not.
        delay = rng.uniform(0.3, 2.0)
        time.sleep(delay)
        assert worker.kill() == -9, worker.log()
        history.append((round(delay, 2), before, committed_whole_batches()))
    print("kills (seconds after start-up, rows before, rows after):", history)
    assert any(after < COUNT for _, _, after in history), "no kill landed while work remained"

    worker = start_worker(config)
    wait_until(lambda: ledger.count(Reply) >= COUNT, 300, "the last drafts")
    code, took = worker.terminate()
    assert code == 0, worker.log()

    per_message = ledger.replies_per_message_id()
    assert set(per_message) == delivered, "messages lost or invented"
    assert set(per_message.values()) == {1}, "a message was drafted twice"
    assert ledger.count(Inquiry) == COUNT
    assert ledger.states() == {"drafted": COUNT}
    mailbox = flags(dovecot)
    assert len(mailbox) == COUNT and not any("\\Seen" in f for f in mailbox.values())
    unflagged = sum(PROCESSED_FLAG.decode() not in f for f in mailbox.values())
    print(f"messages left without {PROCESSED_FLAG.decode()} (killed between commit and flag): {unflagged}")
