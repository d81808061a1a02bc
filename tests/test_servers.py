"""The real-server fixtures do what the other tests rely on."""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage

import pytest

from bot.config import parse_config
from tests.conftest import ConfigFactory
from tests.servers import Dovecot, SmtpRelay

pytestmark = pytest.mark.e2e

PATIENT = "patient@example.com"
SUPPORT = "support@example.org"


def _mail(subject: str, to: str = SUPPORT, sender: str = PATIENT) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Message-ID"] = f"<{subject.replace(' ', '-')}@example.com>"
    msg.set_content("How much methylcobalamin per day?")
    return bytes(msg)


def _send(relay: SmtpRelay, raw: bytes, rcpt: str = PATIENT, password: str | None = None) -> None:
    with smtplib.SMTP(relay.host, relay.port, timeout=10) as client:
        if relay.starttls:
            # The same default context the bot uses: it must verify the test certificate.
            client.starttls(context=ssl.create_default_context())
        if password is not None:
            client.login(relay.username, password)
        client.sendmail(SUPPORT, [rcpt], raw)


def test_lmtp_delivery_is_readable_over_imap(dovecot: Dovecot) -> None:
    dovecot.deliver(SUPPORT, _mail("dose question"))
    [(uid, flags, raw)] = dovecot.messages(SUPPORT)
    assert uid == 1
    assert "\\Seen" not in flags
    assert b"Message-ID: <dose-question@example.com>" in raw
    with dovecot.imap(SUPPORT) as client:
        names = {name for _, _, name in client.list_folders()}
    assert {"INBOX", "Sent", "Processed", "Quarantine"} <= names


def test_append_keeps_flags_and_returns_the_uid(dovecot: Dovecot) -> None:
    uid = dovecot.append(SUPPORT, "Processed", _mail("old one"), flags=["\\Seen", "$Answered"])
    [(stored_uid, flags, _)] = dovecot.messages(SUPPORT, "Processed")
    assert uid == stored_uid
    assert {"\\Seen", "$Answered"} <= set(flags)


def test_each_test_starts_with_empty_mailboxes(dovecot: Dovecot) -> None:
    dovecot.deliver([SUPPORT, PATIENT], _mail("left over"))
    dovecot.reset()
    assert dovecot.messages(SUPPORT) == []
    assert dovecot.messages(PATIENT) == []


def test_idle_is_told_of_new_mail_within_two_seconds(dovecot: Dovecot) -> None:
    with dovecot.imap(SUPPORT) as client:
        client.select_folder("INBOX")
        client.idle()
        start = time.monotonic()
        dovecot.deliver(SUPPORT, _mail("while idle"))
        responses: list[tuple] = []
        while time.monotonic() - start < 2 and not any(r[1:2] == (b"EXISTS",) for r in responses):
            responses += client.idle_check(timeout=0.2)
        client.idle_done()
    assert (1, b"EXISTS") in responses, responses


def test_smtp_relay_delivers_into_the_patients_inbox(smtp_relay: SmtpRelay, dovecot: Dovecot) -> None:
    _send(smtp_relay, _mail("our reply", to=PATIENT, sender=SUPPORT))
    [received] = smtp_relay.received
    assert received.mail_from == SUPPORT and received.rcpt_tos == (PATIENT,)
    assert received.login is None and not received.tls
    [(_, _, raw)] = dovecot.wait_for_messages(PATIENT)
    assert b"<our-reply@example.com>" in raw


def test_scripted_temporary_failure_then_success(smtp_relay: SmtpRelay, dovecot: Dovecot) -> None:
    smtp_relay.fail_next(code=451, text="try later")
    with pytest.raises(smtplib.SMTPDataError) as failed:
        _send(smtp_relay, _mail("first try"))
    assert failed.value.smtp_code == 451
    assert smtp_relay.received == []
    _send(smtp_relay, _mail("second try"))
    assert len(smtp_relay.wait_for(1)) == 1
    assert len(dovecot.messages(PATIENT)) == 1


def test_scripted_permanent_failure_at_rcpt(smtp_relay: SmtpRelay) -> None:
    smtp_relay.fail_next(code=550, text="no such user", at="RCPT")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        _send(smtp_relay, _mail("nobody"))
    assert refused.value.recipients[PATIENT][0] == 550
    assert smtp_relay.received == []


def test_auth_and_starttls_with_a_verified_certificate(
    smtp_relay_factory: Callable[..., SmtpRelay], dovecot: Dovecot
) -> None:
    relay = smtp_relay_factory(auth=True, starttls=True)
    assert relay.config_dict()["security"] == "starttls"
    _send(relay, _mail("secure"), password=relay.password)
    [received] = relay.received
    assert received.login == SUPPORT and received.tls
    with pytest.raises(smtplib.SMTPAuthenticationError):
        _send(relay, _mail("refused"), password="wrong")
    assert len(dovecot.messages(PATIENT)) == 1


def test_restart_keeps_ports_and_mail(dovecot: Dovecot) -> None:
    dovecot.deliver(SUPPORT, _mail("before restart"))
    ports = (dovecot.imap_port, dovecot.lmtp_port)
    dovecot.restart()
    assert (dovecot.imap_port, dovecot.lmtp_port) == ports
    dovecot.deliver(SUPPORT, _mail("after restart"))
    assert [uid for uid, _, _ in dovecot.messages(SUPPORT)] == [1, 2]


def test_uidvalidity_can_be_set_or_forced_to_change(dovecot: Dovecot) -> None:
    for n in range(3):
        dovecot.deliver(SUPPORT, _mail(f"message {n}"))
    with dovecot.imap(SUPPORT) as client:
        client.select_folder("INBOX")
        client.delete_messages([1])
        client.expunge()
    old = dovecot.uidvalidity(SUPPORT)
    dovecot.set_uidvalidity(SUPPORT, "INBOX", old + 100)
    assert dovecot.uidvalidity(SUPPORT) == old + 100
    assert [uid for uid, _, _ in dovecot.messages(SUPPORT)] == [2, 3]
    new = dovecot.force_uidvalidity_change(SUPPORT)
    assert new != old + 100
    renumbered = dovecot.messages(SUPPORT)
    assert [uid for uid, _, _ in renumbered] == [1, 2]
    assert b"<message-1@example.com>" in renumbered[0][2]


def test_tmp_config_is_a_valid_config_for_the_servers(
    tmp_config: ConfigFactory, dovecot: Dovecot, smtp_relay: SmtpRelay
) -> None:
    config = parse_config(tmp_config(imap={"processed_folder": "Processed"}))
    assert config.imap is not None and config.imap.port == dovecot.imap_port
    assert config.imap.processed_folder == "Processed" and config.imap.security == "none"
    assert config.smtp.port == smtp_relay.port and config.smtp.security == "none"
    assert config.database.url.startswith("sqlite:///")
    assert parse_config(__import__("yaml").safe_load(tmp_config.write().read_text())) == parse_config(
        tmp_config()
    )
