"""Handled mail is moved out of the inbox only after it is stored: answered mail to Processed,
mail the bot could not handle to Quarantine, and the \\Answered flag still finds it there."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import parse_config
from bot.fetch import fetch_once
from bot.queue import approve
from bot.send import send_once
from bot.services import build_services
from bot.store import Inquiry

pytestmark = pytest.mark.e2e
MAIL = Path(__file__).parent / "mail"
SUPPORT = "support@example.org"


def test_processed_and_quarantined_mail_leave_the_inbox_after_commit(dovecot, tmp_config) -> None:
    config = parse_config(
        tmp_config(imap={"processed_folder": "Processed", "quarantine_folder": "Quarantine"}), environ={}
    )
    dovecot.deliver(SUPPORT, (MAIL / "english_dosage_question.eml").read_bytes())
    # APPEND stores bytes as given: this one has no header at all, so it cannot be parsed.
    dovecot.append(SUPPORT, "INBOX", b"just a line of text, no headers, no blank line")
    services = build_services(config)
    try:
        report = fetch_once(services)
        assert report.states == {"drafted": 1, "quarantined": 1}
        assert dovecot.messages(SUPPORT, "INBOX") == []
        [(_, _, kept)] = dovecot.messages(SUPPORT, "Processed")
        assert b"<CAK7x9f3-husband-dose@mail.example.com>" in kept
        [(_, _, bad)] = dovecot.messages(SUPPORT, "Quarantine")
        assert bad.startswith(b"just a line of text")

        with services.store.session() as s:
            drafted = s.scalar(select(Inquiry).where(Inquiry.state == "drafted"))
            approve(s, drafted.id, "tester")
        assert send_once(services).sent == 1
        [(_, flags, _)] = dovecot.messages(SUPPORT, "Processed")
        assert "\\Answered" in flags
    finally:
        services.close()


def test_mail_stored_just_before_a_crash_is_flagged_and_moved_by_the_next_fetch(dovecot, tmp_config) -> None:
    import os
    import subprocess
    import sys

    data = tmp_config(imap={"processed_folder": "Processed"})
    path = tmp_config.write(data)
    dovecot.deliver(SUPPORT, (MAIL / "english_dosage_question.eml").read_bytes())
    crashed = subprocess.run(
        [sys.executable, "run.py", "--config", str(path), "fetch", "--once"],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "BOT_CRASH_AT": "ingest:after-commit"},
        capture_output=True,
        timeout=120,
    )
    assert crashed.returncode == -9  # killed after the commit, before touching the mailbox
    [(_, flags, _)] = dovecot.messages(SUPPORT, "INBOX")
    assert "$HelpdeskStored" not in flags

    services = build_services(parse_config(data, environ={}))
    try:
        report = fetch_once(services)
        assert report.fetched == 0  # nothing new to store: it was committed before the crash
        with services.store.session() as s:
            assert s.scalar(select(Inquiry.state)) == "drafted"
    finally:
        services.close()
    assert dovecot.messages(SUPPORT, "INBOX") == []
    [(_, flags, _)] = dovecot.messages(SUPPORT, "Processed")
    assert "$HelpdeskStored" in flags
