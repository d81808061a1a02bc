"""Machine mail delivered to the real inbox is stored as ``ignored`` with its reason and never answered.

Each case is a real message file in ``mail/`` delivered over LMTP with the
envelope sender such mail has (a bounce comes from ``<>``), so Dovecot's
own headers (Return-Path, Delivered-To, Received) are part of what is
screened. Every one mentions a topic (the dose, a call) so that only the
screening stops a reply. Also the per-sender daily cap: the third inquiry
of the day from one sender goes to a person instead of getting a third draft.
"""

from __future__ import annotations

from bot.store import Inquiry, Reply
from tests.ingest.helpers import MAIL, SUPPORT, inquiry, message_id, run_cli

# file, envelope sender, the screening rules that must have fired.
MACHINE_MAIL = [
    ("out_of_office_english.eml", "h.shaw@example-clinic.org", {"auto-submitted", "out-of-office-subject"}),
    ("out_of_office_spanish.eml", "lortega@example.cl", {"auto-submitted", "out-of-office-subject"}),
    ("dsn_bounce.eml", "", {"delivery-report", "null-return-path"}),
    ("mailing_list_newsletter.eml", "bounces@lists.example-research.org", {"list-headers", "precedence"}),
    ("from_our_own_address.eml", SUPPORT, {"own-address"}),
]


def test_machine_mail_delivered_to_the_inbox_is_ignored_with_its_reason_and_never_drafted(
    dovecot, tmp_config, ledger
) -> None:
    config = tmp_config.write()
    dovecot.deliver(SUPPORT, inquiry(1, topic="dose", tag="real"), mail_from="margaret.1@example.com")
    for name, mail_from, _ in MACHINE_MAIL:
        dovecot.deliver(SUPPORT, (MAIL / name).read_bytes(), mail_from=mail_from)
    # A real inquiry after them in the same fetch is still answered.
    dovecot.deliver(SUPPORT, inquiry(2, language="es", tag="real"), mail_from="maria.2@example.es")

    out = run_cli(config, "fetch", "--once").stdout
    assert "7 new message(s)" in out and "2 drafted" in out and "5 ignored" in out, out

    machine = ledger.rows(Inquiry.message_id.not_in([message_id(1, "real"), message_id(2, "real")]))
    assert len(machine) == len(MACHINE_MAIL)
    for row, (name, _, rules) in zip(machine, MACHINE_MAIL, strict=True):
        assert (row.state, row.action) == ("ignored", "ignore"), name
        fired = {r.split(":", 1)[0].removeprefix("screen/") for r in row.reasons if r.startswith("screen/")}
        assert rules <= fired, (name, row.reasons)
        assert not ledger.replies(Reply.inquiry_id == row.id), f"{name} got a draft"
    assert sorted(ledger.replies_per_message_id()) == [message_id(1, "real"), message_id(2, "real")]

    # Staff see why: the reason is on the inquiry's page.
    shown = run_cli(config, "queue", "show", str(machine[2].id)).stdout
    assert "ignored" in shown and "delivery-report" in shown
    assert "no new mail" in run_cli(config, "fetch", "--once").stdout


def test_third_inquiry_from_one_sender_in_a_day_goes_to_staff_not_to_a_third_draft(
    dovecot, tmp_config, ledger
) -> None:
    config = tmp_config.write(tmp_config(screening={"daily_cap": 2}))
    sender = "worried.son@example.com"
    for n, topic in enumerate(("dose", "call", "dose")):
        dovecot.deliver(SUPPORT, inquiry(n, topic=topic, tag="same-sender", sender=sender), mail_from=sender)
        out = run_cli(config, "fetch", "--once").stdout
        assert "1 new message(s)" in out

    rows = ledger.rows()
    assert [r.state for r in rows] == ["drafted", "drafted", "manual"]
    assert [len(ledger.replies(Reply.inquiry_id == r.id)) for r in rows] == [1, 1, 0]
    third = rows[2]
    assert third.topics, "the third message asked something: it is for staff, not ignored"
    [capped] = [r for r in third.reasons if r.startswith("screen/daily-cap")]
    assert "2 replies in the last 24 hours" in capped
    # Another sender the same day is not affected.
    dovecot.deliver(SUPPORT, inquiry(9, topic="dose", tag="other-sender"))
    assert "1 drafted" in run_cli(config, "fetch", "--once").stdout
