"""A Maildir inbox keeps stable UIDs, is never marked seen, and files sent copies."""

from __future__ import annotations

import mailbox
from pathlib import Path

from bot.sources.maildir_source import MaildirSource

RAW = (
    b"From: a@example.com\r\nTo: support@example.org\r\n"
    b"Message-ID: <m%d@example.com>\r\nSubject: hi\r\n\r\nbody\r\n"
)


def _deliver(path: Path, n: int) -> str:
    for sub in ("tmp", "new", "cur"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    return mailbox.Maildir(path).add(mailbox.MaildirMessage(RAW % n))


def test_uids_are_assigned_in_order_and_survive_reopening(tmp_path: Path) -> None:
    for n in range(3):
        _deliver(tmp_path, n)
    src = MaildirSource(tmp_path)
    assert src.new_uids(0) == [1, 2, 3]
    validity = src.uidvalidity()
    _deliver(tmp_path, 3)
    again = MaildirSource(tmp_path)
    assert again.uidvalidity() == validity
    assert again.new_uids(3) == [4]
    assert b"<m3@example.com>" in again.fetch([4])[4]


def test_fetch_does_not_mark_seen_and_answered_sets_r(tmp_path: Path) -> None:
    key = _deliver(tmp_path, 1)
    src = MaildirSource(tmp_path)
    [uid] = src.new_uids(0)
    src.fetch([uid])
    src.mark_processed([uid])
    assert "S" not in mailbox.Maildir(tmp_path).get_message(key).get_flags()
    src.flag_answered(src.uidvalidity(), uid, "<m1@example.com>")
    assert "R" in mailbox.Maildir(tmp_path).get_message(key).get_flags()


def test_sent_copy_is_found_by_message_id(tmp_path: Path) -> None:
    src = MaildirSource(tmp_path)
    assert src.sent_status("<m7@example.com>") is None
    src.append_sent(RAW % 7)
    assert src.sent_status("<m7@example.com>") == "sent"
    assert src.sent_status("<m8@example.com>") is None


def test_pending_sent_copy_is_confirmed_or_discarded(tmp_path: Path) -> None:
    src = MaildirSource(tmp_path)
    src.append_sent(RAW % 1, pending=True)
    src.append_sent(RAW % 2, pending=True)
    assert src.sent_status("<m1@example.com>") == "pending"
    src.confirm_sent("<m1@example.com>")
    assert src.sent_status("<m1@example.com>") == "sent"
    src.discard_pending("<m2@example.com>")
    assert src.sent_status("<m2@example.com>") is None
