"""Two ``send --once`` processes started together deliver each approved reply exactly once.

A reply is claimed with a conditional UPDATE (approved -> sending) before
SMTP is touched, so whichever process wins a reply sends it and the other
skips it. To make the two really race, the test holds the database's write
lock (as a long write elsewhere would) until both senders are connected
and have read the same due replies; then it lets go and both try to claim
them. The relay's record and the patients' inboxes must show every reply
once.
"""

from __future__ import annotations

import email
import email.policy
import re
import sqlite3
import subprocess
import sys
import time
from collections import Counter

from tests.ingest.helpers import REPO, SUPPORT, child_env, wait_until

COUNT = 20


def test_two_senders_started_together_deliver_each_approved_reply_exactly_once(outbox, smtp_relay) -> None:
    approved = outbox.approved(COUNT)
    command = [sys.executable, "run.py", "--config", str(outbox.config), "send", "--once"]
    database = outbox.svc.store.engine.url.database
    lock = sqlite3.connect(database, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # readers go on; the first claim (an UPDATE) waits
    try:
        senders = [
            subprocess.Popen(
                command, cwd=REPO, env=child_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True,
            )
            for _ in range(2)
        ]  # fmt: skip
        # Each sender logs in to IMAP first, then reads the due replies and blocks on its first claim.
        wait_until(
            lambda: _imap_sessions(outbox.dovecot) >= 2 or any(p.poll() is not None for p in senders),
            60,
            "both senders' IMAP sessions",
        )
        time.sleep(1)
        for proc in senders:
            assert proc.poll() is None, "a sender ended early:\n" + "".join(proc.communicate())
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    outputs = [p.communicate(timeout=180) for p in senders]
    for proc, (out, err) in zip(senders, outputs, strict=True):
        assert proc.returncode == 0, out + err
    split = [int(re.search(r"send: (\d+) sent", out).group(1)) for out, _ in outputs]
    print(f"\nreplies sent by each sender: {split}")
    assert sum(split) == COUNT

    sent_ids = Counter(
        email.message_from_bytes(r.raw, policy=email.policy.default)["Message-ID"]
        for r in smtp_relay.received
    )
    assert sent_ids == Counter({a.message_id: 1 for a in approved}), "a reply was sent twice or not at all"
    for item in approved:
        assert len(outbox.inbox(item.to_address)) == 1
        assert outbox.reply(item.reply_id).state == "sent"
    assert len(outbox.sent_folder()) == COUNT


def _imap_sessions(dovecot) -> int:  # type: ignore[no-untyped-def]
    """How many IMAP sessions the bot's account has open (``doveadm who`` prints a header line first)."""
    return len(dovecot.doveadm("who", "-1", SUPPORT, check=False).stdout.strip().splitlines()) - 1
