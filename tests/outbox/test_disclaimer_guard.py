"""The send step reads the exact bytes it is about to send and refuses a reply without the disclaimer.

An approved reply's stored message is rebuilt without the disclaimer (as a
bad edit or a broken template could leave it): the outbox must fail it with
an error that says so, and the relay must receive nothing.
"""

from __future__ import annotations

import email
import email.policy
import re

from bot.disclaimer import has_disclaimer
from tests.ingest.helpers import REPO


def _without_disclaimer(raw: bytes, text: str, html: str) -> bytes:
    """The same message (headers, attachments) with both body parts rebuilt minus the disclaimer."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    plain = text[: text.rindex("\n--\n")] + "\n"
    bare_html = re.sub(r'<div class="disclaimer".*?</div>\s*', "", html, flags=re.DOTALL)
    assert bare_html != html
    for part in msg.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        if part.get_content_type() == "text/plain":
            part.set_content(plain, charset="utf-8")
        elif part.get_content_type() == "text/html":
            part.set_content(bare_html, subtype="html", charset="utf-8")
    return msg.as_bytes(policy=email.policy.SMTP)


def test_send_refuses_an_approved_reply_whose_message_lacks_the_disclaimer(outbox, smtp_relay) -> None:
    first, second = outbox.approved(2)
    reply = outbox.reply(first.reply_id)
    tampered = _without_disclaimer(reply.raw, reply.text, reply.html)
    assert not has_disclaimer(tampered, REPO / "replies")
    assert email.message_from_bytes(tampered)["Message-ID"] == first.message_id
    outbox.set_reply(first.reply_id, stored_raw=tampered)

    report = outbox.send()
    assert (report.sent, report.failed) == (1, 1), "the other reply still goes out"
    failed = outbox.reply(first.reply_id)
    assert failed.state == "failed"
    assert "disclaimer" in failed.last_error and "lacks" in failed.last_error
    assert [r.rcpt_tos for r in smtp_relay.received] == [(second.to_address,)]
    assert outbox.inbox(first.to_address) == []
    assert "\\Answered" not in outbox.original_flags(first.inquiry_id)
    # Not retried behind staff's back.
    assert outbox.send().sent == 0 and len(smtp_relay.received) == 1
