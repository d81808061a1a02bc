"""``send --once`` killed with SIGKILL around the SMTP hand-over, then run again.

The named crash points of bot/faults.py kill the process at an exact
moment, with no cleanup, as a power cut would. The claim a dead sender
leaves behind is honoured until its lease runs out (a live sender in the
web app or the worker must never have its reply taken), so the tests make
the lease expire by moving ``next_attempt_at`` into the past.
"""

from __future__ import annotations

import email
import email.policy
from collections import Counter

from tests.ingest.helpers import run_cli

CRASH = "BOT_CRASH_AT"


def _message_ids(received) -> Counter[str]:  # type: ignore[no-untyped-def]
    """Message-ID -> how many times the relay accepted it."""
    return Counter(
        email.message_from_bytes(r.raw, policy=email.policy.default)["Message-ID"] for r in received
    )


def test_sigkill_after_the_sent_copy_is_recovered_as_sent_without_sending_again(outbox, smtp_relay) -> None:
    [item] = outbox.approved(1)
    crashed = run_cli(outbox.config, "send", "--once", env={CRASH: "send:after-sent-copy"}, check=False)
    assert crashed.returncode == -9, crashed.stderr
    # The relay took it and the Sent copy is filed; the database still says "sending".
    assert len(smtp_relay.received) == 1
    assert len(outbox.sent_folder()) == 1
    assert outbox.reply(item.reply_id).state == "sending"

    # While the claim's lease runs, another sender leaves it alone.
    assert "0 sent" in run_cli(outbox.config, "send", "--once").stdout
    assert outbox.reply(item.reply_id).state == "sending"

    outbox.expire_lease(item.reply_id)
    out = run_cli(outbox.config, "send", "--once").stdout
    assert "0 sent" in out and "1 recovered as already sent" in out, out

    assert _message_ids(smtp_relay.received) == {item.message_id: 1}, "the reply was sent twice"
    assert len(outbox.inbox(item.to_address)) == 1
    assert len(outbox.sent_folder()) == 1
    reply = outbox.reply(item.reply_id)
    assert reply.state == "sent" and reply.sent_at is not None
    assert "\\Answered" in outbox.original_flags(item.inquiry_id)
    assert "0 sent" in run_cli(outbox.config, "send", "--once").stdout
    assert len(smtp_relay.received) == 1


def test_sigkill_between_smtp_acceptance_and_the_sent_copy_sends_again_as_documented(
    outbox, smtp_relay
) -> None:
    """The one window bot/send.py documents as unclosable: the reply goes out a second time.

    The relay accepted the message (250) and the process died before the
    copy was filed in Sent, so nothing durable says it went out: recovery
    finds no Sent copy, puts the reply back to ``approved`` and sends it
    again. The patient receives the same message twice (the same
    Message-ID, so most mail clients show it once). Closing this would need
    the server's acceptance and our record to be one atomic step, which SMTP
    cannot offer; the window is one IMAP APPEND long. This test pins the
    documented behaviour so that a change to it is noticed.
    """
    [item] = outbox.approved(1)
    crashed = run_cli(outbox.config, "send", "--once", env={CRASH: "send:after-smtp"}, check=False)
    assert crashed.returncode == -9, crashed.stderr
    assert len(smtp_relay.received) == 1
    assert outbox.sent_folder() == []
    assert outbox.reply(item.reply_id).state == "sending"

    outbox.expire_lease(item.reply_id)
    out = run_cli(outbox.config, "send", "--once").stdout
    assert "1 sent" in out and "recovered" not in out, out

    assert _message_ids(smtp_relay.received) == {item.message_id: 2}, "documented: sent twice"
    assert len(outbox.inbox(item.to_address)) == 2
    assert len(outbox.sent_folder()) == 1
    reply = outbox.reply(item.reply_id)
    assert (reply.state, reply.attempts) == ("sent", 2)
    assert "\\Answered" in outbox.original_flags(item.inquiry_id)
    # And no third time.
    assert "0 sent" in run_cli(outbox.config, "send", "--once").stdout
    assert len(smtp_relay.received) == 2
