"""The IMAP connection lost in the middle of a fetch: nothing half-stored, nothing lost, nothing twice.

Two ways to lose it, both with a backlog fetched in several batches:

- cut in the middle of a FETCH response (a TCP relay between the bot and
  Dovecot drops the connection half-way through one message's bytes in the
  second batch): deterministic, so the "batch in flight" is known;
- Dovecot kicks the session (``doveadm kick``) from another thread right
  after the first batch is committed, as an admin or a server restart
  would: the drop lands wherever the fetch is by then (usually while the
  next batch is being ingested, so the FETCH after it fails).

Either way the fetch fails as a whole for the batch in flight (none of its
rows committed), and the next fetch continues from the last committed UID,
so every message ends with exactly one ledger row and one draft.
"""

from __future__ import annotations

import contextlib
import socket
import threading

import pytest

from bot.fetch import fetch_once
from bot.services import Services
from bot.sources.imap_source import PROCESSED_FLAG
from bot.store import Inquiry, Reply
from tests.ingest.helpers import (
    SUPPORT,
    Ledger,
    append_many,
    flags,
    inquiries,
    message_id,
    services,
    wait_until,
)

BATCH = 50


class CuttingRelay:
    """A TCP relay to Dovecot's IMAP port that drops the connection inside the ``cut_at``-th message body.

    It counts ``BODY[] {`` (the start of each message's bytes in a FETCH
    response) in what the server sends, forwards a little of the
    ``cut_at``-th message, and then closes both sides with a reset.
    """

    MARK = b"BODY[] {"

    def __init__(self, host: str, port: int, cut_at: int) -> None:
        self.upstream = (host, port)
        self.cut_at = cut_at
        self.seen = 0
        self.cut = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        for sock in [self.listener, *self._sockets]:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = self.listener.accept()
                server = socket.create_connection(self.upstream)
                self._sockets += [client, server]
                threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
                threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, from_server: bool) -> None:
        tail = b""
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                if from_server and not self.cut.is_set():
                    window = tail + data
                    found = window.count(self.MARK)
                    if self.seen + found >= self.cut_at:
                        at = -1
                        for _ in range(self.cut_at - self.seen):
                            at = window.index(self.MARK, at + 1)
                        keep = max(0, at - len(tail) + len(self.MARK) + 2000)
                        dst.sendall(data[:keep])
                        self.cut.set()
                        for sock in (src, dst):  # shutdown also wakes the other direction's recv
                            sock.shutdown(socket.SHUT_RDWR)
                            sock.close()
                        return
                    self.seen += found
                    tail = window[-(len(self.MARK) - 1) :]
                dst.sendall(data)
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _check_failed_fetch_left_whole_batches(dovecot, ledger: Ledger, count: int) -> int:  # type: ignore[no-untyped-def]
    """After the failed fetch: whole batches only, each row with its draft; returns the rows committed."""
    committed = ledger.count(Inquiry)
    # With worker processes the batches overlap, so every batch may be committed before the link
    # drops while the last one is being flagged; the next fetch flags it.
    assert committed % BATCH == 0 and committed <= count, f"{committed} rows: a partial batch was committed"
    assert ledger.count(Reply) == committed
    assert sorted(r.uid for r in ledger.rows()) == list(range(1, committed + 1))
    if committed:
        [state] = ledger.folder_states()
        assert state.last_uid == committed
    # Only committed mail may carry the keyword (the drop may come before it is set).
    stored = {uid for uid, f in flags(dovecot).items() if PROCESSED_FLAG.decode() in f}
    assert stored <= set(range(1, committed + 1))
    return committed


def _resume_and_check(svc: Services, ledger: Ledger, count: int, committed: int, tag: str = "inq") -> None:
    """The next fetch picks up exactly where the last commit left off."""
    report = fetch_once(svc)
    assert report.fetched == count - committed
    assert dict(report.states) == ({"drafted": count - committed} if count > committed else {})
    assert fetch_once(svc).fetched == 0
    per_message = ledger.replies_per_message_id()
    assert set(per_message) == {message_id(n, tag) for n in range(count)}
    assert set(per_message.values()) == {1}
    assert ledger.count(Inquiry) == count


def test_connection_cut_inside_a_fetch_response_commits_no_part_of_that_batch(
    dovecot, tmp_config, ledger
) -> None:
    count = 150
    append_many(dovecot, inquiries(count))
    # Cut inside the 20th message of the second batch.
    relay = CuttingRelay(dovecot.host, dovecot.imap_port, cut_at=BATCH + 20)
    through_relay = services(tmp_config(imap={"batch_size": BATCH, "port": relay.port}))
    direct = services(tmp_config(imap={"batch_size": BATCH}))
    try:
        with pytest.raises(Exception) as failure:  # noqa: B017 - whatever imaplib raises for a dropped link
            fetch_once(through_relay)
        assert relay.cut.is_set()
        error = failure.value
        print(f"\ncut mid-FETCH: {type(error).__module__}.{type(error).__name__}: {error}")
        committed = _check_failed_fetch_left_whole_batches(dovecot, ledger, count)
        assert committed == BATCH, "the first batch, fetched before the cut, must be committed"
        # The ledger's folder is named by the configured server and port: resume through the relay.
        relay.cut_at = 10**9
        _resume_and_check(through_relay, ledger, count, committed)
    finally:
        relay.close()
        through_relay.close()
        direct.close()


def test_session_kicked_by_dovecot_during_a_backlog_fetch_resumes_from_the_last_commit(
    dovecot, tmp_config, ledger
) -> None:
    count = 150
    append_many(dovecot, inquiries(count))
    svc = services(tmp_config(imap={"batch_size": BATCH}, ingest={"processes": 2}))

    def kick_after_first_commit() -> None:
        # The first batch is committed: the bot is flagging it, or fetching or ingesting the next.
        wait_until(lambda: ledger.count(Inquiry) >= BATCH, 120, "the first committed batch", 0.01)
        dovecot.kick(SUPPORT)

    kicker = threading.Thread(target=kick_after_first_commit, daemon=True)
    kicker.start()
    try:
        with pytest.raises(Exception) as failure:  # noqa: B017 - whatever imaplib raises for a dropped link
            fetch_once(svc)
        kicker.join(30)
        committed = _check_failed_fetch_left_whole_batches(dovecot, ledger, count)
        assert committed >= BATCH
        print(
            f"\nkicked after {committed // BATCH} committed batch(es): "
            f"{type(failure.value).__module__}.{type(failure.value).__name__}: {failure.value}"
        )
        _resume_and_check(svc, ledger, count, committed)
    finally:
        svc.close()
