"""IMAP IDLE: fetch a new inquiry within a second of its arrival.

An :class:`IdleWatcher` thread keeps one connection in IDLE on the inquiry
folder. When the server announces new mail it leaves IDLE, fetches on that
same connection (no new login, which is most of the latency), and goes back
to IDLE. A dropped connection is reopened with exponential backoff. Servers
without IDLE are left to the worker's polling job, which also runs as the
periodic full check when IDLE is on.

Fetches from IDLE and from the polling job never overlap: both go through
one :class:`SerialRunner`, and a request that arrives while a fetch runs
makes that fetch run once more instead of being dropped.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable

from imapclient import IMAPClient

from bot import imap
from bot.config import Imap

log = logging.getLogger(__name__)

# Servers drop an IDLE after 30 minutes (RFC 2177); renew well before.
RENEW_SECONDS = 25 * 60
MAX_BACKOFF = 300.0


class SerialRunner:
    """Runs ``fn`` one call at a time; a call made meanwhile is coalesced into one more run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = False
        self._pending = False

    def run(self, fn: Callable[[], object]) -> bool:
        """Run ``fn`` now, or mark it pending if another run is in progress (returns False)."""
        with self._lock:
            if self._running:
                self._pending = True
                return False
            self._running = True
        try:
            while True:
                fn()
                with self._lock:
                    if not self._pending:
                        return True
                    self._pending = False
        finally:
            with self._lock:
                self._running = False


class IdleWatcher(threading.Thread):
    """Waits in IDLE and calls ``on_new(client)`` when mail arrives, until ``stop`` is set."""

    def __init__(
        self,
        cfg: Imap,
        on_new: Callable[[IMAPClient], object],
        stop: threading.Event,
        poll: float = 1.0,
    ) -> None:
        super().__init__(name="imap-idle", daemon=True)
        self.cfg, self.on_new, self.stop, self.poll = cfg, on_new, stop, poll
        self.supported: bool | None = None  # None until the server said
        self.connected = threading.Event()

    def run(self) -> None:
        backoff = 1.0
        while not self.stop.is_set():
            client = None
            try:
                client = imap.connect(self.cfg)
                if b"IDLE" not in client.capabilities():
                    self.supported = False
                    log.info("server has no IDLE; polling only", extra={"event": "idle_unsupported"})
                    return
                self.supported = True
                _keepalive(client)
                client.select_folder(self.cfg.folder)
                self.on_new(client)  # catch up on what arrived while we were away
                backoff = 1.0
                self._idle_loop(client)
            except Exception as exc:  # noqa: BLE001 - any failure: reconnect after a pause
                self.connected.clear()
                log.warning(
                    "IDLE connection lost (%s); reconnecting in %.0f s",
                    type(exc).__name__,
                    backoff,
                    extra={"event": "idle_reconnect"},
                )
                self.stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
            finally:
                imap.close(client)

    def _idle_loop(self, client: IMAPClient) -> None:
        while not self.stop.is_set():
            client.idle()
            self.connected.set()
            started = time.monotonic()
            news = False
            while not self.stop.is_set() and time.monotonic() - started < RENEW_SECONDS:
                asked = time.monotonic()
                responses = client.idle_check(timeout=self.poll)
                if any(_announces_mail(r) for r in responses):
                    news = True
                    break
                if not responses and time.monotonic() - asked < self.poll / 2:
                    # Woken with no line to read: the server closed the connection, and
                    # imapclient swallows that EOF. Leaving IDLE raises on a dead connection.
                    break
            client.idle_done()
            if news:
                self.on_new(client)


def _keepalive(client: IMAPClient) -> None:
    """TCP keepalive on the IDLE socket: a connection that died silently (a network cut, no close
    from the server) is noticed within a few minutes instead of at the 25-minute renewal."""
    sock = client.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 15), ("TCP_KEEPCNT", 4)):
        if hasattr(socket, name):  # Linux names; other systems keep their defaults
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)


def _announces_mail(response: tuple) -> bool:
    # (n, b"EXISTS") or (n, b"RECENT"); EXPUNGE and FETCH flag changes are not new mail.
    return len(response) >= 2 and response[1] in (b"EXISTS", b"RECENT")
