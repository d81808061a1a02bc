"""A UIDVALIDITY change (server migration, rebuilt index) re-syncs without answering anything twice.

Dovecot is made to rebuild the inbox's UID list for real: every message
gets a new UID under a new UIDVALIDITY. The next fetch must read them all
again, recognise each handled one by its Message-ID (a ``duplicate`` ledger
row, no draft) and still draft the one message that is genuinely new.
"""

from __future__ import annotations

from bot.fetch import fetch_once
from bot.store import Inquiry, InquiryState, Reply
from tests.ingest.helpers import SUPPORT, deliver_many, inquiries, inquiry, message_id, services


def test_uidvalidity_change_resyncs_marks_handled_mail_duplicate_and_drafts_only_new_mail(
    dovecot, tmp_config, ledger
) -> None:
    deliver_many(dovecot, inquiries(5, tag="before"))
    svc = services(tmp_config())
    try:
        first = fetch_once(svc)
        assert dict(first.states) == {"drafted": 5}
        [before] = ledger.folder_states()

        new_validity = dovecot.force_uidvalidity_change(SUPPORT)
        assert new_validity != before.uidvalidity
        dovecot.deliver(SUPPORT, inquiry(99, language="es", topic="dose", tag="after"))

        resync = fetch_once(svc)
        assert resync.uidvalidity_changed
        assert resync.fetched == 6
        assert dict(resync.states) == {"duplicate": 5, "drafted": 1}

        assert fetch_once(svc).fetched == 0, "the re-synced folder was fetched again"
    finally:
        svc.close()

    [after] = ledger.folder_states()
    assert (after.uidvalidity, after.last_uid) == (new_validity, 6)

    # One draft per Message-ID, old and new.
    per_message = ledger.replies_per_message_id()
    assert per_message == {**{message_id(n, "before"): 1 for n in range(5)}, message_id(99, "after"): 1}
    assert ledger.count(Reply) == 6

    # The renumbered copies are in the ledger as duplicates of the first rows, with the reason.
    originals = {r.message_id: r.id for r in ledger.rows(Inquiry.uidvalidity == before.uidvalidity)}
    duplicates = ledger.rows(Inquiry.state == InquiryState.DUPLICATE)
    assert len(duplicates) == 5
    for row in duplicates:
        assert row.uidvalidity == new_validity
        assert row.reasons == [
            f"ledger/duplicate: Message-ID already stored as inquiry {originals[row.message_id]}"
        ]
    [new] = ledger.rows(Inquiry.message_id == message_id(99, "after"))
    assert (new.uidvalidity, new.state, new.language) == (new_validity, "drafted", "es")
