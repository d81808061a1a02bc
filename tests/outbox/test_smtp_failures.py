"""SMTP refusals: a temporary one is retried after a backoff and sent once; a permanent one stops for good.

The relay answers the reply's DATA with a scripted 451 or 550, as a
provider's server would; nothing it refuses is recorded or delivered.
"""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta

from bot.send import BACKOFF
from bot.store import AuditEntry
from tests.ingest.helpers import as_utc, run_cli


def test_temporary_smtp_failure_waits_for_the_backoff_then_delivers_exactly_once(outbox, smtp_relay) -> None:
    [item] = outbox.approved(1)
    smtp_relay.fail_next(code=451, text="4.3.0 Mailbox temporarily unavailable, try again later")

    before = datetime.now(UTC)
    first = outbox.send()
    assert (first.sent, first.retrying, first.failed) == (0, 1, 0)
    reply = outbox.reply(item.reply_id)
    assert reply.state == "approved" and reply.attempts == 1
    assert "451" in reply.last_error and "try again later" in reply.last_error
    retry_at = as_utc(reply.next_attempt_at)
    assert (
        before + timedelta(seconds=BACKOFF[0] - 5)
        <= retry_at
        <= datetime.now(UTC) + timedelta(seconds=BACKOFF[0])
    )
    assert smtp_relay.received == [] and outbox.inbox(item.to_address) == []

    # Not due yet: sending now leaves it waiting.
    assert outbox.send().sent == 0
    assert smtp_relay.received == []

    # After the backoff it goes out.
    later = outbox.send(now=retry_at + timedelta(seconds=1))
    assert (later.sent, later.retrying, later.failed) == (1, 0, 0)
    reply = outbox.reply(item.reply_id)
    assert (reply.state, reply.attempts, reply.last_error) == ("sent", 2, None)
    [received] = smtp_relay.received
    assert received.rcpt_tos == (item.to_address,)
    [delivered] = outbox.inbox(item.to_address)
    assert email.message_from_bytes(delivered, policy=email.policy.default)["Message-ID"] == item.message_id
    assert "\\Answered" in outbox.original_flags(item.inquiry_id)

    # Nothing is sent again, however late.
    assert outbox.send(now=retry_at + timedelta(days=2)).sent == 0
    assert len(smtp_relay.received) == 1 and len(outbox.inbox(item.to_address)) == 1


def test_permanent_smtp_failure_marks_the_reply_failed_with_the_error_and_never_retries(
    outbox, smtp_relay
) -> None:
    [item] = outbox.approved(1)
    smtp_relay.fail_next(code=550, text="5.1.1 The email account that you tried to reach does not exist")

    out = run_cli(outbox.config, "send", "--once", check=False)
    assert out.returncode == 1 and "1 failed" in out.stdout, out.stdout + out.stderr
    reply = outbox.reply(item.reply_id)
    assert reply.state == "failed"
    assert "550" in reply.last_error and "does not exist" in reply.last_error
    assert outbox.ledger.count(AuditEntry, AuditEntry.action == "send_failed") == 1
    assert smtp_relay.received == [] and outbox.inbox(item.to_address) == []

    # The relay would accept it now; the bot must not try again on its own.
    for now in (None, datetime.now(UTC) + timedelta(days=1)):
        report = outbox.send(now=now)
        assert (report.sent, report.failed) == (0, 0)
    assert "0 sent" in run_cli(outbox.config, "send", "--once").stdout
    assert smtp_relay.received == []
    assert outbox.reply(item.reply_id).attempts == 1
