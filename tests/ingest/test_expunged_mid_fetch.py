"""A message another session expunges while the bot is fetching is simply gone, never a crash."""

from __future__ import annotations

from bot.fetch import fetch_once
from bot.sources.imap_source import ImapSource
from tests.ingest.helpers import SUPPORT, deliver_many, inquiries, services


def test_a_message_expunged_between_search_and_fetch_is_left_out_and_the_rest_is_stored(
    dovecot, tmp_config, ledger, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    deliver_many(dovecot, inquiries(6, tag="exp"))
    search = ImapSource.new_uids

    def search_then_lose_one(self: ImapSource, last_uid: int) -> list[int]:
        uids = search(self, last_uid)
        if uids:  # someone reading the same mailbox deletes the third message now
            with dovecot.imap(SUPPORT) as other:
                other.select_folder("INBOX")
                other.delete_messages([uids[2]])
                other.expunge()
        return uids

    monkeypatch.setattr(ImapSource, "new_uids", search_then_lose_one)
    svc = services(tmp_config())
    try:
        report = fetch_once(svc)
    finally:
        svc.close()
    assert report.fetched == 5 and dict(report.states) == {"drafted": 5}
    assert ledger.count() == 5
