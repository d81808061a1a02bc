"""Urgent mail reaches staff at once by email, again if it waits, and a daily digest sums up the queue.

Staff mail goes through the real SMTP relay and carries ids and links only,
never the patient's words or address.
"""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import parse_config
from bot.fetch import fetch_once
from bot.notify import alert_urgent, digest
from bot.services import build_services

pytestmark = pytest.mark.e2e
DEMO = Path(__file__).resolve().parents[2] / "bot" / "demo" / "inbox"
STAFF = ["duty@example.org", "nurse@example.org"]


@pytest.fixture
def services(dovecot, smtp_relay, tmp_config):
    config = parse_config(
        tmp_config(notifications={"staff": STAFF, "urgent_reminder_minutes": 30}), environ={}
    )
    s = build_services(config)
    yield s
    s.close()


def _staff_mail(smtp_relay) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(r.raw, policy=email.policy.default)
        for r in smtp_relay.received
        if set(r.rcpt_tos) == set(STAFF)
    ]


def test_urgent_inquiry_alerts_staff_once_then_reminds_once(dovecot, smtp_relay, services) -> None:
    raw = (DEMO / "04_english_urgent_breathing.eml").read_bytes()
    dovecot.deliver("support@example.org", raw)
    assert fetch_once(services).states == {"escalated": 1}

    assert alert_urgent(services) == 1
    assert alert_urgent(services) == 0  # already told
    [alert] = _staff_mail(smtp_relay)
    assert alert["Subject"].startswith("URGENT inquiry #")
    assert alert["Auto-Submitted"] == "auto-generated"
    body = alert.get_content()
    assert "/inquiry/" in body
    assert "breathe" not in body and "tom.becker" not in body  # no patient words, no address

    later = datetime.now(UTC) + timedelta(minutes=31)
    assert alert_urgent(services, now=later) == 1
    assert alert_urgent(services, now=later) == 0
    assert _staff_mail(smtp_relay)[-1]["Subject"].startswith("Reminder: URGENT inquiry #")


def test_daily_digest_is_sent_once_a_day_with_counts(dovecot, smtp_relay, services) -> None:
    for name in ("02_spanish_dosis.eml", "11_english_fundraiser.eml"):
        dovecot.deliver("support@example.org", (DEMO / name).read_bytes())
    fetch_once(services)
    assert digest(services) is True
    assert digest(services) is False
    [mail] = _staff_mail(smtp_relay)
    body = mail.get_content()
    assert "drafted: 1" in body and "manual: 1" in body and "/queue" in body
    assert "Dosis" not in body and "carmen" not in body.lower()
