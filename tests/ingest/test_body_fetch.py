"""ImapSource.fetch against Dovecot gives what imapclient's fetch gave, and leaves the connection as it did.

Two connections on the same INBOX fetch the same UIDs, one with the code
ImapSource.fetch ran before fetch_bodies (:func:`reference_fetch`) and one with
fetch_bodies; the bodies and what each connection keeps of the server's
untagged responses must be the same. The mailbox holds every .eml of the
tests, the shared corpora, generated inquiries and messages whose bytes look
like IMAP; the UIDs asked for include ones that never existed and one
expunged between SEARCH and FETCH.
"""

from __future__ import annotations

import random

from imapclient import IMAPClient

from bot.sources.bodyfetch import fetch_bodies
from tests.bench_inquiries import bench_inquiries
from tests.ingest.helpers import REPO, SUPPORT, append_many, inquiries
from tests.ingest.test_body_fetch_responses import reference_fetch

CORPORA = REPO.parent / "shared" / "corpora"
# Not mail: the corpora's own notes and code (as in tests/test_corpora.py).
NOT_MAIL = frozenset({".md", ".rb", ".py", ".yml", ".yaml", ".json"})
LOOKS_LIKE_IMAP = [
    b"Subject: parens\r\n\r\n)\r\n* 3 FETCH (UID 9 BODY[] {5}\r\nhello)\r\n",
    b"Subject: literal\r\n\r\nends in a literal {123}\r\n{0}\r\n",
    b"Subject: tagged\r\n\r\nA0001 OK FETCH completed.\r\n* BYE bye\r\n+ more\r\n* 4 EXPUNGE\r\n",
    b"Subject: binary\r\n\r\nnul \x00 cr \r lf \n high \xff\xfe\x80",
    b"Subject: no final newline\r\n\r\n) UID 7)",
]


def every_kind_of_mail() -> list[bytes]:
    """The tests' .eml files, the shared corpora (Dovecot refuses empty ones), inquiries, IMAP look-alikes."""
    files = sorted((REPO / "tests").rglob("*.eml"))
    files += sorted(p for p in CORPORA.rglob("*") if p.is_file() and p.suffix.lower() not in NOT_MAIL)
    raws = [raw for raw in (p.read_bytes() for p in files) if raw]
    assert len(raws) > 1500, "the shared corpora were not found beside the checkout"
    return raws + bench_inquiries(21, 300) + LOOKS_LIKE_IMAP


def kept(client: IMAPClient) -> dict[str, list]:
    """The untagged responses the connection keeps for later commands, but RECENT.

    The server gives a message's \\Recent to one session only (RFC 3501), so the
    two sessions' RECENT counts differ whatever reads them; the scripted
    server's tests compare RECENT too.
    """
    return {typ: data for typ, data in client._imap.untagged_responses.items() if typ != "RECENT"}


def selected(dovecot) -> IMAPClient:  # type: ignore[no-untyped-def]
    client = dovecot.imap(SUPPORT)
    client.select_folder("INBOX")
    return client


def test_fetch_bodies_gives_imapclients_result_for_every_kind_of_mail(dovecot) -> None:  # type: ignore[no-untyped-def]
    mail = every_kind_of_mail()
    append_many(dovecot, mail)
    old, new, other = selected(dovecot), selected(dovecot), selected(dovecot)
    try:
        uids = old.search(["ALL"])
        assert len(uids) == len(mail)
        gone = uids[5::97]  # holes in the UID range
        other.delete_messages(gone)
        other.expunge()
        rng = random.Random(4)
        asked = [*uids, max(uids) + 1, max(uids) + 500]
        batches = [asked[start : start + 100] for start in range(0, len(asked), 100)]
        batches += [rng.sample(asked, 37) + [uids[0], uids[0]] for _ in range(10)]  # any order, repeats
        for batch in batches:
            expected = reference_fetch(old, batch)
            got = fetch_bodies(new, batch)
            assert list(got.items()) == list(expected.items())
            assert kept(new) == kept(old)
        assert set(fetch_bodies(new, asked)) == set(uids) - set(gone)
    finally:
        for client in (old, new, other):
            client.logout()


def test_a_message_expunged_between_search_and_fetch_comes_back_as_before(dovecot) -> None:  # type: ignore[no-untyped-def]
    append_many(dovecot, inquiries(30) + LOOKS_LIKE_IMAP)
    old, new, other = selected(dovecot), selected(dovecot), selected(dovecot)
    try:
        uids = old.search(["ALL"])
        assert new.search(["ALL"]) == uids
        # Another session expunges one, flags others and delivers more while the batch is in hand.
        other.delete_messages([uids[3]])
        other.expunge()
        other.add_flags(uids[5:8], [b"\\Flagged"])
        other.append("INBOX", inquiries(1, tag="late")[0])
        expected = reference_fetch(old, uids)
        got = fetch_bodies(new, uids)
        assert list(got.items()) == list(expected.items())
        # Dovecot answers ``BODY[] NIL`` for it and announces the EXPUNGE after: imapclient made that None.
        assert got[uids[3]] is None and len(got) == len(uids)
        assert kept(new) == kept(old)
    finally:
        for client in (old, new, other):
            client.logout()


def test_the_connection_serves_search_store_move_and_idle_after_fetch_bodies(dovecot) -> None:  # type: ignore[no-untyped-def]
    append_many(dovecot, inquiries(12))
    client, other = selected(dovecot), selected(dovecot)
    try:
        uids = client.search(["ALL"])
        other.add_flags(uids[:2], [b"$Seen-Elsewhere"])  # unsolicited FETCH FLAGS for the next command
        assert len(fetch_bodies(client, uids)) == 12
        stored = client.add_flags(uids[:3], [b"$HelpdeskStored"])
        assert set(stored) == set(uids[:3])
        assert client.search(["KEYWORD", "$HelpdeskStored"]) == uids[:3]
        client.move(uids[:3], "Processed")
        assert client.search(["ALL"]) == uids[3:]
        client.idle()
        dovecot.deliver(SUPPORT, inquiries(1, tag="new")[0])
        responses = client.idle_check(timeout=10)
        client.idle_done()
        assert any(r[1] == b"EXISTS" for r in responses)
        assert list(fetch_bodies(client, [max(uids) + 1])) == [max(uids) + 1]
    finally:
        client.logout()
        other.logout()


def test_fetching_nothing_sends_nothing(dovecot) -> None:  # type: ignore[no-untyped-def]
    with dovecot.imap(SUPPORT) as client:
        client.select_folder("INBOX")
        tags = client._imap.tagnum
        assert fetch_bodies(client, []) == reference_fetch(client, []) == {}
        assert client._imap.tagnum == tags
