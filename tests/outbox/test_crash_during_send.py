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


def test_sigkill_between_smtp_acceptance_and_the_confirmation_never_sends_twice(outbox, smtp_relay) -> None:
    """The window no SMTP client can close: the server said 250 and we died before recording it.

    The Sent copy was filed before SMTP, marked pending; recovery finds it
    still pending, cannot know whether the reply went out, and hands it to
    staff as failed with the reason instead of sending it again.
    """
    [item] = outbox.approved(1)
    crashed = run_cli(outbox.config, "send", "--once", env={CRASH: "send:after-smtp"}, check=False)
    assert crashed.returncode == -9, crashed.stderr
    assert len(smtp_relay.received) == 1
    assert len(outbox.sent_folder()) == 1  # the pending copy
    assert outbox.reply(item.reply_id).state == "sending"

    outbox.expire_lease(item.reply_id)
    out = run_cli(outbox.config, "send", "--once", check=False).stdout
    assert "0 sent" in out and "1 failed" in out, out

    assert _message_ids(smtp_relay.received) == {item.message_id: 1}, "the reply was sent twice"
    assert len(outbox.inbox(item.to_address)) == 1
    reply = outbox.reply(item.reply_id)
    assert reply.state == "failed" and "may or may not have gone out" in reply.last_error
    # Nothing sends it again on its own.
    run_cli(outbox.config, "send", "--once", check=False)
    assert len(smtp_relay.received) == 1


def test_sigkill_before_smtp_is_tried_sends_nothing_and_asks_a_person(outbox, smtp_relay) -> None:
    [item] = outbox.approved(1)
    crashed = run_cli(outbox.config, "send", "--once", env={CRASH: "send:after-pending-copy"}, check=False)
    assert crashed.returncode == -9, crashed.stderr
    assert smtp_relay.received == []

    outbox.expire_lease(item.reply_id)
    run_cli(outbox.config, "send", "--once", check=False)
    # From the outside this crash looks like the one above: a pending copy and no record of SMTP.
    # The safe reading is the same: a person decides, nothing is sent twice.
    assert smtp_relay.received == []
    reply = outbox.reply(item.reply_id)
    assert reply.state == "failed" and "may or may not have gone out" in reply.last_error
