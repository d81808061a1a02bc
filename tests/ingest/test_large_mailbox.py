"""A mailbox of thousands of messages is ingested exactly once, and the mailbox is left as people expect.

Exactly once: one ledger row and one draft per message, and a second fetch
finds nothing. Non-destructive: nothing is marked ``\\Seen`` (staff read the
same mailbox), handled mail only gets the ``$HelpdeskStored`` keyword, and
with ``imap.processed_folder`` it is moved there only after the database
commit (a crash before the commit leaves the mailbox untouched).
"""

from __future__ import annotations

import time

import pytest

from bot.fetch import fetch_once
from bot.sources.imap_source import PROCESSED_FLAG
from bot.store import Inquiry, Reply
from tests.ingest.helpers import (
    append_many,
    flags,
    inquiries,
    message_id,
    message_ids_in,
    run_cli,
    services,
)

STORED = PROCESSED_FLAG.decode()
COUNT = 2000


@pytest.mark.timeout(900)
def test_two_thousand_messages_get_exactly_one_ledger_row_and_one_draft_each(
    dovecot, tmp_config, ledger
) -> None:
    # English and Spanish, every tenth asking the dose (its reply carries a PDF packet),
    # the others asking for a call (a topic without a packet, which keeps the run short).
    append_many(dovecot, inquiries(COUNT))
    expected = {message_id(n) for n in range(COUNT)}
    assert len(flags(dovecot)) == COUNT

    svc = services(tmp_config(ingest={"processes": 2}))
    try:
        started = time.monotonic()
        report = fetch_once(svc)
        took = time.monotonic() - started
        print(f"\nfetched {COUNT} messages in {took:.1f} s ({1000 * took / COUNT:.1f} ms each)")
        assert report.fetched == COUNT
        assert dict(report.states) == {"drafted": COUNT}

        again = fetch_once(svc)
        assert again.fetched == 0 and again.summary() == "fetch: no new mail"
    finally:
        svc.close()

    assert ledger.count(Inquiry) == COUNT
    assert ledger.count(Reply) == COUNT
    per_message = ledger.replies_per_message_id()
    assert set(per_message) == expected
    assert set(per_message.values()) == {1}, "some message got more than one draft"
    rows = ledger.rows()
    assert sorted(r.uid for r in rows) == list(range(1, COUNT + 1))
    [state] = ledger.folder_states()
    assert state.last_uid == COUNT

    # Nothing read, nothing moved, every message flagged as stored.
    mailbox = flags(dovecot)
    assert len(mailbox) == COUNT
    assert not [uid for uid, f in mailbox.items() if "\\Seen" in f], "the bot marked mail as read"
    assert all(STORED in f for f in mailbox.values())

    # The command line agrees that there is nothing new.
    assert "no new mail" in run_cli(tmp_config.write(), "fetch", "--once").stdout


def test_processed_mail_is_moved_only_after_the_commit(dovecot, tmp_config, ledger) -> None:
    count = 60
    append_many(dovecot, inquiries(count, tag="moved"))
    config = tmp_config.write(
        tmp_config(imap={"processed_folder": "Processed", "batch_size": 25}, ingest={"processes": 2})
    )

    # Killed (SIGKILL) after the first batch was ingested, before its commit.
    crashed = run_cli(config, "fetch", "--once", env={"BOT_CRASH_AT": "ingest:before-commit"}, check=False)
    assert crashed.returncode == -9, crashed.stderr
    assert ledger.count(Inquiry) == 0, "a batch was committed although the process died before the commit"
    inbox = flags(dovecot)
    assert len(inbox) == count and not any(STORED in f for f in inbox.values())
    assert flags(dovecot, folder="Processed") == {}

    out = run_cli(config, "fetch", "--once").stdout
    assert f"{count} new message(s)" in out and f"{count} drafted" in out
    assert flags(dovecot) == {}, "handled mail stayed in the inbox"
    processed = flags(dovecot, folder="Processed")
    assert len(processed) == count
    assert all(STORED in f and "\\Seen" not in f for f in processed.values())
    assert sorted(message_ids_in(dovecot, folder="Processed")) == sorted(
        message_id(n, "moved") for n in range(count)
    )
    assert set(ledger.replies_per_message_id().values()) == {1}
    assert ledger.count(Reply) == count

    # The inbox is empty and the high-water mark holds: nothing is fetched twice.
    assert "no new mail" in run_cli(config, "fetch", "--once").stdout
    append_many(dovecot, inquiries(1, tag="late"))
    assert "1 new message(s)" in run_cli(config, "fetch", "--once").stdout
    assert ledger.count(Reply) == count + 1
