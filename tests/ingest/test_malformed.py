"""Broken mail mid-batch: handled or quarantined with its stage and reason; the batch goes on.

The broken messages sit between good inquiries in one fetch: binary garbage
(no headers at all), a multipart cut off in the middle of its attachment, an
unknown charset, and an empty message (Dovecot refuses a 0-byte APPEND; over
LMTP it stores one holding only its own trace headers). What cannot be
parsed is quarantined with the stage and the error and shown by
``quarantine list``; ``quarantine retry ID`` runs it through the same
pipeline again. Everything else, broken or not, is triaged and the good
inquiries are drafted.
"""

from __future__ import annotations

import email
import email.policy
import json
import random

import pytest
from imapclient.exceptions import IMAPClientError

from bot.store import AuditEntry, Inquiry, Reply
from tests.ingest.helpers import MAIL, SUPPORT, inquiry, message_id, run_cli


def _garbage() -> bytes:
    rng = random.Random(7)
    return bytes(rng.randrange(256) for _ in range(4096))


def test_malformed_messages_mid_batch_are_quarantined_or_triaged_and_the_rest_is_drafted(
    dovecot, tmp_config, ledger
) -> None:
    config = tmp_config.write()
    with dovecot.imap(SUPPORT) as imap:
        imap.append("INBOX", inquiry(1, tag="good"))
        imap.append("INBOX", inquiry(2, language="es", topic="dose", tag="good"))
        imap.append("INBOX", _garbage())
        imap.append("INBOX", (MAIL / "truncated_multipart.eml").read_bytes())
        with pytest.raises(IMAPClientError, match="zero byte"):
            imap.append("INBOX", b"")
    dovecot.deliver(SUPPORT, b"")  # LMTP accepts it: Dovecot stores its own headers only
    with dovecot.imap(SUPPORT) as imap:
        imap.append("INBOX", (MAIL / "unknown_charset.eml").read_bytes())
        imap.append("INBOX", inquiry(3, topic="dose", tag="good"))
        imap.append("INBOX", inquiry(4, language="es", tag="good"))

    out = run_cli(config, "fetch", "--once").stdout
    assert "8 new message(s)" in out and "1 quarantined" in out, out
    rows = {r.uid: r for r in ledger.rows()}
    assert sorted(rows) == list(range(1, 9))

    # The good inquiries around the broken ones are drafted, once each.
    good = [message_id(n, "good") for n in (1, 2, 3, 4)]
    assert {mid: n for mid, n in ledger.replies_per_message_id().items() if mid in good} == dict.fromkeys(
        good, 1
    )

    garbage = rows[3]
    assert (garbage.state, garbage.error_stage) == ("quarantined", "parse")
    assert garbage.error == "no mail headers: this is not an email"
    assert garbage.reasons == ["parse/error: no mail headers: this is not an email"]
    assert not ledger.replies(Reply.inquiry_id == garbage.id)

    # A multipart cut off mid-attachment still has the question: it is answered.
    truncated = rows[4]
    assert truncated.message_id == "<truncated-multipart-77@mail.example.com>"
    assert truncated.state == "drafted" and "dosage" in truncated.topics

    # The empty delivery has nothing to answer: a person looks at it.
    empty = rows[5]
    assert (empty.state, empty.action, empty.topics) == ("manual", "manual", [])
    assert ledger.raw(empty.id).startswith(
        b"Return-Path: <sender@example.net>\r\nDelivered-To: support@example.org"
    )

    # An unknown charset is read as well as can be, and the question answered.
    charset = rows[6]
    assert (charset.message_id, charset.state) == ("<unknown-charset-12@mail.example.fr>", "drafted")
    assert "dosage" in charset.topics

    listed = [
        json.loads(line) for line in run_cli(config, "quarantine", "list", "--json").stdout.splitlines()
    ]
    assert listed == [
        {
            "id": garbage.id,
            "stage": "parse",
            "error": "no mail headers: this is not an email",
            "message_id": garbage.message_id,
        }
    ]
    assert "[parse] no mail headers" in run_cli(config, "quarantine", "list").stdout

    # Retrying runs it again (it is still garbage, so it stays quarantined, and says so).
    retry = run_cli(config, "quarantine", "retry", str(garbage.id), check=False)
    assert retry.returncode == 1 and f"message {garbage.id} is now quarantined" in retry.stdout
    [after] = ledger.rows(Inquiry.id == garbage.id)
    assert (after.attempts, after.state, after.error_stage) == (1, "quarantined", "parse")
    assert (
        ledger.count(AuditEntry, AuditEntry.inquiry_id == garbage.id, AuditEntry.action == "quarantine_retry")
        == 1
    )
    assert "no new mail" in run_cli(config, "fetch", "--once").stdout


def test_quarantine_retry_reruns_the_pipeline_and_drafts_once_the_cause_is_fixed(
    dovecot, tmp_config, ledger, tmp_path
) -> None:
    # The organisation's own injection sheet is configured but not there (yet): composing fails.
    official = tmp_path / "official-injection-sheet.pdf"
    config = tmp_config.write(
        tmp_config(paths={"packet_overrides": {"en/injection_information": str(official)}})
    )
    dovecot.deliver(SUPPORT, inquiry(1, topic="dose", tag="needs-sheet"))
    dovecot.deliver(SUPPORT, inquiry(2, topic="call", tag="no-sheet"))

    out = run_cli(config, "fetch", "--once").stdout
    assert "1 drafted" in out and "1 quarantined" in out, out
    [held] = ledger.rows(Inquiry.state == "quarantined")
    assert held.message_id == message_id(1, "needs-sheet")
    assert held.error_stage == "compose" and str(official) in held.error
    assert held.topics == ["dosage"], "triage had run before composing failed"
    listed = run_cli(config, "quarantine", "list").stdout
    assert "[compose]" in listed and "official-injection-sheet.pdf" in listed

    official.write_bytes(b"%PDF-1.4\n% the organisation's official sheet\n%%EOF\n")
    retry = run_cli(config, "quarantine", "retry", str(held.id))
    assert f"message {held.id} is now drafted" in retry.stdout
    [reply] = ledger.replies(Reply.inquiry_id == held.id)
    attached = email.message_from_bytes(reply.raw, policy=email.policy.default)
    assert [a.get_filename() for a in attached.iter_attachments()] == ["official-injection-sheet.pdf"]
    assert "quarantine: empty" in run_cli(config, "quarantine", "list").stdout
    again = run_cli(config, "quarantine", "retry", str(held.id), check=False)
    assert again.returncode == 1 and "no quarantined message" in again.stdout
    assert ledger.replies_per_message_id() == {message_id(1, "needs-sheet"): 1, message_id(2, "no-sheet"): 1}
